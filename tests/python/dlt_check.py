#!/usr/bin/env python3
"""Compares the tables a dlt pipeline loaded into DuckDB with the server's records.

usage: dlt_check.py FILE.duckdb SCHEMA EXPECTED.json   (run with the wheel's test venv)

EXPECTED.json: {stream: [record, ...]}, the server's records as the connector delivers them.
Table and column names are mapped with dlt's own naming convention (snake_case). For each stream
the table must hold exactly the server's ids, each once, and every top-level scalar field of each
record must equal its column: strings equal, numbers equal as floats, booleans equal, null as
NULL (a column dlt never created because every value was null counts as NULL). Objects and arrays
are not compared (dlt keeps them as JSON columns).

Prints {"problems": [...], "fields": N, "rows": {table: count}} and exits 0; exits 1 only when it
cannot read its inputs.
"""
import json
import sys

import duckdb
from dlt.common.normalizers.naming.snake_case import NamingConvention


def same(want, have):
    if want is None:
        return have is None
    if isinstance(want, bool) or isinstance(have, bool):
        return want == have
    if isinstance(want, (int, float)):
        try:
            return float(have) == float(want)
        except (TypeError, ValueError):
            return False
    return want == have


def table_rows(con, schema, table):
    cols = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ? order by ordinal_position", [schema, table]).fetchall()]
    if not cols:
        return None, []
    rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
    return cols, [dict(zip(cols, r)) for r in rows]


def main(db, schema, expected_path):
    naming = NamingConvention()
    expected = json.load(open(expected_path))
    con = duckdb.connect(db, read_only=True)
    problems, fields, counts = [], 0, {}
    for stream, records in sorted(expected.items()):
        table = naming.normalize_table_identifier(stream)
        cols, rows = table_rows(con, schema, table)
        if cols is None:
            if records:
                problems.append(f"{table}: no such table, the server has {len(records)} records")
            continue
        counts[table] = len(rows)
        by_id = {}
        for r in rows:
            key = str(r.get("id"))
            if key in by_id:
                problems.append(f"{table}: id {key} twice")
            by_id[key] = r
        want_ids = {str(r["id"]) for r in records}
        if set(by_id) != want_ids:
            problems.append(f"{table}: ids differ: missing {sorted(want_ids - set(by_id))[:10]}, "
                            f"extra {sorted(set(by_id) - want_ids)[:10]}")
        for rec in records:
            row = by_id.get(str(rec["id"]))
            if row is None:
                continue
            for field, value in rec.items():
                if isinstance(value, (dict, list)) or field == "id":
                    continue
                fields += 1
                column = naming.normalize_identifier(field)
                have = row.get(column)
                if not same(value, have):
                    problems.append(f"{table} id {rec['id']} {column}: {have!r} != the "
                                    f"server's {value!r}")
    print(json.dumps({"problems": problems[:50], "fields": fields, "rows": counts}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

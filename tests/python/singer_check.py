#!/usr/bin/env python3
"""Prints, as one JSON object {stream_or_table: [ids...]}, what a Singer target loaded.

usage: singer_check.py jsonl DIR                   files target-jsonl wrote into DIR
       singer_check.py duckdb FILE.duckdb [SCHEMA]  tables with an `id` column in a DuckDB file
                                                    (run with the duckdb venv's python)
       singer_check.py duckdb-rows FILE.duckdb SCHEMA [TABLE...]
                                                    every row: {table: {id: {column: value}}}

jsonl: target-jsonl 0.1.4 writes `<stream>-<YYYYmmddTHHMMSS>.jsonl` (`<stream>.jsonl` with
"do_timestamp_file": false) and appends to it; every file of a stream is merged, oldest first.
duckdb: target-duckdb 0.8.0 writes table `<stream>` (lower-cased, `.`/`-` -> `_`, and a stream
`a-b` becomes table `b`) into schema `default_target_schema`. With SCHEMA the keys are table
names of that schema; without it every schema is read and a table name that occurs in more than
one schema is keyed `schema.table`.

Ids are strings (JSON numbers are printed the way JSON writes them), sorted, duplicates kept:
a duplicate in the output is a duplicate row/line in the target.

duckdb-rows: every row of the tables of SCHEMA that have an `id` column (or of the TABLEs
named), keyed by id (as above), each row an object {column: value} with every column, the
column names as DuckDB has them (target-duckdb lower-cases them). Values: VARCHAR as a string,
DOUBLE/HUGEINT/INTEGER as a JSON number, BOOLEAN as true/false, NULL as null, a JSON column as
the JSON value it holds (parsed: target-duckdb stores objects and arrays as json.dumps text), a
TIMESTAMP/DATE as its ISO text, a DECIMAL as its text. A table with two rows of one id (or a row
without an id) exits 1: keyed output would hide it.
"""
import json
import os
import re
import sys

JSONL_NAME = re.compile(r"^(?P<stream>.+?)(?:-\d{8}T\d{6})?\.jsonl$")


def _id_text(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value)


def _sort_key(text):
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def jsonl_ids(folder):
    if not os.path.isdir(folder):
        raise SystemExit(f"singer_check: {folder} is not a folder")
    out = {}
    for name in sorted(os.listdir(folder)):
        m = JSONL_NAME.match(name)
        if not m:
            continue
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    raise SystemExit(f"singer_check: {path}:{n}: not JSON: {e}")
                if not isinstance(rec, dict) or "id" not in rec:
                    raise SystemExit(f"singer_check: {path}:{n}: record has no `id`: {line[:300].rstrip()}")
                out.setdefault(m.group("stream"), []).append(_id_text(rec["id"]))
    return {k: sorted(v, key=_sort_key) for k, v in sorted(out.items())}


def duckdb_ids(path, schema=None):
    import duckdb  # only in the duckdb venv

    if not os.path.exists(path):
        raise SystemExit(f"singer_check: {path} does not exist")
    con = duckdb.connect(path, read_only=True)
    try:
        q = ("select table_schema, table_name from information_schema.columns "
             "where table_catalog = current_database() and lower(column_name) = 'id'")
        args = []
        if schema is not None:
            q += " and table_schema = ?"
            args.append(schema)
        found = sorted(set(con.execute(q, args).fetchall()))
        found = [(s, t) for s, t in found if not t.startswith("tmp_")]  # target-duckdb's batch tables
        names = [t for _, t in found]
        out = {}
        for s, t in found:
            key = t if schema is not None or names.count(t) == 1 else f"{s}.{t}"
            sid = s.replace('"', '""')
            tid = t.replace('"', '""')
            rows = con.execute(f'select "id" from "{sid}"."{tid}"').fetchall()
            out[key] = sorted((_id_text(r[0]) for r in rows if r[0] is not None), key=_sort_key)
        return out
    finally:
        con.close()


def _json_value(value, data_type):
    import datetime
    import decimal

    if value is None:
        return None
    if data_type == "JSON" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return value


def duckdb_rows(path, schema, tables=None):
    import duckdb  # only in the duckdb venv

    if not os.path.exists(path):
        raise SystemExit(f"singer_check: {path} does not exist")
    con = duckdb.connect(path, read_only=True)
    try:
        cols = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? "
            "order by table_name, ordinal_position", [schema]).fetchall()
        by_table = {}
        for t, c, ty in cols:
            by_table.setdefault(t, []).append((c, ty))
        if tables:
            missing = [t for t in tables if t not in by_table]
            if missing:
                raise SystemExit(f"singer_check: no table {', '.join(missing)} in schema {schema}")
            wanted = list(tables)
        else:
            wanted = [t for t, cs in sorted(by_table.items())
                      if not t.startswith("tmp_") and any(c.lower() == "id" for c, _ in cs)]
        out = {}
        sid = schema.replace('"', '""')
        for t in wanted:
            columns = by_table[t]
            names = ", ".join('"' + c.replace('"', '""') + '"' for c, _ in columns)
            tid = t.replace('"', '""')
            rows = {}
            id_at = [c.lower() for c, _ in columns].index("id")
            for r in con.execute(f'select {names} from "{sid}"."{tid}"').fetchall():
                key = _id_text(r[id_at])
                if key is None:
                    raise SystemExit(f"singer_check: {schema}.{t} has a row without an id: {r!r}"[:400])
                if key in rows:
                    raise SystemExit(f"singer_check: {schema}.{t} has two rows with id {key}")
                rows[key] = {c: _json_value(v, ty) for (c, ty), v in zip(columns, r)}
            out[t] = {k: rows[k] for k in sorted(rows, key=_sort_key)}
        return out
    finally:
        con.close()


def main(argv):
    if len(argv) == 2 and argv[0] == "jsonl":
        result = jsonl_ids(argv[1])
    elif len(argv) in (2, 3) and argv[0] == "duckdb":
        result = duckdb_ids(argv[1], argv[2] if len(argv) == 3 else None)
    elif len(argv) >= 3 and argv[0] == "duckdb-rows":
        result = duckdb_rows(argv[1], argv[2], argv[3:])
    else:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

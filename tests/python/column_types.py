#!/usr/bin/env python3
"""Lists the columns of a DuckDB database by their DuckDB types, and the text columns whose values
would all read as a number, a date or a date and time (what a typed table should not have).

usage: column_types.py DB SCHEMA CATALOG [dates-are-text]    (run with a python that has duckdb)

CATALOG is the connector's discovered catalog (an Airbyte CATALOG line or a Singer catalog): a
field whose schema has a `$comment` (identifiers, codes of digits) is text by design and is not
counted; with `dates-are-text`, neither is a `format: date` field nor a zoneless date-time (for a
Singer loader: target-duckdb has no date type, and Singer's date-time is RFC 3339 with a zone, so
a zoneless one is declared as text there). Prints one JSON object: {"types": {"table.column": "BIGINT", ...},
"text_but_typed": ["table.column: 3 values, e.g. '12'", ...], "custom": {table: {record id: {column:
value as text}}}} (the custom field columns of the contacts, deals and accounts tables, each cast
to text; null values left out). Column names are compared as
loaders make them (lower case, other characters as `_`).
"""
import json
import re
import sys


def norm(name):
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def text_by_design(path, dates_are_text=False):
    """{(table, column)} of the fields declared as text on purpose."""
    out = set()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = [json.loads(text)]  # a Singer catalog
    except json.JSONDecodeError:  # Airbyte messages, one a line
        docs = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    for doc in docs:
        streams = (doc.get("catalog") or {}).get("streams") or doc.get("streams") or []
        for s in streams:
            name = s.get("name") or s.get("stream")
            schema = s.get("json_schema") or s.get("schema") or {}
            for field, fs in (schema.get("properties") or {}).items():
                if not isinstance(fs, dict):
                    continue
                date = dates_are_text and (fs.get("format") == "date"
                                           or fs.get("airbyte_type") == "timestamp_without_timezone")
                if field == "id" or "$comment" in fs or date:
                    out.add((norm(name), norm(field)))
    return out


def main(argv):
    if len(argv) not in (3, 4) or argv[3:] not in ([], ["dates-are-text"]):
        raise SystemExit(__doc__)
    db, schema, catalog = argv[:3]
    import duckdb

    skip = text_by_design(catalog, argv[3:] == ["dates-are-text"])
    con = duckdb.connect(db, read_only=True)
    types, typed_text = {}, []
    try:
        cols = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_catalog = current_database() order by 1, 2",
            [schema],
        ).fetchall()
        for table, column, kind in cols:
            types[f"{table}.{column}"] = kind
            if kind != "VARCHAR" or column.startswith("_") or (norm(table), norm(column)) in skip:
                continue
            q = (f'select count(*), count(*) filter (where try_cast(c as double) is not null '
                 f'or try_cast(c as timestamptz) is not null or try_cast(c as date) is not null), '
                 f'min(c) from (select "{column}" as c from "{schema}"."{table}") '
                 f"where c is not null and c <> ''")
            n, typed, example = con.execute(q).fetchone()
            if n and n == typed:
                typed_text.append(f"{table}.{column}: {n} values, e.g. {example!r}")
        custom = {}
        for table in ("contacts", "deals", "accounts"):
            cols = [c.split(".", 1)[1] for c in types if c.startswith(f"{table}.custom_field_")]
            if not cols:
                continue
            q = ", ".join(f'cast("{c}" as varchar)' for c in cols)
            rows = con.execute(f'select cast(id as varchar), {q} from "{schema}"."{table}"').fetchall()
            custom[table] = {row[0]: {c: v for c, v in zip(cols, row[1:]) if v is not None} for row in rows}
    finally:
        con.close()
    print(json.dumps({"types": types, "text_but_typed": typed_text, "custom": custom}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])

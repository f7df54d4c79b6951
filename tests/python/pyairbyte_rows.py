#!/usr/bin/env python3
"""Prints what PyAirbyte's DuckDB cache holds, as one JSON object:
{table: {"ids": [ids...], "since": [ids written at or after SINCE_MS]}}.

usage: pyairbyte_rows.py CACHE.duckdb SINCE_MS      (run with the pyairbyte venv's python)

A table is every table with PyAirbyte's `_airbyte_extracted_at` column (one per stream; its own
`_airbyte_state`/`_airbyte_streams` tables have none). `_airbyte_extracted_at` is the RECORD's
`emitted_at`, and a merge (PyAirbyte's write method for streams with a primary key) replaces a
row whole, so the rows "since" a moment are exactly the records read after it. Ids are strings,
sorted, duplicates kept: a duplicate in the output is a duplicate row in the cache.
"""
import json
import os
import sys


def _sort_key(text):
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    path, since = argv[0], argv[1]
    if not os.path.exists(path):
        raise SystemExit(f"pyairbyte_rows: {path} does not exist")
    try:
        since_ms = int(since)
    except ValueError:
        raise SystemExit(f"pyairbyte_rows: SINCE_MS must be milliseconds since the epoch, not {since!r}")
    import duckdb  # only in the pyairbyte venv

    con = duckdb.connect(path, read_only=True)
    try:
        found = con.execute(
            "select distinct table_schema, table_name from information_schema.columns "
            "where table_catalog = current_database() and column_name = '_airbyte_extracted_at' "
            "order by 1, 2"
        ).fetchall()
        out = {}
        for schema, table in found:
            q = f'select cast(id as varchar), epoch_ms(_airbyte_extracted_at) from "{schema}"."{table}"'
            rows = con.execute(q).fetchall()
            out[table] = {
                "ids": sorted((r[0] for r in rows), key=_sort_key),
                "since": sorted((r[0] for r in rows if r[1] >= since_ms), key=_sort_key),
            }
    finally:
        con.close()
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

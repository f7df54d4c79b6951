#!/usr/bin/env python3
"""Prints, as JSON {table: [ids…]}, what a Singer target loaded.

usage: loaded_ids.py jsonl DIR              (target-jsonl's <stream>-<timestamp>.jsonl files)
       loaded_ids.py duckdb FILE SCHEMA     (target-duckdb's tables; run with its venv's python)
"""
import json, os, re, sys

def jsonl(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        m = re.match(r"(.+)-\d{8}T\d{6}\.jsonl$", name)
        if not m:
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            out.setdefault(m.group(1), []).extend(str(json.loads(l)["id"]) for l in f if l.strip())
    return out

def duckdb_ids(path, schema):
    import duckdb
    con = duckdb.connect(path, read_only=True)
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.columns where table_schema = ? and column_name = 'id'", [schema]).fetchall()]
    return {t: [str(r[0]) for r in con.execute(f'select id from "{schema}"."{t}"').fetchall()] for t in tables}

if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["jsonl"] and len(a) == 2:
        print(json.dumps(jsonl(a[1])))
    elif a[:1] == ["duckdb"] and len(a) == 3:
        print(json.dumps(duckdb_ids(a[1], a[2])))
    else:
        sys.exit(__doc__)

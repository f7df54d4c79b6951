"""Checks every RECORD of an Airbyte read against its stream's discovered JSON schema (Draft 7).

Usage: python validate_records.py DISCOVER_OUTPUT READ_OUTPUT
Prints {"stream": records checked, ...} as JSON and exits 0 when every record is valid; prints the
first problems and exits 1 otherwise. Used by the replay test (tests/acserver/tests/replay.rs).
"""
import json
import sys

import jsonschema


def lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                yield json.loads(line)


def main():
    catalog = next(m for m in lines(sys.argv[1]) if m.get("type") == "CATALOG")
    validators = {}
    for s in catalog["catalog"]["streams"]:
        jsonschema.Draft7Validator.check_schema(s["json_schema"])
        validators[s["name"]] = jsonschema.Draft7Validator(s["json_schema"])
    counts, problems = {}, []
    for m in lines(sys.argv[2]):
        if m.get("type") != "RECORD":
            continue
        stream, data = m["record"]["stream"], m["record"]["data"]
        counts[stream] = counts.get(stream, 0) + 1
        for e in validators[stream].iter_errors(data):
            path = ".".join(str(p) for p in e.absolute_path)
            problems.append(f"{stream} id={data.get('id')!r} {path}: {e.message}")
    if problems:
        print("\n".join(problems[:30]))
        print(f"{len(problems)} problems in {sum(counts.values())} records", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()

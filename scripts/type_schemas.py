#!/usr/bin/env python3
"""Types the fields of src/api/schemas.json from the recorded answers: the source of truth of the
types the connector declares and converts to (src/rules/values.rs reads them from the schema).

Evidence: the API reference's example answers (tests/fixtures/api-examples) and the records of the
Postman collections' recorded answers (tests/fixtures/postman-examples); for a field they show no
value of, the test server's (tests/fixtures/test-server-values.json: one value of each form each
field takes in the bundled account, whose fields follow the reference's field lists; rewritten by
`--sample URL`). For each top-level field of a stream the values seen decide its type, by these
rules, in order:

- identifiers stay strings: `id`, a name ending in `id`/`Id`/`ID`, a name the record also has a
  link for (`"contact": "3"` beside `links.contact`), and the names in IDENTIFIERS; their schema
  is `string` (a numeric identifier is quoted when converted, as the primary key is), marked by
  IDENTIFIER in `$comment` (a check of the loaded tables knows them by it);
- names in TEXT are `string` too, marked by DIGITS (codes whose digits are not a number: zip
  codes, order numbers, IP addresses);
- every value seen an integer (a JSON integer or a string of digits without a leading zero):
  `integer`; with a decimal among them: `number`. 0/1 flags are integers too (the API's own form);
- every value a date `YYYY-MM-DD`: `string` with `format: date`;
- every value a date and time with a zone (`2023-09-01T09:39:31-05:00`): `format: date-time`,
  `airbyte_type: timestamp_with_timezone`; every value one without (`2023-09-01 09:39:31`):
  `format: date-time`, `airbyte_type: timestamp_without_timezone` (the time as sent: no zone is
  guessed); the two mixed: the form most values take (a value in the other form does not fit:
  it is kept whole, never shifted);
- one type per field, so that loaders that pick a column by the type (PyAirbyte) need no guess:
  `links` is an object (the API's empty `[]` goes out as `{}`), a field sent as text or a number
  is text (numbers quoted), one sent as a boolean or a 0/1 number is a boolean;
- nulls, `""`, MySQL zero dates (`0000-00-00 …`, sent out as null) and dates with a slip (DT_SLIP)
  say nothing; a field with any other value (text, a boolean, an object) is left as it is.

Every typed field may be null. Each fixed stream also declares ORIGINALS, the column that keeps a
value that did not fit its type, whole. Usage: `python3 scripts/type_schemas.py` rewrites
src/api/schemas.json; `--check` exits 1 (naming the streams) when the file differs from what the
rules give; `--sample http://127.0.0.1:PORT [KEY]` rewrites the test server's values from a running
`ac-test-server --seed 42 --contacts 300 --rps 0`.
"""
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "src/api/schemas.json"
FIXTURES = ROOT / "tests/fixtures"
ORIGINALS = "_ac_originals"
SAMPLE = FIXTURES / "test-server-values.json"
IDENTIFIER = "identifier: kept as text"
DIGITS = "a code of digits, not a number: kept as text"

# Foreign keys the name alone does not show (the record has no link for them in the examples).
IDENTIFIERS = {"account", "assignee", "automation", "bounce", "campaign", "code", "connection",
               "contact", "customer", "customerAccount", "d_id", "deal", "dealGroup",
               "dealTasktype", "ecomOrder", "field", "group", "lastblock", "list", "message",
               "nextTask", "organization", "owner", "reference_id", "relid", "role", "stage",
               "tag", "user", "userGroup", "dataId"}
# Digits that are not numbers: a leading zero or a length counts there.
TEXT = {"zip", "phone", "orderNumber", "val", "version", "ip", "ip4", "ip4Sub", "ip4Unsub", "ip4_last", "geoZip",
        "geoIp4", "geoTzOffset"}

INT = re.compile(r"^-?(0|[1-9]\d*)$")
DEC = re.compile(r"^-?(0|[1-9]\d*)\.\d+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DT_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
DT_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
# A date and time with a slip (`2019-09-06T2:10:00-05:00`, a one-digit hour, in the reference):
# meant as one, so it does not keep its field from being typed; it will not fit, and be kept whole.
DT_SLIP = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
LINKS = {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}}
ORIGINALS_SCHEMA = {
    "type": ["object", "null"],
    "additionalProperties": True,
    "description": "The values of this record that did not fit their declared type, whole, as the API sent them (field name to value); their columns are null.",
}


def kind(v):
    """The evidence one value gives: int, dec, date, dt_zone, dt_local, other; None for none."""
    if v is None or v == "" or (isinstance(v, str) and v.startswith("0000-00-00")):
        return None
    if isinstance(v, bool):
        return "other"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "dec"
    if not isinstance(v, str):
        return "other"
    for name, rx in [("int", INT), ("dec", DEC), ("date", DATE), ("dt_zone", DT_ZONE), ("dt_local", DT_LOCAL)]:
        if rx.match(v):
            return name
    return None if DT_SLIP.match(v) else "other"


def evidence():
    """stream -> field -> [values], and stream -> the link names its records carry."""
    values = defaultdict(lambda: defaultdict(list))
    links = defaultdict(set)

    def take(stream, record):
        for k, v in record.items():
            values[stream][k].append(v)
        if isinstance(record.get("links"), dict):
            links[stream].update(record["links"])

    manifest = json.loads((FIXTURES / "api-examples/manifest.json").read_text())
    for f in manifest["fixtures"].values():
        body = json.loads((FIXTURES / "api-examples" / f["file"]).read_text())
        for stream, key in f.get("streams", {}).items():
            for r in body.get(key) or []:
                take(stream, r)
    postman = json.loads((FIXTURES / "postman-examples/records.json").read_text())
    for stream, recs in postman["records"].items():
        for r in recs:
            take(stream, r["record"])
    sample = json.loads(SAMPLE.read_text()) if SAMPLE.exists() else {}
    for stream, fields in sample.items():
        for name, forms in fields.items():
            if not {kind(v) for v in values[stream][name]} - {None}:
                values[stream][name].extend(forms.values())
    return values, links


def sample(url, key):
    """One value of each form (kind) each field of each stream takes on the server at `url`."""
    import urllib.request
    from extract_api_examples import streams
    out = {}
    for name, path, list_key, _page in streams():
        req = urllib.request.Request(f"{url}/api/3/{path}?limit=100", headers={"Api-Token": key})
        with urllib.request.urlopen(req) as answer:
            records = json.load(answer).get(list_key) or []
        fields = out.setdefault(name, {})
        for r in records:
            for field, v in r.items():
                k = kind(v)
                if k not in (None, "other"):
                    fields.setdefault(field, {}).setdefault(k, v)
    SAMPLE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def scalar(field):
    """True for a field of strings or numbers (an object or a list is not a key or a code)."""
    kinds = field.get("type") or [t.get("type") for t in field.get("anyOf", [])]
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return bool(kinds) and set(kinds) <= {"string", "number", "integer", "null"}


def identifier(name, links):
    return (name == "id" or name.lower().endswith("id") or name in IDENTIFIERS
            or name in links)


def typed(kinds, majority=None):
    """The schema of a field whose values gave `kinds` (`majority`: the commonest); None to leave
    the field as it is."""
    if not kinds or "other" in kinds:
        return None
    if kinds <= {"int"}:
        return {"type": ["integer", "null"]}
    if kinds <= {"int", "dec"}:
        return {"type": ["number", "null"]}
    if kinds == {"date"}:
        return {"type": ["string", "null"], "format": "date"}
    if kinds == {"dt_zone"} or kinds == {"dt_zone", "dt_local"} and majority == "dt_zone":
        return {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
    if kinds == {"dt_local"} or kinds == {"dt_zone", "dt_local"}:
        return {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_without_timezone"}
    return None


def untyped(schema):
    """A field's schema without what this script decides (so that running it twice is stable)."""
    s = {k: v for k, v in schema.items() if k not in ("format", "airbyte_type", "$comment")}
    if s.get("type") == ["integer", "null"]:
        s["type"] = ["string", "null"]
    return s


def one_type(name, field):
    """The field with one type where it allows several (see the rules); None when it has one."""
    kinds = {t.get("type") for t in field.get("anyOf", [])} | set(
        field["type"] if isinstance(field.get("type"), list) else [])
    kinds.discard("null")
    if len(kinds) < 2 or kinds & {"object", "array"}:
        return None
    if "string" in kinds:
        return {"type": ["string", "null"]}
    if kinds == {"boolean", "number"}:
        return {"type": ["boolean", "null"]}
    return None


def retype(schemas, values, links):
    out = {}
    for stream, schema in schemas.items():
        props = dict(schema["properties"])
        props.pop(ORIGINALS, None)
        for name, field in props.items():
            if name == "id" or not isinstance(field, dict):
                continue
            field = props[name] = untyped(field)
            if name == "links":  # the record's link map, whatever a few examples put there
                props[name] = LINKS
                continue
            seen = values.get(stream, {}).get(name, [])
            if identifier(name, links.get(stream, set())) or name in TEXT:
                if scalar(field):
                    why = IDENTIFIER if name not in TEXT else DIGITS
                    props[name] = {"type": ["string", "null"], "$comment": why}
                continue
            kinds = [kind(v) for v in seen if kind(v) is not None]
            t = typed(set(kinds), max(set(kinds), key=kinds.count) if kinds else None)
            t = one_type(name, field) if t is None else t
            if t is not None:
                props[name] = {**untyped(field), **t} if "anyOf" not in field else t
        props[ORIGINALS] = ORIGINALS_SCHEMA
        out[stream] = {**schema, "properties": props}
    return out


def main():
    if sys.argv[1:2] == ["--sample"]:
        sample(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "test-key")
        return
    schemas = json.loads(SCHEMAS.read_text())
    values, links = evidence()
    new = retype(schemas, values, links)
    text = json.dumps(new, indent=1) + "\n"
    if "--check" in sys.argv:
        differ = [s for s in new if new[s] != schemas.get(s)]
        if differ:
            print(f"src/api/schemas.json differs from the type rules in: {', '.join(differ)}; "
                  "run python3 scripts/type_schemas.py", file=sys.stderr)
            sys.exit(1)
        return
    SCHEMAS.write_text(text)
    n = sum(1 for s in new.values() for f in s["properties"].values()
            if isinstance(f, dict) and (f.get("format") or "integer" in f.get("type", []) or "number" in f.get("type", [])))
    print(f"{len(new)} streams, {n} typed fields")


if __name__ == "__main__":
    main()

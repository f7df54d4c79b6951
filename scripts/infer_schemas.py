#!/usr/bin/env python3
"""Drafts src/api/schemas.json from sample records (JSON object: stream -> list of records).

Used once to draft the schemas from the test server's data, which follows the API's documented
examples; the result is reviewed and committed. Rules: `id` is a string; every other field may
also be null (the API sends null in most fields); numbers are "number" (the API mixes ints and
floats); `links` is a map or an empty list; objects and arrays are described recursively.
"""
import json, sys

def kind(v):
    if v is None: return "null"
    if isinstance(v, bool): return "boolean"
    if isinstance(v, (int, float)): return "number"
    if isinstance(v, str): return "string"
    if isinstance(v, list): return "array"
    return "object"

def infer(values):
    types = {kind(v) for v in values}
    s = {}
    objs = [v for v in values if isinstance(v, dict)]
    arrs = [v for v in values if isinstance(v, list)]
    if objs:
        keys = sorted({k for o in objs for k in o})
        s["properties"] = {k: infer([o[k] for o in objs if k in o]) for k in keys}
        s["additionalProperties"] = True
    items = [x for a in arrs for x in a]
    if arrs:
        s["items"] = infer(items) if items else {}
    if types <= {"null"}:
        types.add("string")  # only nulls seen: the API sends strings in such fields
    types.add("null")
    order = ["object", "array", "string", "number", "boolean", "null"]
    s = {"type": [t for t in order if t in types], **s}
    return s

def main():
    samples = json.load(open(sys.argv[1]))
    out = {}
    for stream, recs in sorted(samples.items()):
        if stream.startswith("custom_object:"): continue
        schema = infer(recs)
        schema["type"] = "object"
        schema["properties"]["id"] = {"type": "string"}
        if "links" in schema["properties"]:
            schema["properties"]["links"] = {"type": ["object", "array", "null"], "additionalProperties": {"type": ["string", "null"]}}
        out[stream] = {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
    json.dump(out, sys.stdout, indent=1, sort_keys=False)

main()

#!/usr/bin/env python3
"""Copies the records of the Postman collection's recorded answers into
tests/fixtures/postman-examples/records.json.

Development tool, not run by `make test`: the fixture it writes is committed. The source is the
Postman collection of the same public repository as the OpenAPI copy (GitHub
`api-evangelist/activecampaign`, the two exports in FILES). Their saved responses are of two
kinds: placeholders generated from a schema (`"<string>"`, `{}`), which say nothing about the
values and are skipped, and the API reference's recorded examples (the answer's text as a JSON
string, or wrapped as `{"examples": {"Result": {"value": "<answer text>"}}}`), which are kept. They hold more
answers than the OpenAPI copy's GET examples: single records (`GET /deals/{id}`) and the records
that create and update calls answer with (`PUT /dealTasks/{id}` has `"outcomeId": 91`).
Usage:

    git -C <clone> show HEAD:collections/activecampaign-v3.postman_collection.json > c.json
    git -C <clone> show HEAD:postman/activecampaign-v3.postman_collection.json > p.json
    python3 scripts/extract_postman_examples.py c.json p.json <commit>

For every stream of src/api/streams.rs it takes each recorded record under the stream's list key
(a list) or its singular (one record). Examples that are not valid JSON as published get the
small repairs of `repair()` (missing or trailing commas, unquoted keys), counted per record in
`repairs`; an example that still does not parse is listed under `unparsed`.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/postman-examples/records.json"
sys.path.insert(0, str(ROOT / "scripts"))
from extract_api_examples import streams  # noqa: E402

# The two Postman exports of the reference in the repository, in the order given on the command line.
FILES = ["collections/activecampaign-v3.postman_collection.json",
         "postman/activecampaign-v3.postman_collection.json"]

FIXES = [
    (re.compile(r'("|\d|true|false|null|\}|\])(\s*\n\s*")'), r"\1,\2"),  # missing comma
    (re.compile(r",(\s*[}\]])"), r"\1"),  # trailing comma
    (re.compile(r'(?m)^(\s*)([A-Za-z_]\w*):'), r'\1"\2":'),  # unquoted key
]


def repair(text):
    """(value, repairs) of an example's text; value None when it does not parse."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError:
        pass
    done = []
    for pattern, fixed in FIXES:
        text, n = pattern.subn(fixed, text)
        if n:
            done.append(f"/{pattern.pattern}/ -> {fixed!r} ({n}x)")
        try:
            return json.loads(text), done
        except json.JSONDecodeError:
            continue
    return None, done


def singular(key):
    """The key of one record for a list key (`dealTasks` -> `dealTask`)."""
    for end, one in [("ies", "y"), ("sses", "ss"), ("Meta", "Metum"), ("Data", "Datum"), ("s", "")]:
        if key.endswith(end):
            return key[: -len(end)] + one
    return key


def answers(items, trail=""):
    """(method, path, example name, text) of every recorded example answer."""
    for it in items:
        if "item" in it:
            yield from answers(it["item"], trail)
            continue
        req = it.get("request", {})
        url = req.get("url", {})
        path = "/".join(url.get("path", [])) if isinstance(url, dict) else str(url)
        for resp in it.get("response", []):
            text = resp.get("body") or ""
            method, name = req.get("method", "GET"), resp.get("name") or it.get("name", "")
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                yield method, path, name, text
                continue
            if isinstance(body, str):  # the answer's text, saved as a JSON string
                yield method, path, name, body
            elif isinstance(body, dict) and isinstance(body.get("examples"), dict):
                for ex_name, ex in body["examples"].items():
                    if isinstance(ex, dict) and isinstance(ex.get("value"), str):
                        yield method, path, ex_name, ex["value"]
            elif isinstance(body, dict):
                yield method, path, name, text


def placeholder(record):
    """True for a record generated from a schema rather than recorded."""
    return "<string>" in json.dumps(record) or "<integer>" in json.dumps(record)


def main():
    *files, commit = sys.argv[1:]
    keys = {}
    for name, _path, key, _page in streams():
        keys.setdefault(key, []).append(name)
    out = {"source": {"repository": "api-evangelist/activecampaign",
                      "files": FILES, "commit": commit,
                      "what": "records of the recorded example answers (any method) saved in the collection"},
           "unparsed": [], "records": {}}
    seen = set()
    found = [a for f in files for a in answers(json.load(open(f))["item"])]
    for method, path, ex_name, text in found:
        value, repairs = repair(text)
        where = f"{method} /{path} ({ex_name})"
        if not isinstance(value, dict):
            out["unparsed"].append(where)
            continue
        for key, names in keys.items():
            found = value.get(key)
            recs = found if isinstance(found, list) else []
            one = value.get(singular(key))
            if isinstance(one, dict):
                recs = recs + [one]
            for r in recs:
                if not isinstance(r, dict) or placeholder(r):
                    continue
                mark = (key, json.dumps(r, sort_keys=True))
                if mark in seen:
                    continue
                seen.add(mark)
                for name in names:
                    out["records"].setdefault(name, []).append(
                        {"from": where, "repairs": repairs, "record": r})
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    n = sum(len(v) for v in out["records"].values())
    print(f"{n} records of {len(out['records'])} streams, {len(out['unparsed'])} unparsed, in {OUT}")


if __name__ == "__main__":
    main()

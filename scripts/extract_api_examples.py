#!/usr/bin/env python3
"""Copies the API reference's documented example answers into tests/fixtures/api-examples/.

Development tool, not run by `make test`: the fixtures it writes are committed. The
source is the public OpenAPI copy of ActiveCampaign's API reference, GitHub repository
`api-evangelist/activecampaign`, file `openapi/_original/activecampaign-v3.json` ("generated from
documentation"); each GET's 200 answer carries the reference's example, recorded from
ActiveCampaign's servers. Usage:

    git -C <clone of api-evangelist/activecampaign> show HEAD:openapi/_original/activecampaign-v3.json > oas.json
    python3 scripts/extract_api_examples.py oas.json <commit>

For every stream of src/api/streams.rs it takes the example of its list path, or, when that path
has none, an example of another GET (e.g. /campaigns/{id}/links) whose answer holds the stream's
list key as a list. Five examples are not valid JSON as published; the small repairs are listed in
manifest.json beside each fixture, and nothing else is changed.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/api-examples"

# path -> [(broken text, repaired text)], applied to the published example text.
REPAIRS = {
    "/accounts": [
        ('"links": [\n                "notes"', '"links": {\n                "notes"'),
        ('accountContacts"],', 'accountContacts"},'),
    ],
    "/activities": [
        ('    id: "4"\n  }],\n\tactivities', '    id: "4"\n  }}],\n\tactivities'),
        (re.compile(r'(?m)^(\s*)(\w+):'), r'\1"\2":'),
    ],
    "/dealActivities": [(re.compile(r"\A"), "{")],
    "/ecomOrders": [(re.compile(r",(\s*)\]"), r"\1]")],
    "/webhooks": [(re.compile(r",(\s*)\]"), r"\1]")],
}


def streams():
    """(name, path, list key, page key) of every fixed stream."""
    src = (ROOT / "src/api/streams.rs").read_text()
    out = []
    for block in re.findall(r"Row \{(.*?)\n    \}", src, re.S):
        get = lambda k: (re.search(k + r': (?:Some\()?"(\w+)"', block) or [None, None])[1]
        out.append((get("name"), get("path"), get("list_key"), get("page_key") or get("list_key")))
    return out


def examples(oas):
    """(path, example name, text) of every GET's 200 JSON example."""
    for path, ops in oas["paths"].items():
        get = ops.get("get") or {}
        content = get.get("responses", {}).get("200", {}).get("content", {})
        for name, ex in content.get("application/json", {}).get("examples", {}).items():
            yield path, name, ex.get("value")


def parse(path, text):
    """The example as JSON, with the listed repairs; (value, repairs applied)."""
    if not isinstance(text, str):
        return text, []
    done = []
    for broken, fixed in REPAIRS.get(path, []):
        if isinstance(broken, str):
            if broken in text:
                text = text.replace(broken, fixed)
                done.append(f"{broken!r} -> {fixed!r}")
        else:
            text, n = broken.subn(fixed, text)
            if n:
                done.append(f"/{broken.pattern}/ -> {fixed!r} ({n}x)")
    return json.loads(text), done


def main():
    oas = json.load(open(sys.argv[1]))
    commit = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    parsed = []
    for path, name, text in examples(oas):
        try:
            value, repairs = parse(path, text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            parsed.append((path, name, value, repairs))
    manifest = {"source": {"repository": "api-evangelist/activecampaign",
                           "file": "openapi/_original/activecampaign-v3.json", "commit": commit,
                           "what": "the example of each GET's 200 answer (API reference)"},
                "fixtures": {}}
    for f in OUT.glob("*.json"):
        f.unlink()
    for name, path, key, page_key in streams():
        served = "/" + path
        direct = [p for p in parsed if p[0] == served and isinstance(p[2].get(page_key), list)]
        other = [p for p in parsed if p[0] != served and isinstance(p[2].get(page_key), list) and p[2][page_key]]
        pick = (direct or other or [None])[0]
        if pick is None or served in manifest["fixtures"]:
            continue
        src_path, ex_name, value, repairs = pick
        file = path.replace("/", "_") + ".json"
        (OUT / file).write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n")
        manifest["fixtures"][served] = {"file": file, "from": f"GET {src_path}", "example": ex_name,
                                        "repairs": repairs}
    for extra in ["/users/me", "/customObjects/schemas"]:
        for src_path, ex_name, value, repairs in parsed:
            if src_path == extra:
                file = extra.strip("/").replace("/", "_") + ".json"
                (OUT / file).write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n")
                manifest["fixtures"][extra] = {"file": file, "from": f"GET {src_path}",
                                               "example": ex_name, "repairs": repairs}
                break
    # The streams each fixture feeds, with their documented records: what the replay test expects.
    for name, path, key, page_key in streams():
        fixture = manifest["fixtures"].get("/" + path)
        if not fixture:
            continue
        body = json.loads((OUT / fixture["file"]).read_text())
        recs = body.get(key)
        if isinstance(recs, list) and recs:
            fixture.setdefault("streams", {})[name] = key
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest['fixtures'])} fixtures in {OUT}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# make demo: a full sync of a sample account served by the bundled test server on loopback.
set -euo pipefail
COMPONENT=$1 SERVER=$2 OUT=$3
. "$(dirname "$0")/lib.sh"
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
start_server "$SERVER" "$OUT/server-requests.jsonl" --contacts 1500 --api-key demo-key --rps 5
cat > "$OUT/config.json" <<JSON
{"api_url": "$BASE_URL", "api_key": "demo-key", "requests_per_second": 5, "account_timezone": "-05:00"}
JSON
run() { wasmtime run -S http --dir "$OUT::/data" "$COMPONENT" "$@"; }
echo "== test server: $BASE_URL (1,500 contacts, 5 requests/s like a real account)"
echo "== spec";     run spec > "$OUT/spec.json";          head -c 200 "$OUT/spec.json"; echo " ..."
echo "== check";    run check --config /data/config.json | tee "$OUT/check.json"
echo "== discover"; run discover --config /data/config.json > "$OUT/catalog.json"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['catalog']['streams']; print(len(c), 'streams:', ', '.join(s['name'] for s in c[:8]), '...')" "$OUT/catalog.json"
# The discovered catalog, every stream a full refresh: what a runner passes to read (its custom
# field columns are filled; a read without a catalog has none).
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['catalog']['streams']; json.dump({'streams': [{'stream': s, 'sync_mode': 'full_refresh', 'destination_sync_mode': 'overwrite'} for s in c]}, open(sys.argv[2], 'w'))" "$OUT/catalog.json" "$OUT/configured_catalog.json"
echo "== read (every stream, full refresh, the discovered catalog)"
run read --config /data/config.json --catalog /data/configured_catalog.json > "$OUT/records.jsonl" 2> "$OUT/read.log" || { tail -5 "$OUT/read.log"; exit 1; }
tail -n 200 "$OUT/read.log" | sed -n '/^stream /,$p'
echo
echo "== records per stream (from $OUT/records.jsonl)"
summarize "$OUT/records.jsonl"
echo
echo "== custom field columns (typed, one per field: docs/typed-tables.md)"
python3 - "$OUT/records.jsonl" "$OUT/catalog.json" <<'PY'
import json, sys
schemas = {s["name"]: s["json_schema"]["properties"] for s in json.load(open(sys.argv[2]))["catalog"]["streams"]}
shown = set()
for line in open(sys.argv[1]):
    if not line.startswith('{"type":"RECORD"'):
        continue
    rec = json.loads(line)["record"]
    stream, data = rec["stream"], rec["data"]
    cols = {k: v for k, v in data.items() if k.startswith("custom_field_") and v is not None}
    if stream in shown or stream not in ("contacts", "deals", "accounts") or len(cols) < 2:
        continue
    shown.add(stream)
    print(f"{stream} {data['id']}: " + ", ".join(f"{schemas[stream][k].get('title', k)} = {json.dumps(v, ensure_ascii=False)}" for k, v in list(cols.items())[:4]))
PY
echo
echo "Output: $OUT/records.jsonl (Airbyte messages), $OUT/read.log (progress), $OUT/catalog.json (discovered),"
echo "        $OUT/server-requests.jsonl (what the server saw)"

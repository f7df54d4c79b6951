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
echo "== read (every stream, full refresh)"
run read --config /data/config.json > "$OUT/records.jsonl" 2> "$OUT/read.log" || { tail -5 "$OUT/read.log"; exit 1; }
tail -n 200 "$OUT/read.log" | sed -n '/^stream /,$p'
echo
echo "== records per stream (from $OUT/records.jsonl)"
summarize "$OUT/records.jsonl"
echo
echo "Output: $OUT/records.jsonl (Airbyte messages), $OUT/read.log (progress), $OUT/catalog.json,"
echo "        $OUT/server-requests.jsonl (what the server saw)"

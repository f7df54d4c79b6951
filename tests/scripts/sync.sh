#!/usr/bin/env bash
# make sync CONFIG=...: read a real account into OUT (records.jsonl, state.json, read.log).
# A later run with the same OUT continues from the saved state.
set -euo pipefail
COMPONENT=$1 CONFIG=$2 OUT=$3
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
cp "$CONFIG" "$OUT/config.json"; chmod 600 "$OUT/config.json"
run() { wasmtime run -S http --dir "$OUT::/data" "$COMPONENT" "$@"; }
run check --config /data/config.json
run discover --config /data/config.json > "$OUT/catalog.json"
python3 - "$OUT/catalog.json" "$OUT/configured_catalog.json" <<'PY'
import json, sys
streams = json.load(open(sys.argv[1]))["catalog"]["streams"]
conf = {"streams": [{"stream": s, "sync_mode": "incremental" if "incremental" in s["supported_sync_modes"] else "full_refresh",
                     "destination_sync_mode": "append"} for s in streams]}
json.dump(conf, open(sys.argv[2], "w"))
PY
STATE_ARGS=()
[ -s "$OUT/state.json" ] && STATE_ARGS=(--state /data/state.json)
status=0
run read --config /data/config.json --catalog /data/configured_catalog.json "${STATE_ARGS[@]}" > "$OUT/records.jsonl" 2> "$OUT/read.log" || status=$?
python3 - "$OUT/records.jsonl" "$OUT/state.json" <<'PY'
import json, sys
last = {}
try:
    old = json.load(open(sys.argv[2]))
    for m in old: last[m["stream"]["stream_descriptor"]["name"]] = m
except Exception: pass
for line in open(sys.argv[1]):
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("type") == "STATE": last[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
json.dump(list(last.values()), open(sys.argv[2], "w"))
PY
sed -n '/^stream /,$p' "$OUT/read.log"
echo "state saved to $OUT/state.json; records in $OUT/records.jsonl"
exit $status

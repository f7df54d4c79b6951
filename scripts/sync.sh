#!/usr/bin/env bash
# make sync CONFIG=config.json [OUT=out]: the main job against a real account, no extra tools.
# Writes OUT/sync/streams/<stream>.jsonl (records appended run after run), OUT/sync/state.json
# (the last state of every stream) and OUT/sync/read.log. A later run with the same OUT
# continues incrementally from the saved state.
set -euo pipefail
COMPONENT=$1 CONFIG=$2 OUT=$3
mkdir -p "$OUT/streams"; OUT=$(cd "$OUT" && pwd)
cp "$CONFIG" "$OUT/config.json"; chmod 600 "$OUT/config.json"
run() { wasmtime run -S http --dir "$OUT::/data" "$COMPONENT" "$@"; }
run check --config /data/config.json > "$OUT/check.json" || { cat "$OUT/check.json"; exit 1; }
run discover --config /data/config.json > "$OUT/catalog.json"
python3 - "$OUT/catalog.json" "$OUT/configured_catalog.json" <<'PY'
import json, sys
streams = json.load(open(sys.argv[1]))["catalog"]["streams"]
conf = {"streams": [{"stream": s, "sync_mode": "incremental" if "incremental" in s["supported_sync_modes"] else "full_refresh",
                     "destination_sync_mode": "append_dedup"} for s in streams]}
json.dump(conf, open(sys.argv[2], "w"))
PY
STATE_ARGS=()
if [ -s "$OUT/state.json" ]; then
  echo "mode: incremental, from the state saved by the previous sync ($OUT/state.json)"
  STATE_ARGS=(--state /data/state.json)
else
  echo "mode: full (no saved state in $OUT)"
fi
status=0
run read --config /data/config.json --catalog /data/configured_catalog.json "${STATE_ARGS[@]}" > "$OUT/messages.jsonl" 2> "$OUT/read.log" || status=$?
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
state_path = os.path.join(out, "state.json")
states = {}
if os.path.exists(state_path) and os.path.getsize(state_path):
    for m in json.load(open(state_path)):
        states[m["stream"]["stream_descriptor"]["name"]] = m
files, counts = {}, {}
with open(os.path.join(out, "messages.jsonl")) as f:
    for line in f:
        try: m = json.loads(line)
        except ValueError: continue
        if m.get("type") == "RECORD":
            s = m["record"]["stream"]
            if s not in files: files[s] = open(os.path.join(out, "streams", s + ".jsonl"), "a")
            files[s].write(json.dumps(m["record"]["data"], ensure_ascii=False) + "\n")
            counts[s] = counts.get(s, 0) + 1
        elif m.get("type") == "STATE":
            states[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
for f in files.values(): f.close()
tmp = state_path + ".tmp"
json.dump(list(states.values()), open(tmp, "w")); os.replace(tmp, state_path)
print(f"records written this run: {sum(counts.values())} in {len(counts)} streams (files in {out}/streams/)")
PY
sed -n '/^stream /,$p' "$OUT/read.log"
echo "state saved to $OUT/state.json"
exit $status

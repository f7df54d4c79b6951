#!/usr/bin/env bash
# make sync CONFIG=config.json [OUT=out]: the main job against a real account, no extra tools.
# Writes OUT/sync/streams/<stream>.jsonl (records appended run after run, with the columns of
# docs/files.md), OUT/sync/state.json (the last state of every stream, saved as the read goes:
# an interrupted sync continues on its rerun), and per run N OUT/sync/messages-N.jsonl and
# OUT/sync/read-N.log (read.log: the latest). A later run with the same OUT continues
# incrementally from the saved state.
set -euo pipefail
COMPONENT=$1 CONFIG=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/streams"; OUT=$(cd "$OUT" && pwd)
cp "$CONFIG" "$OUT/config.json"; chmod 600 "$OUT/config.json"
run() { "${WASMTIME:-wasmtime}" run -S http --dir "$OUT::/data" "$COMPONENT" "$@"; }
run check --config /data/config.json > "$OUT/check.json" || { cat "$OUT/check.json"; exit 1; }
run discover --config /data/config.json > "$OUT/catalog.json"
# Every stream incremental where it can be, deletions tracked (append_dedup).
python3 - "$OUT/catalog.json" "$OUT/configured_catalog.json" <<'PY'
import json, sys
streams = json.load(open(sys.argv[1]))["catalog"]["streams"]
conf = {"streams": [{"stream": s, "sync_mode": "incremental" if "incremental" in s["supported_sync_modes"] else "full_refresh",
                     "destination_sync_mode": "append_dedup"} for s in streams]}
json.dump(conf, open(sys.argv[2], "w"))
PY
# This run's number: one more than the last run's messages file.
RUN=0
for f in "$OUT"/messages-*.jsonl; do
  n=${f##*/messages-}; n=${n%.jsonl}
  if [[ $n =~ ^[0-9]+$ ]] && (( 10#$n > RUN )); then RUN=$((10#$n)); fi
done
RUN=$((RUN + 1))
STATE_ARGS=()
if [ -s "$OUT/state.json" ]; then
  echo "mode: incremental, from the state saved by the previous sync ($OUT/state.json)"
  STATE_ARGS=(--state /data/state.json)
else
  echo "mode: full (no saved state in $OUT)"
fi
LOG="$OUT/read-$RUN.log"
# The sink saves records and the state as they come and ignores Ctrl-C, so an interrupted read
# keeps everything up to its last STATE.
set +e
run read --config /data/config.json --catalog /data/configured_catalog.json "${STATE_ARGS[@]}" 2> "$LOG" \
  | python3 "$HERE/sync_sink.py" "$OUT" "$RUN" > "$OUT/sink-$RUN.txt"
codes=("${PIPESTATUS[@]}")
set -e
sed -n '/^stream /,$p' "$LOG"
cat "$OUT/sink-$RUN.txt"; cat "$OUT/sink-$RUN.txt" >> "$LOG"; rm -f "$OUT/sink-$RUN.txt"
ln -sf "read-$RUN.log" "$OUT/read.log"
echo "state saved to $OUT/state.json"
[ "${codes[1]}" = 0 ] || { echo "the sink failed (exit ${codes[1]}): see $LOG" >&2; exit 1; }
exit "${codes[0]}"

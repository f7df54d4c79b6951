# Shared helpers for the demo, sync and bench scripts.

# start_server SERVER LOGFILE [ARGS...]: starts the test server on a free loopback port, sets
# SERVER_PID and BASE_URL, and stops it when the calling script exits.
start_server() {
  local bin=$1 log=$2; shift 2
  local ready; ready=$(mktemp)
  "$bin" --port 0 --log "$log" "$@" >"$ready" 2>"$ready.err" &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$ready"; then break; fi
    sleep 0.1
  done
  BASE_URL=$(sed -n 's/^listening on //p' "$ready")
  if [ -z "$BASE_URL" ]; then echo "the test server did not start:"; cat "$ready.err"; exit 1; fi
  rm -f "$ready" "$ready.err"
}

# summarize OUTPUT_JSONL: records per stream, and the failed streams.
summarize() {
  python3 - "$1" <<'PY'
import json, sys, collections
counts = collections.Counter(); failed = {}; states = 0
for line in open(sys.argv[1]):
    try: m = json.loads(line)
    except ValueError: continue
    t = m.get("type")
    if t == "RECORD": counts[m["record"]["stream"]] += 1
    elif t == "STATE": states += 1
    elif t == "TRACE" and m["trace"].get("type") == "ERROR":
        e = m["trace"]["error"]; failed[e.get("stream_descriptor", {}).get("name", "(run)")] = e["message"]
print(f"{'stream':<36}{'records':>10}")
for s, n in sorted(counts.items()): print(f"{s:<36}{n:>10}")
print(f"{'TOTAL':<36}{sum(counts.values()):>10}   ({len(counts)} streams with records, {states} STATE messages)")
for s, m in failed.items(): print(f"FAILED {s}: {m}")
PY
}

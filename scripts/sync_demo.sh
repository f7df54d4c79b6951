#!/usr/bin/env bash
# make sync-demo: `make sync` twice against the bundled test server, with some records changed in
# between: the first sync is full, the second incremental from the state the first left.
set -euo pipefail
COMPONENT=$1 SERVER=$2 OUT=$3
. "$(dirname "$0")/lib.sh"
rm -rf "$OUT"; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
start_server "$SERVER" "$OUT/server-requests.jsonl" --contacts 1000 --api-key demo-key --rps 5
echo "{\"api_url\": \"$BASE_URL\", \"api_key\": \"demo-key\"}" > "$OUT/config.json"
echo "== sync 1"
bash "$(dirname "$0")/sync.sh" "$COMPONENT" "$OUT/config.json" "$OUT/sync"
echo
echo "== the account changes: 5 contacts and 2 deals updated, 3 contacts added"
curl -fsS -H "Api-Token: demo-key" "$BASE_URL/__admin/change?stream=contacts&touch=5&insert=3" >/dev/null
curl -fsS -H "Api-Token: demo-key" "$BASE_URL/__admin/change?stream=deals&touch=2" >/dev/null
echo "== sync 2"
bash "$(dirname "$0")/sync.sh" "$COMPONENT" "$OUT/config.json" "$OUT/sync"

#!/usr/bin/env bash
# make bench [CONTACTS=20000] [LATENCIES=300,1000] [RATE=5] [BIG_CONTACTS=100000]
set -euo pipefail
exec python3 "$(dirname "$0")/bench.py" "$@"

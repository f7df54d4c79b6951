#!/usr/bin/env bash
# make bench [CONTACTS=20000] [SMALL_CONTACTS=4000] [LATENCIES=300,1000] [JITTER_MS=150] [RATE=5] [BIG_CONTACTS=100000] [ONLY=word,...] [WHEEL=dist/….whl]
set -euo pipefail
exec python3 "$(dirname "$0")/bench.py" "$@"

#!/usr/bin/env bash
# Creates the Python environments the ecosystem tests use, under <repo>/.venv/, once: Airbyte's
# protocol models, target-jsonl and target-duckdb (three environments: the Singer targets pin
# conflicting versions of jsonschema). Rebuilds one only when its requirements file changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=${PYTHON:-python3}
for name in airbyte jsonl duckdb; do
  req="$here/requirements-$name.txt"
  dir="$root/.venv/$name"
  want=$(sha256sum "$req" | cut -c1-16)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$want" ]; then
    continue
  fi
  echo "python env $name: installing $(tr '\n' ' ' < "$req" | cut -c1-60)…"
  rm -rf "$dir"
  "$PY" -m venv "$dir" || { echo "cannot create a Python venv at $dir (is python3-venv installed?)" >&2; exit 1; }
  if ! "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"; then
    echo "pip could not install $req into $dir" >&2
    exit 1
  fi
  echo "$want" > "$dir/.stamp"
done
echo "python envs ready in $root/.venv (airbyte, jsonl, duckdb)"

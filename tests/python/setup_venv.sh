#!/usr/bin/env bash
# Creates the Python environments the ecosystem tests use, under <repo>/.venv/:
#   .venv/airbyte  requirements-airbyte.txt  airbyte-protocol-models (pydantic 1)
#   .venv/jsonl    requirements-jsonl.txt    target-jsonl (singer-python 5.8, jsonschema 2.6)
#   .venv/duckdb   requirements-duckdb.txt   target-duckdb (jsonschema 4, duckdb 1.0.0)
#   .venv/meltano  requirements-meltano.txt  Meltano 4.4.1 (the ecosystem test's `meltano run`)
#   .venv/pyairbyte requirements-pyairbyte.txt PyAirbyte (`airbyte` 0.71.3, pydantic 2, duckdb 1.4)
#   .venv/singertools requirements-singertools.txt singer-tools 0.4.1 (`singer-check-tap`; it pins
#                  attrs 16.3.0 and jsonschema 2.6.0, so it shares an environment with nothing)
#   .venv/cdk      requirements-cdk.txt      airbyte-cdk 7.39.1 and pytest (the standard source
#                  tests, tests/airbyte_standard/)
#   .venv/csv      requirements-csv.txt      meltanolabs-target-csv 0.5.0 (Meltano SDK: validates
#                                            every record against its SCHEMA; jsonschema 4 for the
#                                            replay test's Draft 7 check)
# target-jsonl pins jsonschema==2.6.0 and target-duckdb needs jsonschema>=3.2.0, so the two
# targets cannot share an environment (see README.md). Meltano and PyAirbyte get one each too:
# PyAirbyte brings pydantic 2 and duckdb 1.4, the protocol-models env pydantic 1, target-duckdb
# duckdb 1.0, and Meltano must stay out of the way of the plugins it runs.
#
# Idempotent: an environment is (re)built only when it is missing or when its requirements file,
# the Python it was built with or this script's pip options changed (stamp: <env>/.stamp).
# Prints one line. Exits non-zero, saying why, when python or pip fails.
# PYTHON=/path/to/python3.11 picks the interpreter (default: python3).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venvs="$root/.venv"
PY=${PYTHON:-python3}
ENVS=(airbyte jsonl duckdb meltano pyairbyte singertools cdk csv)
PIP_OPTS=(install --quiet --disable-pip-version-check --no-input --retries 2 --timeout 60)

die() { echo "setup_venv: $*" >&2; exit 1; }

pyexe=$(command -v "$PY" 2>/dev/null) || die "no '$PY' on PATH (set PYTHON=/path/to/python3.11)"
pyver=$("$pyexe" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) \
  || die "'$pyexe' does not run"
case $pyver in 3.9.*|3.1[0-9].*) ;; *) die "Python $pyver at $pyexe is too old or unknown: need 3.9-3.13 (3.11 tested)";; esac

stamp_of() { # requirements content + interpreter + pip options
  { cat "$here/requirements-$1.txt"; echo "$pyexe $pyver ${PIP_OPTS[*]}"; } | sha256sum | cut -c1-16
}
fresh() { [ -x "$venvs/$1/bin/python" ] && [ "$(cat "$venvs/$1/.stamp" 2>/dev/null)" = "$(stamp_of "$1")" ]; }

stale=()
for name in "${ENVS[@]}"; do
  [ -f "$here/requirements-$name.txt" ] || die "missing $here/requirements-$name.txt"
  fresh "$name" || stale+=("$name")
done
if [ ${#stale[@]} -eq 0 ]; then
  echo "python envs up to date in $venvs (${ENVS[*]})"
  exit 0
fi

mkdir -p "$venvs"
# One builder at a time (two `make test` in parallel would otherwise race on the same folder).
if command -v flock >/dev/null; then
  exec 9>"$venvs/.setup.lock"
  flock 9
fi

built=()
for name in "${stale[@]}"; do
  fresh "$name" && continue          # built by another process while we waited for the lock
  dir="$venvs/$name"
  req="$here/requirements-$name.txt"
  rm -rf "$dir"
  "$pyexe" -m venv "$dir" >/dev/null 2>"$venvs/.setup-$name.log" \
    || die "cannot create a venv at $dir with $pyexe (Debian: apt-get install python3-venv): $(tail -3 "$venvs/.setup-$name.log")"
  if ! "$dir/bin/python" -m pip "${PIP_OPTS[@]}" -r "$req" >"$venvs/.setup-$name.log" 2>&1; then
    tail -15 "$venvs/.setup-$name.log" >&2
    die "pip could not install $req into $dir (full log: $venvs/.setup-$name.log); the env stays unstamped and is rebuilt on the next run"
  fi
  if ! "$dir/bin/python" -m pip check >>"$venvs/.setup-$name.log" 2>&1; then
    tail -5 "$venvs/.setup-$name.log" >&2
    die "pip check found broken requirements in $dir (pins in $req)"
  fi
  stamp_of "$name" > "$dir/.stamp"
  rm -f "$venvs/.setup-$name.log"
  built+=("$name")
done
if [ ${#built[@]} -eq 0 ]; then
  echo "python envs up to date in $venvs (${ENVS[*]}; built by a parallel run)"
else
  echo "python envs: built ${built[*]}; all of ${ENVS[*]} ready in $venvs (Python $pyver)"
fi

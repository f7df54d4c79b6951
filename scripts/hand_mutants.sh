#!/usr/bin/env bash
# The ten rule mutants of an earlier audit that cargo-mutants' own operators don't make (changed
# constants, dropped margins): each is applied to a copy of the crate, the native unit tests run,
# and the mutant counts as caught only if a test fails. Prints the failing tests per mutant.
# Usage: hand_mutants.sh [target-dir]   (exit 1 if any mutant is missed or no longer applies)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$(realpath -m "${1:-$root/target/hand-mutants}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Only what the library's unit tests need: the crate's sources and manifest.
cp -r "$root/src" "$root/Cargo.toml" "$root/Cargo.lock" "$work/"
[ -d "$root/wit" ] && cp -r "$root/wit" "$work/"
# A one-crate workspace: the copy must not pull in the test server.
sed -i 's|^members = .*|members = ["."]|' "$work/Cargo.toml"

# name ;; file ;; exact text ;; replacement   (each text must occur exactly once in its file)
mutants=(
  'StreamState::saw: at < m -> at <= m ;; src/documents/state.rs ;; Some(m) if at < m => {} ;; Some(m) if at <= m => {}'
  'finish_pass: p < c -> p <= c ;; src/documents/state.rs ;; Some(c) if p < c => {} ;; Some(c) if p <= c => {}'
  'limiter SAFETY_MARGIN 0.03 -> 0 ;; src/http/limiter.rs ;; SAFETY_MARGIN: f64 = 0.03; ;; SAFETY_MARGIN: f64 = 0.0;'
  'no one-day server-filter margin ;; src/engine/task.rs ;; base.map(|b| b.plus_seconds(-SERVER_FILTER_MARGIN_S).to_rfc3339()) ;; base.map(|b| b.to_rfc3339())'
  'server filter ignores lookback_window_seconds ;; src/engine/task.rs ;; .map(|c| c.plus_seconds(-config.lookback_window_seconds.max(job.def.lookback_s))) ;; .map(|c| c.plus_seconds(-job.def.lookback_s))'
  'pass start = Date without the 5 s margin ;; src/engine/run.rs ;; date.plus_seconds(-elapsed_s - PASS_START_MARGIN_S) ;; date.plus_seconds(-elapsed_s)'
  'pass start = Date without the elapsed-time margin ;; src/engine/run.rs ;; date.plus_seconds(-elapsed_s - PASS_START_MARGIN_S) ;; date.plus_seconds(-PASS_START_MARGIN_S)'
  'pass start = Date without either margin ;; src/engine/run.rs ;; date.plus_seconds(-elapsed_s - PASS_START_MARGIN_S) ;; date.plus_seconds(0 * elapsed_s)'
  'lookback boundary >= -> > ;; src/documents/state.rs ;; at >= c.plus_seconds(-lookback_s) ;; at > c.plus_seconds(-lookback_s)'
  'pass-start cap >= -> > ;; src/documents/state.rs ;; Some(s) if p >= s => { ;; Some(s) if p > s => {'
  'limiter window 1 s -> 2 s (our starts counted) ;; src/http/limiter.rs ;; .filter(|&&t| t + SECOND + ARRIVAL_SLACK_NS > start && t <= hi) ;; .filter(|&&t| t + 2 * SECOND + ARRIVAL_SLACK_NS > start && t <= hi)'
  'limiter window 1 s -> 2 s (pause length) ;; src/http/limiter.rs ;; let window_end = start + ARRIVAL_SLACK_NS + SECOND; ;; let window_end = start + ARRIVAL_SLACK_NS + 2 * SECOND;'
  'offset hours limit 14 -> 23 ;; src/rules/datetime.rs ;; (0..=14).contains(&h) ;; (0..=23).contains(&h)'
)

caught=0
missed=0
broken=0
export CARGO_TARGET_DIR="$target"
for m in "${mutants[@]}"; do
  name="${m%% ;; *}"
  rest="${m#* ;; }"
  file="${rest%% ;; *}"
  rest="${rest#* ;; }"
  from="${rest%% ;; *}"
  to="${rest#* ;; }"
  cp "$root/$file" "$work/$file"
  if ! python3 - "$work/$file" "$from" "$to" <<'PY'; then
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(old, new))
PY
    echo "NO LONGER APPLIES  $name  ($file: text not found once; update scripts/hand_mutants.sh)"
    broken=$((broken + 1))
    continue
  fi
  log="$work/test.log"
  if (cd "$work" && cargo test --quiet --lib -p source-activecampaign >"$log" 2>&1); then
    echo "MISSED  $name"
    missed=$((missed + 1))
  elif grep -q '^test result: FAILED' "$log"; then
    killers=$(sed -n '/^failures:$/,/^test result/p' "$log" | grep -E '^    [a-z_:]+$' | tr -d ' ' | paste -sd, -)
    echo "caught  $name  by ${killers}"
    caught=$((caught + 1))
  else
    echo "UNVIABLE  $name  (does not build; see below)"
    tail -20 "$log"
    broken=$((broken + 1))
  fi
  cp "$root/$file" "$work/$file"
done
echo "hand mutants: $caught caught, $missed missed, $broken not applicable"
[ "$missed" -eq 0 ] && [ "$broken" -eq 0 ]

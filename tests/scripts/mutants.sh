#!/usr/bin/env bash
# make mutants: cargo-mutants over the pure core (the modules in .cargo/mutants.toml), tested by
# the native unit tests, then the hand-made rule mutants (tests/scripts/hand_mutants.sh).
# Prints caught / missed / unviable / timeout counts, the missed mutants, and the score
# caught / (viable - equivalent); equivalent mutants (tests/mutants-equivalent.txt, each with its
# reason) are subtracted. Fails when the score is under 90 % or a hand mutant survives.
# Usage: mutants.sh OUT_DIR [extra cargo-mutants args, e.g. --re 'src/state']
set -euo pipefail
out="${1:?usage: mutants.sh OUT_DIR [cargo-mutants args]}"
shift
out="$(realpath -m "$out")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mkdir -p "$out"
start=$(date +%s)
# Exit code 2 means "some mutants missed": the summary below judges, not cargo-mutants.
set +e
cargo mutants -j "${MUTANTS_JOBS:-1}" -o "$out" "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 3 ]; then
  echo "cargo mutants failed (exit $rc); see $out/mutants.out/debug.log" >&2
  exit "$rc"
fi
set +e
python3 - "$out/mutants.out/outcomes.json" tests/mutants-equivalent.txt "$(($(date +%s) - start))" <<'PY'
import json, re, sys

outcomes, equivalent_file, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Names without line:column, so the list survives edits elsewhere in a file.
def key(name):
    return re.sub(r"^(\S+?):\d+:\d+:", r"\1:", name)

equivalent = {}
for line in open(equivalent_file):
    line = line.strip()
    if line and not line.startswith("#"):
        name, _, why = line.partition(" ;; ")
        if not why:
            sys.exit(f"{equivalent_file}: '{line}' has no ' ;; reason'")
        equivalent[name] = why

counts = {"CaughtMutant": 0, "MissedMutant": 0, "Unviable": 0, "Timeout": 0}
missed, equiv_hit = [], []
for o in json.load(open(outcomes))["outcomes"]:
    if o["scenario"] == "Baseline":
        continue
    summary = o["summary"]
    counts[summary] = counts.get(summary, 0) + 1
    if summary == "MissedMutant":
        name = o["scenario"]["Mutant"]["name"]
        (equiv_hit if key(name) in equivalent else missed).append(name)

caught, timeouts = counts["CaughtMutant"], counts["Timeout"]
viable = caught + counts["MissedMutant"] + timeouts
scored = viable - len(equiv_hit)
# A timeout is a mutant the tests stopped (an endless loop): it counts as caught.
score = (caught + timeouts) / scored * 100 if scored else 100.0
print()
print(f"mutants: {caught} caught, {counts['MissedMutant']} missed "
      f"({len(equiv_hit)} of them listed as equivalent), {counts['Unviable']} unviable, "
      f"{timeouts} timeout, in {seconds // 60} min {seconds % 60} s")
for name in equiv_hit:
    print(f"  equivalent: {name}  -- {equivalent[key(name)]}")
for name in missed:
    print(f"  MISSED: {name}")
print(f"score: {caught + timeouts}/{scored} viable non-equivalent mutants caught ({score:.1f} %)")
sys.exit(0 if score >= 90.0 else 1)
PY
score_rc=$?
echo
bash tests/scripts/hand_mutants.sh "$out/hand-target"
hand_rc=$?
set -e
[ "$score_rc" -eq 0 ] && [ "$hand_rc" -eq 0 ]

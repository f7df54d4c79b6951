"""Score of a cargo-mutants run: caught / (viable - equivalent), from one or more outcomes.json
files (a later file's outcome for a mutant replaces an earlier one, so a full run followed by an
`--iterate` rerun of the missed mutants scores as one). Equivalent mutants are read from
tests/mutants-equivalent.txt (the name, with line:column when the text alone is ambiguous,
' ;; ', the reason).
Usage: mutants_score.py EQUIVALENT_FILE SECONDS OUTCOMES_JSON... ; exit 1 under 90 %."""
import json
import re
import sys


def key(name):
    """A mutant's name without line:column, so the list survives edits elsewhere in a file."""
    return re.sub(r"^(\S+?):\d+:\d+:", r"\1:", name)


def main():
    equivalent_file, seconds, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    equivalent = {}
    for line in open(equivalent_file):
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, why = line.partition(" ;; ")
            if not why:
                sys.exit(f"{equivalent_file}: '{line}' has no ' ;; reason'")
            equivalent[name] = why
    outcome = {}
    for f in files:
        for o in json.load(open(f))["outcomes"]:
            if o["scenario"] != "Baseline":
                outcome[o["scenario"]["Mutant"]["name"]] = o["summary"]
    counts = {}
    for s in outcome.values():
        counts[s] = counts.get(s, 0) + 1
    missed = sorted(n for n, s in outcome.items() if s == "MissedMutant")
    # An entry names a mutant with line:column (exact) or without (any line of that file).
    def reason(n):
        return equivalent.get(n) or equivalent.get(key(n))

    equiv_hit = [n for n in missed if reason(n)]
    missed = [n for n in missed if not reason(n)]
    caught = counts.get("CaughtMutant", 0)
    # A timeout is a mutant the tests stopped (an endless loop): caught, but counted apart.
    timeouts = counts.get("Timeout", 0)
    scored = caught + timeouts + len(missed)
    score = (caught + timeouts) / scored * 100 if scored else 100.0
    print(
        f"mutants: {len(outcome)} tested in {seconds // 60} min {seconds % 60} s: {caught} caught, "
        f"{timeouts} timeout, {len(missed) + len(equiv_hit)} missed "
        f"({len(equiv_hit)} of them equivalent), {counts.get('Unviable', 0)} unviable"
    )
    for n in equiv_hit:
        print(f"  equivalent: {n}  -- {reason(n)}")
    for n in missed:
        print(f"  MISSED: {n}")
    print(f"score: {caught + timeouts}/{scored} viable, non-equivalent mutants caught ({score:.1f} %)")
    return 0 if score >= 90.0 else 1


if __name__ == "__main__":
    sys.exit(main())

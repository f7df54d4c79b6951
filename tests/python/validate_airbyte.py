#!/usr/bin/env python3
"""Validates Airbyte protocol messages (JSON lines) with Airbyte's own models.

usage: validate_airbyte.py [--require TYPE[,TYPE…]] FILE [FILE…]

Every non-empty line must be an AirbyteMessage of airbyte-protocol-models; CATALOG streams and
the SPEC's specification are checked by their own models too. Prints a summary, exits 1 at the
first invalid line (file:line, type, the model's error).
"""
import collections, json, sys
from airbyte_protocol.models import AirbyteMessage, AirbyteStream, ConnectorSpecification

def main(argv):
    required = set()
    if argv[:1] == ["--require"]:
        required = set(argv[1].split(",")); argv = argv[2:]
    if not argv:
        sys.exit(__doc__)
    counts = collections.Counter()
    for path in argv:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    raw = json.loads(line)
                    msg = AirbyteMessage.parse_obj(raw)
                    if raw.get("type") == "CATALOG":
                        for s in raw["catalog"]["streams"]:
                            AirbyteStream.parse_obj(s)
                    if raw.get("type") == "SPEC":
                        ConnectorSpecification.parse_obj(raw["spec"])
                except Exception as e:  # the model's own error text is the point
                    kind = raw.get("type") if isinstance(raw, dict) else "?"
                    print(f"{path}:{n}: invalid {kind} message: {e}\n  {line[:300]}")
                    return 1
                counts[msg.type.value] += 1
    if not counts:
        print("no messages"); return 1
    missing = required - set(counts)
    if missing:
        print(f"no message of type {', '.join(sorted(missing))}"); return 1
    print(f"validated {sum(counts.values())} messages (by type: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + ")")
    return 0

sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Validates Airbyte protocol messages (JSON lines) with Airbyte's own models.

usage: validate_airbyte.py [--require TYPE[,TYPE...]] [--strict] FILE [FILE...]
       (run with <repo>/.venv/airbyte/bin/python)

Every non-empty line must parse as JSON and validate as `AirbyteMessage` of
airbyte-protocol-models; the streams of a CATALOG validate as `AirbyteStream` and a SPEC's
`spec` as `ConnectorSpecification`. The models make every payload optional, so this also checks
that the payload the type names is there (RECORD -> record, STATE -> state, TRACE ERROR ->
trace.error, a STREAM state -> state.stream, ...).

The models accept unknown keys (pydantic `extra = allow`), so a misspelt optional field passes
them silently: such keys are listed in a `note:` line, and with --strict they fail.

Prints `validated N messages (by type: ...)` and exits 0; at the first invalid line prints
FILE:LINE, the message type and the error, and exits 1. No message at all is an error, and so is
a type named by --require that never appears.
"""
import argparse
import collections
import json
import sys

from airbyte_protocol.models import AirbyteMessage, AirbyteStream, ConnectorSpecification

try:  # pydantic 2 names first; airbyte-protocol-models 0.18 brings pydantic 1
    from pydantic import BaseModel, ValidationError
except ImportError:  # pragma: no cover
    raise SystemExit("validate_airbyte: pydantic is missing: run tests/python/setup_venv.sh")

PYDANTIC2 = hasattr(BaseModel, "model_validate")

# payload key that each message type must carry
PAYLOAD = {
    "RECORD": "record", "STATE": "state", "LOG": "log", "SPEC": "spec",
    "CONNECTION_STATUS": "connectionStatus", "CATALOG": "catalog", "TRACE": "trace",
    "CONTROL": "control", "DESTINATION_CATALOG": "destination_catalog",
}
TRACE_PAYLOAD = {"ERROR": "error", "ESTIMATE": "estimate", "STREAM_STATUS": "stream_status",
                 "ANALYTICS": "analytics"}
STATE_PAYLOAD = {"STREAM": "stream", "GLOBAL": "global"}


class Invalid(Exception):
    pass


def validate(model, obj):
    return model.model_validate(obj) if PYDANTIC2 else model.parse_obj(obj)


def unknown_keys(model, path, out):
    """Collects the keys a parsed model kept only because of `extra = allow`."""
    if isinstance(model, BaseModel):
        fields = model.model_fields if PYDANTIC2 else model.__fields__
        if fields:  # a model without fields (AirbyteStateBlob) is free-form on purpose
            extra = (model.__pydantic_extra__ or {}) if PYDANTIC2 else {
                k: v for k, v in model.__dict__.items() if k not in fields}
            for k in extra:
                out.append(f"{path}.{k}")
        for name in fields:
            unknown_keys(getattr(model, name, None), f"{path}.{name}", out)
    elif isinstance(model, list):
        for item in model:
            unknown_keys(item, f"{path}[]", out)


def check_line(line):
    """Returns (type, unknown key paths) or raises Invalid / ValidationError."""
    try:
        raw = json.loads(line)
    except ValueError as e:
        raise Invalid(f"not JSON: {e}")
    if not isinstance(raw, dict):
        raise Invalid("not a JSON object")
    kind = raw.get("type")
    msg = validate(AirbyteMessage, raw)
    payload = PAYLOAD.get(msg.type.value)
    if payload and raw.get(payload) is None:
        raise Invalid(f"type {kind} without its `{payload}` payload")
    if kind == "CATALOG":
        for i, s in enumerate(raw["catalog"].get("streams") or []):
            try:
                validate(AirbyteStream, s)
            except ValidationError as e:
                raise Invalid(f"catalog.streams[{i}] ({s.get('name') if isinstance(s, dict) else '?'}) "
                              f"is not an AirbyteStream: {e}")
    elif kind == "SPEC":
        validate(ConnectorSpecification, raw["spec"])
    elif kind == "TRACE":
        ttype = raw["trace"].get("type")
        key = TRACE_PAYLOAD.get(ttype)
        if key and raw["trace"].get(key) is None:
            raise Invalid(f"TRACE of type {ttype} without `trace.{key}`")
    elif kind == "STATE":
        stype = raw["state"].get("type")
        key = STATE_PAYLOAD.get(stype)
        if key and raw["state"].get(key) is None:
            raise Invalid(f"STATE of type {stype} without `state.{key}`")
        if stype in (None, "LEGACY") and raw["state"].get("data") is None:
            raise Invalid("LEGACY STATE without `state.data`")
    unknown = []
    unknown_keys(msg, "", unknown)
    # `data` of a RECORD is free-form (Dict), so it never shows up here.
    return msg.type.value, [u.lstrip(".") for u in unknown]


def main(argv):
    p = argparse.ArgumentParser(description="Validate Airbyte messages with airbyte-protocol-models.")
    p.add_argument("--require", default="", metavar="TYPE[,TYPE]",
                   help="fail unless at least one message of each of these types is seen")
    p.add_argument("--strict", action="store_true",
                   help="fail on keys the protocol models do not declare")
    p.add_argument("files", nargs="+", metavar="FILE")
    a = p.parse_args(argv)
    required = {t.strip().upper() for t in a.require.split(",") if t.strip()}

    counts = collections.Counter()
    unknown_seen = collections.Counter()
    for path in a.files:
        try:
            f = open(path, encoding="utf-8")
        except OSError as e:
            print(f"{path}: cannot read: {e}")
            return 1
        with f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    kind, unknown = check_line(line)
                except (Invalid, ValidationError) as e:
                    try:
                        kind = json.loads(line).get("type", "?")
                    except Exception:
                        kind = "?"
                    print(f"{path}:{n}: invalid {kind} message: {e}")
                    print(f"  line: {line[:300]}{'...' if len(line) > 300 else ''}")
                    return 1
                if unknown and a.strict:
                    print(f"{path}:{n}: {kind} message has keys the protocol models do not declare: "
                          f"{', '.join(unknown)}")
                    print(f"  line: {line[:300]}{'...' if len(line) > 300 else ''}")
                    return 1
                for u in unknown:
                    unknown_seen[u] += 1
                counts[kind] += 1
    if not counts:
        print(f"no messages in {' '.join(a.files)}")
        return 1
    if unknown_seen:
        print("note: keys the protocol models do not declare (allowed, maybe misspelt): "
              + ", ".join(f"{k} ({v}x)" for k, v in sorted(unknown_seen.items())))
    missing = required - set(counts)
    if missing:
        print(f"no message of type {', '.join(sorted(missing))} "
              f"(seen: {', '.join(sorted(counts))})")
        return 1
    print(f"validated {sum(counts.values())} messages (by type: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

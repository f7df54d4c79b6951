"""A dlt source: `activecampaign(config)` has one resource per stream, named as the stream.

Streams with a cursor load with `write_disposition="merge"` on their primary key (`id`), and the
deletion column `_ab_cdc_deleted_at` is hinted `hard_delete`: a deletion the connector reports
removes the row. Streams without a cursor are read in full each run and `replace` their table.
The connector's per-stream state is kept in dlt's source state, so each run is incremental from
the last one that loaded. Values land as the API sends them (timestamps stay text; nested values
are JSON columns), one table per stream.

A stream that fails (the account's plan lacks Deals, a page refused, retries spent) is logged as
a warning and the others load: what the failed stream delivered before it failed loads too, and
its state stays at its last page, so the next run carries on from there (a failed pass deletes
nothing). A failure of the whole run (a refused key, an unreachable `api_url`) raises
`ConnectorError`: dlt then loads nothing and keeps the old state.

Needs `pip install "source-activecampaign[dlt]"`.
"""

import json
import os
import queue
import tempfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import dlt
from dlt.common import logger

from ._runtime import Runner

DELETED = "_ab_cdc_deleted_at"
STATE_KEY = "connector_state"
BATCH = 500


class ConnectorError(RuntimeError):
    """The connector reported a failure (its TRACE ERROR messages are the text)."""


def _messages(args: List[str], stream_failures_ok: bool = False) -> Iterator[dict]:
    """The component's stdout messages as they are written; the component runs in a thread and
    waits when the consumer is behind, so a read is never held in memory whole. A failed run
    raises `ConnectorError` at the end, unless `stream_failures_ok` and every error it reported
    names a stream: those are logged as warnings."""
    chunks: "queue.Queue" = queue.Queue(maxsize=64)
    runner: Optional[Runner] = None

    def put(data: bytes) -> None:
        while runner is not None and not runner.stopping.is_set():
            try:
                chunks.put(data, timeout=0.2)
                return
            except queue.Full:
                continue

    runner = Runner(args, put)
    # The error, if any, is handed to the consumer below; None ends its loop.
    worker, outcome = runner.start("activecampaign-read", lambda: chunks.put(None))
    errors: List[Tuple[str, str]] = []  # (stream or "", message)
    pending = b""
    try:
        while True:
            data = chunks.get()
            if data is None:
                break
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line.strip():
                    m = json.loads(line)
                    if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR":
                        e = m["trace"]["error"]
                        stream = (e.get("stream_descriptor") or {}).get("name") or ""
                        errors.append((stream, e.get("message", "")))
                    yield m
    finally:
        if worker.is_alive():  # the consumer stopped early: stop the component too
            runner.interrupt()
            while worker.is_alive():
                try:
                    chunks.get(timeout=0.2)
                except queue.Empty:
                    pass
    if "error" in outcome:
        raise outcome["error"]
    if not outcome.get("code"):
        return
    if stream_failures_ok and errors and all(stream for stream, _ in errors):
        for stream, message in errors:
            logger.warning(f"activecampaign: stream {stream} failed, the others load: {message}")
        return
    raise ConnectorError(
        f"source-activecampaign {args[0]} failed (exit {outcome['code']}): "
        + ("; ".join(m for _, m in errors) or "see its stderr"))


def _write(folder: str, name: str, doc: object) -> str:
    path = os.path.join(folder, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the config holds the key
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return path


def discover(config: dict) -> List[dict]:
    """The connector's Airbyte streams for this account."""
    with tempfile.TemporaryDirectory(prefix="activecampaign-") as tmp:
        cfg = _write(tmp, "config.json", config)
        for m in _messages(["discover", "--config", cfg]):
            if m.get("type") == "CATALOG":
                return m["catalog"]["streams"]
    raise ConnectorError("source-activecampaign discover printed no catalog")


def _configured(streams: List[dict]) -> dict:
    entries = []
    for s in streams:
        inc = "incremental" in s.get("supported_sync_modes", [])
        entries.append({"stream": s, "sync_mode": "incremental" if inc else "full_refresh",
                        "destination_sync_mode": "append_dedup" if inc else "overwrite"})
    return {"streams": entries}


def _batches(config: dict, streams: List[dict]) -> Iterator[Tuple[str, List[dict]]]:
    """Reads the streams: (stream, records) in runs of one stream, the state kept in dlt's
    source state as each STATE message arrives."""
    saved: Dict[str, dict] = dlt.current.source_state().setdefault(STATE_KEY, {})
    names = {s["name"] for s in streams}
    with tempfile.TemporaryDirectory(prefix="activecampaign-") as tmp:
        args = ["read", "--config", _write(tmp, "config.json", config),
                "--catalog", _write(tmp, "catalog.json", _configured(streams))]
        state = [v for k, v in saved.items() if k in names]
        if state:
            args += ["--state", _write(tmp, "state.json", state)]
        stream, rows = "", []
        for m in _messages(args, stream_failures_ok=True):
            kind = m.get("type")
            if kind == "RECORD":
                r = m["record"]
                if r["stream"] != stream or len(rows) >= BATCH:
                    if rows:
                        yield stream, rows
                    stream, rows = r["stream"], []
                rows.append(r["data"])
            elif kind == "STATE" and m["state"].get("type") == "STREAM":
                if rows:  # the records before a state belong to it: hand them over first
                    yield stream, rows
                    stream, rows = "", []
                saved[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        if rows:
            yield stream, rows


def _rows_of(name: str):
    def rows(batch: Tuple[str, List[dict]]) -> Iterator[List[dict]]:
        if batch[0] == name:
            yield batch[1]
    return rows


@dlt.source(name="activecampaign", max_table_nesting=0)
def activecampaign(config: dict, streams: Optional[Sequence[str]] = None):
    """One resource per stream of the account (or of `streams`), fed by one read."""
    # Values stay as the API sends them: a timestamp string is not turned into a timestamp.
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
    found = discover(config)
    if streams is not None:
        unknown = sorted(set(streams) - {s["name"] for s in found})
        if unknown:
            raise ValueError(f"no such stream: {', '.join(unknown)} (the account has "
                             f"{', '.join(s['name'] for s in found)})")
        found = [s for s in found if s["name"] in set(streams)]
    reader = dlt.resource(_batches(config, found), name="_read", selected=False)
    resources = [reader]
    for s in found:
        keys = [k[0] for k in s.get("source_defined_primary_key", [["id"]])]
        incremental = "incremental" in s.get("supported_sync_modes", [])
        resources.append(dlt.transformer(
            _rows_of(s["name"]), data_from=reader, name=s["name"],
            primary_key=keys[0] if len(keys) == 1 else keys,
            write_disposition="merge" if incremental else "replace",
            columns={DELETED: {"data_type": "text", "nullable": True, "hard_delete": True}}
            if incremental else None))
    return resources

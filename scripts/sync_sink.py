#!/usr/bin/env python3
"""The sink of `make sync`: reads the component's Airbyte messages on stdin as they come.

usage: sync_sink.py OUT RUN      (OUT: the sync folder; RUN: this run's number)

- RECORD: appended to OUT/streams/<stream>.jsonl, the record's data plus the columns a warehouse
  needs to load it without guessing (docs/files.md): `_ab_extracted_at` (the record's
  emitted_at, ms since the epoch), `_ab_run` (RUN), `_ab_seq` (the line's place in this run) and
  `_ab_cdc_deleted_at` (null unless the line is a deletion: `make sync` tracks deletions on every
  stream).
- STATE: the stream files are flushed, then OUT/state.json is replaced (a temporary file renamed
  over it), so an interrupted sync (Ctrl-C, a kill) continues from the last state on its rerun.
- LOG, TRACE and anything else: OUT/messages-RUN.jsonl, kept run after run.

SIGINT is ignored here: on Ctrl-C wasmtime stops, and this reads to the end of its output.
At the end it prints the records written and, per stream, what was held back and why.
"""
import json
import os
import re
import signal
import sys

STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")

# What a warning says (the component's LOG WARN texts), what it means, and what to do.
HELD = [
    ("would be deleted, more than deletion_guard_share allows",
     "deletion guard",
     "check the account; if the rows are really gone, run one sync with deletion_guard_share 1"),
    ("the list came back empty where the last complete pass had",
     "deletion guard (empty list)",
     "if the rows are really gone, delete them downstream or reset the stream"),
    ("this pass resumed from a mid-pass state, so it finds no deletions",
     "resumed pass",
     "nothing: the next complete pass finds the deletions"),
    ("reading the whole list instead",
     "fallback",
     "nothing: the list was read in full; records already delivered may come again"),
    ("pages instead, as a sweep does",
     "fallback",
     "nothing: the stream was read on its parent's pages, as a sweep reads it"),
    ("with offset paging from the start instead",
     "fallback",
     "nothing: the list was read again from its start; records already delivered may come again"),
    ("deletions are not tracked",
     "deletions not tracked",
     "nothing to do here: this stream's ids cannot be kept, so its deletions are not reported"),
]


def held_back(message):
    """(stream, kind, fix) for a warning that holds something back, else None."""
    stream, sep, _ = message.partition(": ")
    if not sep or not STREAM_NAME.match(stream):
        return None
    for needle, kind, fix in HELD:
        if needle in message:
            return stream, kind, fix
    return None


class Sink:
    def __init__(self, out, run):
        self.out, self.run, self.seq = out, run, 0
        self.files, self.counts, self.deleted, self.held = {}, {}, {}, []
        self.state_path = os.path.join(out, "state.json")
        self.states = {}
        if os.path.exists(self.state_path) and os.path.getsize(self.state_path):
            for m in json.load(open(self.state_path)):
                self.states[m["stream"]["stream_descriptor"]["name"]] = m
        self.messages = open(os.path.join(out, f"messages-{run}.jsonl"), "a")

    def record(self, rec):
        stream, data = rec.get("stream"), rec.get("data")
        if not isinstance(stream, str) or not STREAM_NAME.match(stream) or not isinstance(data, dict):
            raise SystemExit(f"sync_sink: a RECORD without a usable stream name or data: {rec!r:.200}")
        self.seq += 1
        line = dict(data)
        line["_ab_extracted_at"] = rec.get("emitted_at")
        line["_ab_run"] = self.run
        line["_ab_seq"] = self.seq
        if "_ab_cdc_deleted_at" in data:
            self.deleted[stream] = self.deleted.get(stream, 0) + 1
        else:
            line["_ab_cdc_deleted_at"] = None
        if stream not in self.files:
            self.files[stream] = open(os.path.join(self.out, "streams", stream + ".jsonl"), "a")
        self.files[stream].write(json.dumps(line, ensure_ascii=False) + "\n")
        self.counts[stream] = self.counts.get(stream, 0) + 1

    def state(self, state):
        for f in self.files.values():
            f.flush()
        self.states[state["stream"]["stream_descriptor"]["name"]] = state
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(list(self.states.values()), f)
        os.replace(tmp, self.state_path)

    def message(self, text, m):
        self.messages.write(text + "\n")
        if m and m.get("type") == "LOG" and m["log"].get("level") == "WARN":
            found = held_back(m["log"].get("message", ""))
            if found:
                self.held.append(found + (m["log"]["message"],))

    def feed(self, text):
        try:
            m = json.loads(text)
        except ValueError:
            m = None
        kind = m.get("type") if isinstance(m, dict) else None
        if kind == "RECORD":
            self.record(m["record"])
        elif kind == "STATE" and isinstance(m.get("state"), dict) and "stream" in m["state"]:
            self.state(m["state"])
        else:
            self.message(text, m if isinstance(m, dict) else None)

    def close(self):
        for f in self.files.values():
            f.close()
        self.messages.close()
        total = sum(self.counts.values())
        deleted = sum(self.deleted.values())
        print(f"records written this run: {total} in {len(self.counts)} streams, {deleted} of them "
              f"deletions (files in {self.out}/streams/; run {self.run}, "
              f"messages in messages-{self.run}.jsonl)")
        if self.held:
            print("held back or read differently this run, per stream (why; fix):")
            for stream, kind, fix, message in self.held:
                print(f"  {stream}: {kind}: {message}")
                print(f"    fix: {fix}")


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    out, run = argv[0], int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sink = Sink(out, run)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.strip():
            sink.feed(line)
    sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

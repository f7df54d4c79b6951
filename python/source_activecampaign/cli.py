"""The executables: `source-activecampaign` (Airbyte commands: spec, check, discover, read) and
`tap-activecampaign` (Singer: `--config F [--discover | --catalog F --state F]`). Both take the
same arguments as the component under the wasmtime CLI and behave like it: stdout is written as
the component writes it, stderr passes through, the exit code is the CLI's. SIGINT or SIGTERM
stops a run within a second, with stdout ending on a whole line; the process then dies of that
signal, as the CLI does.
"""

import os
import signal
import sys
import threading
from typing import List, Optional

from ._runtime import Runner

# How long a stopped run may take to unwind before the process exits regardless: the guest
# notices the interruption at its next instruction, but not while it waits inside the host
# (an HTTP answer, a rate-limit pause).
STOP_GRACE_S = 0.5


class LineOut:
    """Writes to a file descriptor in whole lines: a partial line waits for its end, so a run
    stopped in the middle never leaves half a message on stdout."""

    def __init__(self, fd: int):
        self.fd = fd
        self.pending: List[bytes] = []
        self.lock = threading.Lock()
        self.closed = False

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.closed:
                raise BrokenPipeError("stdout is closed")
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                self.pending.append(data)
                return
            head = b"".join(self.pending) + data[:cut] if self.pending else data[:cut]
            self.pending = [data[cut:]] if cut < len(data) else []
            self._write_all(head)

    def finish(self) -> None:
        """Writes what is left (the CLI would print an unterminated last line too)."""
        with self.lock:
            if self.pending and not self.closed:
                self._write_all(b"".join(self.pending))
            self.pending = []

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _die_of(signum: int) -> None:
    """Ends the process the way the signal would have ended the wasmtime CLI."""
    sys.stderr.flush()
    if os.name == "posix":
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    os._exit(128 + signum)


def main(args: Optional[List[str]] = None) -> None:
    """Runs the component with `args` (default: the command line) and exits with its code."""
    args = sys.argv[1:] if args is None else args
    out = LineOut(sys.stdout.fileno())
    runner = Runner(args, out.write)

    signalled: List[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        signalled.append(signum)
        runner.interrupt()

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, on_signal)
    worker, outcome = runner.start("component")
    # The main thread only waits, so that Python runs the signal handlers at once (it runs them
    # in the main thread only, and never while that thread is inside a call into wasmtime).
    while worker.is_alive() and not signalled:
        worker.join(0.1)
    if signalled:
        worker.join(STOP_GRACE_S)
        # Hold the writer: no byte more reaches stdout, and a line being written completes.
        out.lock.acquire(timeout=1.0)
        out.closed = True
        _die_of(signalled[0])
    if "error" in outcome:
        print(f"source-activecampaign: {outcome['error']!r}", file=sys.stderr)
        code = 1
    else:
        out.finish()
        code = outcome.get("code") or 0
    sys.stderr.flush()
    # Straight out: the runtime's worker threads must not be torn down by the interpreter's exit.
    os._exit(code)


def airbyte() -> None:
    """`source-activecampaign`: the Airbyte commands."""
    main()


def singer() -> None:
    """`tap-activecampaign`: Singer mode (the component speaks Singer without a command word)."""
    main()

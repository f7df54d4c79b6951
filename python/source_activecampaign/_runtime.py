"""Runs the connector's WebAssembly component in this process on wasmtime's Python package.

The component is the same file the wasmtime CLI runs (`wasi:cli/run` with argv); this module
gives it what the CLI's `run -S http --dir /::/ --env PWD=...` gives it: outgoing `wasi:http`,
the whole filesystem at `/` (so a path means what it means to the caller) and `PWD` (so the
component joins a relative path to the caller's working directory). Nothing else of the
environment is passed in.
"""

import errno
import hashlib
import os
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Callable, Optional

from wasmtime import Config, Engine, ExitTrap, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Linker

COMPONENT = Path(__file__).with_name("source_activecampaign.wasm")
RUN_EXPORT = "wasi:cli/run@0.2.12"
# Bumped when the engine's settings change: compiled code of other settings does not load.
ENGINE_TAG = "epoch1"
# The CLI's exit code for a trap (128 + SIGABRT on Unix, 3 on Windows).
TRAP_EXIT = 134 if os.name == "posix" else 3


def cache_dir() -> Path:
    """The user's cache directory for compiled code (SOURCE_ACTIVECAMPAIGN_CACHE_DIR overrides)."""
    explicit = os.environ.get("SOURCE_ACTIVECAMPAIGN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "source-activecampaign"


def _engine() -> Engine:
    cfg = Config()
    # A signal stops the guest at its next loop or call (see `Runner.interrupt`).
    cfg.epoch_interruption = True
    return Engine(cfg)


def cache_path(wasm: bytes) -> Path:
    """Where the compiled form of `wasm` is kept: keyed by the runtime's version, the engine's
    settings and the component's hash, so another wasmtime or another build never loads it."""
    version = metadata.version("wasmtime")
    digest = hashlib.sha256(wasm).hexdigest()[:32]
    return cache_dir() / f"wasmtime-{version}-{ENGINE_TAG}-{digest}.cwasm"


def load_component(engine: Engine) -> Component:
    """The component, compiled: from the cache when it holds this build for this runtime, else
    compiled (a second or two) and saved there. A cache that cannot be written only costs time.
    The folder must be the user's own: compiled code is loaded as native code, unchecked."""
    wasm = COMPONENT.read_bytes()
    cached = cache_path(wasm)
    if cached.is_file():
        try:
            return Component.deserialize_file(engine, str(cached))
        except WasmtimeError:
            pass  # stale or damaged: compile again and replace it
    component = Component(engine, wasm)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        tmp.write_bytes(component.serialize())
        os.replace(tmp, cached)  # atomic: a concurrent start never reads half a file
    except OSError as e:
        print(f"source-activecampaign: cannot cache the compiled component in {cached.parent} "
              f"({e}); each start compiles it again (set SOURCE_ACTIVECAMPAIGN_CACHE_DIR to a "
              "writable folder)", file=sys.stderr)
    return component


class Interrupted(Exception):
    """The run was stopped from outside (a signal, or the consumer went away)."""


class Runner:
    """One run of the component with these arguments; stdout goes to `on_stdout` as written."""

    def __init__(self, args: list, on_stdout: Callable[[bytes], None]):
        self.engine = _engine()
        self.component = load_component(self.engine)
        self.args = list(args)
        self.on_stdout = on_stdout
        self.stopping = threading.Event()

    def _stdout(self, data: bytes) -> Optional[int]:
        if self.stopping.is_set():
            return -errno.EIO  # nothing more is written once a stop was asked for
        try:
            self.on_stdout(data)
        except OSError as e:  # a closed pipe: the guest sees the write fail, as under the CLI
            return -(e.errno or errno.EIO)
        return None

    def interrupt(self) -> None:
        """Stops the guest: it traps at its next loop head or function entry (epoch
        interruption); output written after this is dropped."""
        self.stopping.set()
        self.engine.increment_epoch()

    def _store(self) -> Store:
        store = Store(self.engine)
        wasi = WasiConfig()
        wasi.argv = ["source-activecampaign"] + self.args
        wasi.env = [("PWD", os.getcwd())]
        wasi.inherit_stderr()
        wasi.stdout_custom = self._stdout
        wasi.preopen_dir(os.path.abspath(os.sep), "/")
        store.set_wasi(wasi)
        store.set_wasi_http()
        store.set_epoch_deadline(1)  # the epoch moves only in `interrupt`
        return store

    def start(self, name: str, then: Callable[[], None] = lambda: None):
        """Runs [`Runner.run`] on a daemon thread named `name`, then calls `then`. Returns the
        thread and its outcome: {"code": exit code, or None when interrupted} or {"error": e}."""
        outcome: dict = {}

        def work() -> None:
            try:
                outcome["code"] = self.run()
            except Interrupted:
                outcome["code"] = None
            except BaseException as e:  # the caller reports it, from its own thread
                outcome["error"] = e
            then()

        worker = threading.Thread(target=work, name=name, daemon=True)
        worker.start()
        return worker, outcome

    def run(self) -> int:
        """Runs `wasi:cli/run`; returns the exit code the wasmtime CLI would: 0, 1 when the
        connector reports a failure, the guest's own exit code, 134 for a trap."""
        linker = Linker(self.engine)
        linker.add_wasip2()
        linker.add_wasi_http()
        store = self._store()
        try:
            instance = linker.instantiate(store, self.component)
        except WasmtimeError as e:
            print(f"Error: cannot instantiate the component: {e}", file=sys.stderr)
            return 1
        index = self.component.get_export_index(RUN_EXPORT)
        func_index = self.component.get_export_index("run", index) if index else None
        func = instance.get_func(store, func_index) if func_index else None
        if func is None:
            print(f"source-activecampaign: the component has no {RUN_EXPORT} export "
                  "(a damaged install: reinstall the package)", file=sys.stderr)
            return 1
        try:
            result = func(store)
            func.post_return(store)
        except ExitTrap as e:
            return e.code
        except WasmtimeError as e:  # a trap, or the interruption's
            if self.stopping.is_set():
                raise Interrupted() from None
            print(f"Error: {e}", file=sys.stderr)
            return TRAP_EXIT
        if self.stopping.is_set():
            raise Interrupted()
        return 0 if getattr(result, "tag", None) == "ok" else 1

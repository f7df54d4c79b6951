"""An airbyte-cdk `Source` that runs the connector program once per verb and yields its stdout.

The program is the README's wrapper script (`AC_CONNECTOR`), so the standard source tests of
airbyte-cdk (`SourceTestSuiteBase`) check exactly what an Airbyte runner would get: each verb is
`PROGRAM VERB --config FILE [--catalog FILE]`, with the files the suite itself wrote, and every
stdout line is parsed as an Airbyte message and handed on unchanged. A non-zero exit is raised
after the messages (a failed `check` must say so in its CONNECTION_STATUS and exit 1).

`AC_BREAK` (the negative control) alters the program's output before it is parsed:
`secret` drops `airbyte_secret` from the spec's `api_key`, `record` gives the first record of
each stream an `id` that its schema refuses. The suite must fail on either.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from typing import Any, Iterator, Mapping

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConnectorSpecification,
    Status,
    Type,
)
from airbyte_cdk.sources import Source


def _break(line: str, broken: set[str], seen: set[str]) -> str:
    """The negative control's alteration of one stdout line (unchanged when nothing applies)."""
    if not broken:
        return line
    msg = json.loads(line)
    if msg.get("type") == "SPEC" and "secret" in broken:
        msg["spec"]["connectionSpecification"]["properties"]["api_key"].pop("airbyte_secret", None)
    elif msg.get("type") == "RECORD" and "record" in broken:
        stream = msg["record"]["stream"]
        if stream not in seen:
            seen.add(stream)
            msg["record"]["data"]["id"] = {"not": "a string"}
    else:
        return line
    return json.dumps(msg)


class WasmSource(Source):
    """The component behind the README's wrapper script, as an airbyte-cdk Source."""

    def __init__(self) -> None:
        self.program = os.environ["AC_CONNECTOR"]
        self.broken = {b for b in os.environ.get("AC_BREAK", "").split(",") if b}
        self.config_path: str | None = None

    def _run(self, verb: str, *options: str) -> tuple[int, list[AirbyteMessage]]:
        proc = subprocess.run(
            [self.program, verb, *options], capture_output=True, text=True, check=False
        )
        if proc.stderr:
            logging.getLogger("airbyte").debug(proc.stderr[-4000:])
        seen: set[str] = set()
        messages = [
            AirbyteMessageSerializer.load(json.loads(_break(line, self.broken, seen)))
            for line in proc.stdout.splitlines()
            if line.strip()
        ]
        return proc.returncode, messages

    def _one(self, verb: str, kind: Type, *options: str) -> AirbyteMessage:
        code, messages = self._run(verb, *options)
        found = [m for m in messages if m.type == kind]
        if code != 0 or len(found) != 1:
            raise RuntimeError(f"{verb} exited {code} with {len(found)} {kind.value} messages")
        return found[0]

    # The suite writes the config, catalog and state to files and names them on the command
    # line; the program gets those same files, not a re-serialised copy.
    def read_config(self, config_path: str) -> Mapping[str, Any]:
        self.config_path = config_path
        return super().read_config(config_path)

    def read_catalog(self, catalog_path: str) -> str:  # type: ignore[override]
        return catalog_path

    def read_state(self, state_path: str) -> str | None:  # type: ignore[override]
        return state_path

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        spec = self._one("spec", Type.SPEC).spec
        assert spec is not None
        return spec

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        code, messages = self._run("check", "--config", self._config(config))
        found = [m.connectionStatus for m in messages if m.type == Type.CONNECTION_STATUS]
        if len(found) != 1 or found[0] is None:
            raise RuntimeError(f"check exited {code} with {len(found)} CONNECTION_STATUS messages")
        if (found[0].status == Status.SUCCEEDED) != (code == 0):
            raise RuntimeError(f"check said {found[0].status.value} but exited {code}")
        return found[0]

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        catalog = self._one("discover", Type.CATALOG, "--config", self._config(config)).catalog
        assert catalog is not None
        return catalog

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: Any,
        state: Any = None,
    ) -> Iterator[AirbyteMessage]:
        options = ["--config", self._config(config), "--catalog", str(catalog)]
        if state:
            options += ["--state", str(state)]
        code, messages = self._run("read", *options)
        yield from messages
        if code != 0:
            raise RuntimeError(f"read exited {code}")

    def _config(self, config: Mapping[str, Any]) -> str:
        """The config file the suite named (the program reads the file, as a runner's would)."""
        if self.config_path is None:
            raise RuntimeError("no --config file was read")
        return self.config_path

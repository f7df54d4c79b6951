#!/usr/bin/env python3
"""Builds dist/source_activecampaign-<version>-py3-none-any.whl from python/source_activecampaign
and the release component, with the standard library only (no build backend to download).

usage: build_wheel.py COMPONENT OUT_DIR

The version is the crate's (Cargo.toml). The wheel is reproducible: same inputs, same bytes (fixed
timestamps, sorted entries), so its hash names its content.
"""
import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path

NAME = "source-activecampaign"
PACKAGE = "source_activecampaign"
# Tested: 46.0.1 (the first with `add_wasi_http`) and 51.0.0 (the newest at release).
WASMTIME = "wasmtime>=46.0.1,<52"
# Tested: 1.31.0 (the newest at release).
DLT = "dlt[duckdb]>=1.31,<2"
STAMP = (1980, 1, 1, 0, 0, 0)
ROOT = Path(__file__).resolve().parent.parent


def version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    if not m:
        sys.exit("build_wheel: no [package] version in Cargo.toml")
    return m.group(1)


def metadata(ver: str) -> str:
    return "\n".join([
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {ver}",
        "Summary: ActiveCampaign source (Airbyte and Singer executables, a dlt source) as a "
        "WebAssembly component run in-process on wasmtime",
        "License: MIT",
        "Requires-Python: >=3.9",
        f"Requires-Dist: {WASMTIME}",
        "Provides-Extra: dlt",
        f'Requires-Dist: {DLT} ; extra == "dlt"',
        "",
        "One wheel for every platform wasmtime's Python package runs on. Executables:",
        "`source-activecampaign` (Airbyte: spec, check, discover, read) and `tap-activecampaign`",
        "(Singer); `source_activecampaign.dlt.activecampaign` is a dlt source.",
        "",
    ])


ENTRY_POINTS = """[console_scripts]
source-activecampaign = source_activecampaign.cli:airbyte
tap-activecampaign = source_activecampaign.cli:singer
"""

WHEEL = """Wheel-Version: 1.0
Generator: source-activecampaign build_wheel.py
Root-Is-Purelib: true
Tag: py3-none-any
"""


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def files(component: Path, ver: str) -> dict:
    src = ROOT / "python" / PACKAGE
    out = {f"{PACKAGE}/{p.name}": p.read_bytes() for p in sorted(src.glob("*.py"))}
    out[f"{PACKAGE}/source_activecampaign.wasm"] = component.read_bytes()
    info = f"{PACKAGE}-{ver}.dist-info"
    out[f"{info}/METADATA"] = metadata(ver).encode()
    out[f"{info}/WHEEL"] = WHEEL.encode()
    out[f"{info}/entry_points.txt"] = ENTRY_POINTS.encode()
    return out


def build(component: Path, out_dir: Path) -> Path:
    if not component.is_file():
        sys.exit(f"build_wheel: no component at {component}: run `make build` first")
    ver = version()
    content = files(component, ver)
    record_name = f"{PACKAGE}-{ver}.dist-info/RECORD"
    record = "\n".join([record_line(n, d) for n, d in content.items()] + [f"{record_name},,", ""])
    content[record_name] = record.encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{PACKAGE}-{ver}-py3-none-any.whl"
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in content.items():  # RECORD last, as the wheel spec recommends
            info = zipfile.ZipInfo(name, STAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    tmp.replace(wheel)
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))

#!/usr/bin/env python3
"""Checks that the crate's modules depend one way: no production file imports from a layer above it.

`make lint` runs it. The layers of `src/`, bottom first, are listed in LAYERS (the crate map in
`src/lib.rs` and docs/architecture.md say the same order). A module may use its own layer and the
ones below it. Inside one folder, files must not import each other in a circle. Test code (files
named `*_tests.rs` or `tests.rs`, the test folders, and `#[cfg(test)]` items) is not counted:
tests may reach anywhere.

A path is read wherever it is written: `use crate::x::...`, `crate::x::...` inside code, and
`super::` paths, resolved against the file's own module.

usage: layers.py [SRC_DIR]   (exit 1 on an upward import or a circle, each named with its line)
       layers.py --negative-control [SRC_DIR]   (exit 0 when the check fails, as it must, on a
       copy of SRC_DIR with an import from the top layer added to a bottom-layer file, and on
       one with two files of a folder importing each other)
"""
import pathlib
import re
import sys

# Bottom first. Each entry is a top-level module of src/ (a folder or a file).
LAYERS = ["vocab", "rules", "api", "documents", "http", "engine", "output", "commands", "wasi"]
# Files of src/ that are not a layer: the crate root and the test-only folders.
NOT_LAYERS = {"lib", "proptests", "scenarios", "test_support"}
TEST_FILE = re.compile(r"(^|_)tests\.rs$")
PATH = re.compile(r"\b(crate|super)((?:::\w+)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::\w+)*)::\{([^;]*)\}", re.S)


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def strip_test_items(text):
    """Drops `#[cfg(test)]` items: the item after the attribute, up to its closing brace or `;`."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        j, depth = m.end(), 0
        while j < len(text):
            c = text[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    j += 1
                    break
            elif c == ";" and depth == 0:
                j += 1
                break
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def module_path(src, file):
    """The file's module path from the crate root: src/engine/task.rs -> ['engine', 'task']."""
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def targets(src, file, text):
    """(line, module path) of every crate path the file names."""
    here = module_path(src, file)
    found = []

    def resolve(root, rest, pos):
        segs = [s for s in rest.split("::") if s]
        if root == "crate":
            base = []
        else:
            base = here[:-1] if file.name not in ("mod.rs", "lib.rs") else here[:-1]
            if file.name not in ("mod.rs", "lib.rs"):
                base = here[:-1]
            else:
                base = here[:-1]
            while segs and segs[0] == "super":
                segs = segs[1:]
                base = base[:-1]
        line = text.count("\n", 0, pos) + 1
        found.append((line, base + segs))

    for m in USE_GROUP.finditer(text):
        for item in re.split(r",", m.group(3)):
            item = item.strip().split(" as ")[0].strip()
            if item and item != "self":
                resolve(m.group(1), m.group(2) + "::" + item.split("::{")[0], m.start())
    for m in PATH.finditer(text):
        resolve(m.group(1), m.group(2), m.start())
    return found


def file_of(src, segs):
    """The production file that a module path lands in (the longest existing prefix)."""
    for n in range(len(segs), 0, -1):
        p = src.joinpath(*segs[:n])
        for cand in (p.with_suffix(".rs"), p / "mod.rs"):
            if cand.is_file():
                return cand
    return None


def negative_control(src):
    """The check must fail on planted mistakes: an upward import, then a circle of two files."""
    import shutil
    import subprocess
    import tempfile

    bottom = sorted((src / LAYERS[0]).glob("*.rs"))[0]
    folder = sorted(p for p in (src / "engine").glob("*.rs") if p.name != "mod.rs")[:2]
    plants = [
        [(bottom, f"use crate::{LAYERS[-2]}::Planted;\n")],
        [(folder[0], f"use super::{folder[1].stem}::Planted;\n"),
         (folder[1], f"use super::{folder[0].stem}::Planted;\n")],
    ]
    for plant in plants:
        with tempfile.TemporaryDirectory() as tmp:
            copy = pathlib.Path(tmp) / "src"
            shutil.copytree(src, copy)
            for file, line in plant:
                target = copy / file.relative_to(src)
                target.write_text(line + target.read_text())
            run = subprocess.run([sys.executable, __file__, str(copy)], capture_output=True, text=True)
            if run.returncode != 1 or "Planted" not in run.stdout and "circle" not in run.stdout:
                print(f"negative control: the check passed a planted mistake ({plant[0][1].strip()})")
                return 1
    return 0


def main():
    if sys.argv[1:2] == ["--negative-control"]:
        return negative_control(pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "src"))
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems, edges = [], {}
    for file in sorted(src.rglob("*.rs")):
        rel = file.relative_to(src)
        top = rel.parts[0].removesuffix(".rs")
        if top in NOT_LAYERS or TEST_FILE.search(file.name):
            continue
        if top not in rank:
            problems.append(f"{file}: module `{top}` is in no layer: add it to LAYERS in {sys.argv[0]}")
            continue
        text = strip_test_items(strip_comments_and_strings(file.read_text()))
        for line, segs in targets(src, file, text):
            if not segs:
                continue
            other = segs[0]
            if other in rank and rank[other] > rank[top]:
                problems.append(
                    f"{file}:{line}: `{top}` imports `{'::'.join(segs)}` from `{other}`, a layer above it "
                    f"(order, bottom first: {', '.join(LAYERS)})"
                )
            target = file_of(src, segs)
            if target and target != file and target.parent == file.parent and target.name != "mod.rs":
                edges.setdefault(file, {})[target] = line
    problems += circles(edges)
    for p in problems:
        print(p)
    return 1 if problems else 0


def circles(edges):
    """Circles among the files of one folder, each reported once."""
    out, seen = [], set()
    for start in sorted(edges):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, {})):
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen:
                        seen.add(key)
                        out.append("circle of imports: " + " -> ".join(str(p) for p in path + [start]))
                elif nxt not in path and len(path) < 8:
                    stack.append((nxt, path + [nxt]))
    return out


if __name__ == "__main__":
    sys.exit(main())

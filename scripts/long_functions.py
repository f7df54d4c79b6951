#!/usr/bin/env python3
"""Lists production functions longer than a limit in the given Rust source folders.

`make lint` runs it: a function over the limit is a function to split. Test code (files named
`*_tests.rs`, `tests.rs`, folders of tests, and `#[cfg(test)]` modules) is not counted. A body's
length is counted from its `fn` line to its closing brace, braces found by a small lexer that
skips strings, chars and comments.

usage: long_functions.py [--max N] DIR...   (exit 1 when a function is over the limit)
"""
import pathlib
import re
import sys

TEST_DIRS = {"tests", "proptests", "scenarios", "test_support"}
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"[^\"]*\"\s+)?fn\s+(\w+)")


def code_only(text):
    """The text with strings, chars and comments blanked (newlines kept), so braces can be counted."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:]); hashes = m.group(1)
            end = text.find('"' + hashes, i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1])); i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0))); i += len(m.group(0))
            else:
                out.append(c); i += 1  # a lifetime
        else:
            out.append(c); i += 1
    return "".join(out)


def functions(path):
    text = code_only(path.read_text())
    lines = text.split("\n")
    test_until = -1
    for no, line in enumerate(lines):
        if no <= test_until:
            continue
        if re.match(r"\s*#\[cfg\(test\)\]", line):
            # skip the item that follows (a test module or test-only function)
            end = block_end(lines, no + 1)
            test_until = end
            continue
        m = FN.match(line)
        if m:
            end = block_end(lines, no)
            if end is not None:
                yield m.group(7), no + 1, end - no + 1


def block_end(lines, start):
    depth, opened = 0, False
    for no in range(start, len(lines)):
        for ch in lines[no]:
            if ch == "{":
                depth += 1; opened = True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return no
            elif ch == ";" and not opened and depth == 0:
                return no  # a declaration without a body
    return None


def main(argv):
    limit, dirs = 80, []
    while argv:
        a = argv.pop(0)
        if a == "--max":
            limit = int(argv.pop(0))
        else:
            dirs.append(a)
    over = []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("*.rs")):
            if path.name.endswith("_tests.rs") or path.name == "tests.rs" or TEST_DIRS & set(path.parts):
                continue
            for name, line, length in functions(path):
                if length > limit:
                    over.append((length, f"{path}:{line} {name}: {length} lines"))
    for _, text in sorted(over, reverse=True):
        print(text)
    if over:
        print(f"{len(over)} function(s) over {limit} lines: split them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

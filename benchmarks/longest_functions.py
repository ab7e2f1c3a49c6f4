"""The longest functions of rag/, index/, ui/ and eval/, now and at an earlier commit (Python's `ast`).

A function's length is its lines from `def` to its last line, nested functions included; a nested
function is also listed on its own (`outer.inner`). Reads the old commit with `git show`, so the
working tree is not touched. Writes the table between the markers in docs/structure.md.

    python benchmarks/longest_functions.py [--before 6220261] [--top 10] [--write]
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rag", "index", "ui", "eval")
DOC = ROOT / "docs" / "structure.md"
BEGIN, END = "<!-- longest-functions:begin -->", "<!-- longest-functions:end -->"


@dataclass(frozen=True)
class Function:
    path: str
    name: str  # qualified within the module: Class.method, outer.inner
    line: int
    length: int  # lines, def to last line


def functions(path: str, source: str) -> Iterator[Function]:
    """Every function and method in `source`, nested ones too."""

    def walk(node: ast.AST, prefix: str) -> Iterator[Function]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                assert child.end_lineno is not None
                yield Function(path, name, child.lineno, child.end_lineno - child.lineno + 1)
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(source, filename=path), "")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def sources_at(commit: str) -> dict[str, str]:
    """Path → source of the packages' Python files at `commit`."""
    paths = _git("ls-tree", "-r", "--name-only", commit, "--", *PACKAGES).split()
    return {p: _git("show", f"{commit}:{p}") for p in paths if p.endswith(".py")}


def sources_now() -> dict[str, str]:
    """Path → source of the packages' Python files in the working tree."""
    files = sorted(f for pkg in PACKAGES for f in (ROOT / pkg).rglob("*.py"))
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}


def by_length(sources: dict[str, str]) -> list[Function]:
    """Every function of `sources`, longest first."""
    found = [f for path, src in sources.items() for f in functions(path, src)]
    return sorted(found, key=lambda f: (-f.length, f.path, f.line))


def table(before: list[Function], now: list[Function], commit: str, top: int) -> str:
    rows = [
        f"| rank | at {commit} | lines | now | lines |",
        "| ---: | --- | ---: | --- | ---: |",
    ]
    for i, (b, n) in enumerate(zip(before[:top], now[:top], strict=True), start=1):
        rows.append(f"| {i} | `{b.path}` `{b.name}` | {b.length} | `{n.path}` `{n.name}` | {n.length} |")
    total = [sum(f.length for f in fs[:top]) for fs in (before, now)]
    over = [sum(f.length > 50 for f in fs) for fs in (before, now)]
    rows += [
        f"| | the {top} together | {total[0]} | | {total[1]} |",
        f"| | functions over 50 lines | {over[0]} | | {over[1]} |",
    ]
    return "\n".join(rows)


def write(doc: Path, text: str) -> None:
    """Put `text` between the markers of `doc`."""
    current = doc.read_text(encoding="utf-8")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="6220261", help="the earlier commit (default: 6220261)")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--write", action="store_true", help=f"write the table into {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    text = table(by_length(sources_at(args.before)), by_length(sources_now()), args.before, args.top)
    if args.write:
        write(DOC, text)
    print(text)


if __name__ == "__main__":
    main()

"""Find article files, read them and turn each into a cleaned `Article` with metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.clean import Removal, clean
from index.errors import IndexingError
from index.metadata import extract
from index.text import MappedText

KINDS = {".txt": "text", ".md": "markdown", ".html": "html", ".htm": "html"}
SUFFIXES = tuple(KINDS)


@dataclass(frozen=True)
class Article:
    """One article: the raw file text, its cleaned text (mapped to raw offsets) and metadata."""

    doc_id: str
    path: str
    raw: str
    text: MappedText
    removed: tuple[Removal, ...]
    title: str
    outlet: str | None
    date: str | None
    sha256: str


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Article files named by `paths` (files, or folders searched recursively), sorted.

    Raises `IndexingError` for a path that does not exist, a file of an unsupported type, or two
    files that would get the same document id (the file stem).
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise IndexingError(f"no such file or folder: {p}")
        if p.is_dir():
            found.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES)
        elif p.suffix.lower() in SUFFIXES:
            found.append(p)
        else:
            raise IndexingError(
                f"unsupported file type {p.suffix or '(none)'}: {p} (use {', '.join(SUFFIXES)})"
            )
    by_id: dict[str, Path] = {}
    for f in found:
        other = by_id.setdefault(f.stem, f)
        if other.resolve() != f.resolve():
            raise IndexingError(f"two files share the document id {f.stem!r}: {other} and {f}")
    return sorted(by_id.values(), key=lambda f: f.stem)


def parse(doc_id: str, raw: str, *, path: str = "", kind: str = "text") -> Article:
    """Clean raw article text ("text", "markdown" or "html") and extract its metadata (no I/O)."""
    cleaned = clean(raw, kind=kind)
    meta = extract(cleaned.text.text, cleaned.removed)
    return Article(
        doc_id=doc_id,
        path=path,
        raw=raw,
        text=cleaned.text,
        removed=cleaned.removed,
        title=meta.title or doc_id,
        outlet=meta.outlet,
        date=meta.date,
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
    )


def load(path: Path, data: bytes | None = None) -> Article:
    """Read one file (or take its `data`, already read) as UTF-8 and parse it.

    `IndexingError` if it cannot be read or is not UTF-8.
    """
    try:
        raw = (path.read_bytes() if data is None else data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise IndexingError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise IndexingError(f"cannot read {path}: {e.strerror or e}") from None
    # The absolute path: a server started elsewhere must still find the file to show it.
    return parse(path.stem, raw, path=str(path.resolve()), kind=KINDS[path.suffix.lower()])


def load_all(paths: Iterable[Path]) -> list[Article]:
    return [load(p) for p in paths]

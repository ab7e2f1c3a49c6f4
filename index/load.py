"""Find article files, read them and turn each into a cleaned `Article` with metadata."""

from __future__ import annotations

import codecs
import dataclasses
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.clean import Removal, clean
from index.errors import IndexingError
from index.metadata import extract, merge, page_meta
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
    author: str | None = None
    encoding: str = "UTF-8"  # of the file, when read by `load`


def unsupported(path: Path) -> str:
    """Why a file of another type is refused (the words `rag ingest` and uploads use)."""
    return f"unsupported file type {path.suffix or '(none)'}: {path} (use {', '.join(SUFFIXES)})"


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) ingest left out, and why, in words a person can act on."""

    path: str
    reason: str


class FileSkipped(IndexingError):
    """One file cannot be indexed; the rest of the batch can."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.skipped = Skipped(str(path), reason)


@dataclass(frozen=True)
class Found:
    """What `find` found: article files, sorted by document id, and what it could not search."""

    files: list[Path]
    skipped: list[Skipped]


def _walk(folder: Path, found: list[Path], skipped: list[Skipped]) -> None:
    """Article files under `folder`, following symlinked folders but never the same folder twice."""
    seen: set[tuple[int, int]] = set()

    def on_error(e: OSError) -> None:
        skipped.append(Skipped(str(e.filename or folder), f"cannot read this folder ({e.strerror or e})"))

    for top, dirs, files in os.walk(folder, onerror=on_error, followlinks=True):
        st = os.stat(top)
        seen.add((st.st_dev, st.st_ino))
        for d in sorted(dirs):
            sub = Path(top, d)
            try:
                sst = sub.stat()
            except OSError as e:
                skipped.append(Skipped(str(sub), unreadable(e)))
                dirs.remove(d)
                continue
            if (sst.st_dev, sst.st_ino) in seen:
                # A symlink back to a folder already searched (a loop, or a second way in).
                skipped.append(Skipped(str(sub), "symlink loop: leads to a folder already searched"))
                dirs.remove(d)
        dirs.sort()
        found.extend(Path(top, f) for f in files if Path(f).suffix.lower() in SUFFIXES)


def unreadable(e: OSError | RuntimeError) -> str:
    """Why a file cannot be read, from the error its stat or open raised."""
    if isinstance(e, RuntimeError) or e.errno == errno.ELOOP:  # pathlib's resolve() says RuntimeError
        return "symlink loop"
    if e.errno == errno.ENOENT:
        return "broken symlink (its target does not exist)"
    return f"cannot read it ({e.strerror or e})"


def find(paths: Sequence[str | Path]) -> Found:
    """Article files named by `paths` (files, or folders searched recursively), sorted by document id,
    and the files and folders that cannot be read (symlink loops, unreadable folders).

    Raises `IndexingError` for a path that does not exist, a file of an unsupported type, or two
    files that would get the same document id (the file stem): the user must fix those.
    """
    found: list[Path] = []
    skipped: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_symlink() and not p.exists():
            skipped.append(Skipped(str(p), unreadable(_stat_error(p))))
        elif not p.exists():
            raise IndexingError(f"no such file or folder: {p}")
        elif p.is_dir():
            _walk(p, found, skipped)
        elif p.suffix.lower() in SUFFIXES:
            found.append(p)
        else:
            raise IndexingError(unsupported(p))
    by_id: dict[str, Path] = {}
    for f in found:
        other = by_id.setdefault(f.stem, f)
        if other != f and _same_file(other, f) is False:
            raise IndexingError(f"two files share the document id {f.stem!r}: {other} and {f}")
    return Found(sorted(by_id.values(), key=lambda f: f.stem), skipped)


def _stat_error(p: Path) -> OSError:
    try:
        p.stat()
    except OSError as e:
        return e
    return OSError(errno.EIO, "unknown")


def _same_file(a: Path, b: Path) -> bool | None:
    """Whether two paths are one file (None when one cannot be resolved: a loop, reported later)."""
    try:
        return a.resolve(strict=True) == b.resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """The article files of `find(paths)` (what it could not search is left out)."""
    return find(paths).files


def parse(doc_id: str, raw: str, *, path: str = "", kind: str = "text", sha256: str | None = None) -> Article:
    """Clean raw article text ("text", "markdown" or "html") and extract its metadata (no I/O):
    a web page's own markup first (`page_meta`), then its text.

    `sha256` is of the file's bytes (default: of `raw` as UTF-8, which is the same for a UTF-8 file).
    """
    cleaned = clean(raw, kind=kind)
    meta = extract(cleaned.text.text, cleaned.removed)
    if kind == "html":
        meta = merge(page_meta(raw), meta)
    return Article(
        doc_id=doc_id,
        path=path,
        raw=raw,
        text=cleaned.text,
        removed=cleaned.removed,
        title=meta.title or doc_id,
        outlet=meta.outlet,
        date=meta.date,
        sha256=sha256 or hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        author=meta.author,
    )


# Larger than any article. Cleaning and chunking are linear: 10 MB of prose is about 11 s and
# 0.4 GB to clean and 14k chunks to embed (minutes on 2 cores, with progress); 50 MB would be
# 2 GB and 70k chunks in one "article", which is a corpus to split, not a page to index.
MAX_FILE_BYTES = 10_000_000
# The start of common binary formats, to say what a misnamed file is.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or an office document)"),
    (b"\x1f\x8b", "a gzip archive"),
)
# A text file has few control characters; ANSI colour codes (ESC) are removed by cleaning.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.1


def decode(data: bytes) -> tuple[str, str]:
    """The text of an article file and the encoding it was read in.

    UTF-8 (the norm), UTF-16/32 when a byte-order mark says so, else Windows-1252 (Latin-1 for the
    bytes it leaves undefined): saved web pages are often in it, and every byte decodes, so the
    binary check comes first. `ValueError` (a reason to show) for binary data.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                # Real UTF-16/32 text has NUL bytes (every space and newline has one).
                if b"\x00" in data[len(bom) :]:
                    return data.decode(codec), codec.upper()
            except UnicodeDecodeError:
                pass
            raise ValueError(f"not UTF-8 text, nor the {codec.upper()} its byte-order mark announces")
    kind = next((what for magic, what in _MAGIC if data.startswith(magic)), None)
    if kind is not None or b"\x00" in data:
        raise ValueError(f"binary file ({kind or 'NUL bytes'}), not text")
    try:
        text, encoding = data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "Latin-1"
    controls = len(_CONTROL.findall(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise ValueError(f"binary file ({controls * 100 // len(text)}% control characters), not text")
    return text, encoding


def read(path: Path) -> bytes:
    """The bytes of one article file; `FileSkipped` when it is no regular file, too large or unreadable."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever
            raise FileSkipped(path, "not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise FileSkipped(path, _too_large(st.st_size))
        with path.open("rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise FileSkipped(path, unreadable(e)) from None


def _too_large(size: int) -> str:
    return (
        f"too large for an article ({size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB): "
        "split it into articles"
    )


def load(path: Path, data: bytes | None = None) -> Article:
    """Read one file (or take its `data`, already read), decode it and parse it.

    `FileSkipped` (an `IndexingError`) with the reason when it cannot be indexed: unreadable, too
    large, empty, or binary.
    """
    data = read(path) if data is None else data
    if len(data) > MAX_FILE_BYTES:
        raise FileSkipped(path, _too_large(len(data)))
    if not data.strip():
        raise FileSkipped(path, "empty file")
    try:
        raw, encoding = decode(data)
    except ValueError as e:
        raise FileSkipped(path, str(e)) from None
    # The absolute path: a server started elsewhere must still find the file to show it.
    article = parse(
        path.stem,
        raw,
        path=str(path.resolve()),
        kind=KINDS[path.suffix.lower()],
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return dataclasses.replace(article, encoding=encoding)


def load_all(paths: Iterable[Path]) -> list[Article]:
    return [load(p) for p in paths]

"""Articles a person adds from the UI: several files at once, an outcome per file.

Each file goes through `Engine.add_document` (saved under RAG_DATA_DIR/uploads/, then ingested), so
it is searchable as soon as its outcome is reported. A bad file gets the message `rag ingest` gives
for it and leaves the index as it was; the files after it are still added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.load import KINDS, decode, unsupported
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.wiring import Engine

Status = Literal["added", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class FileOutcome:
    """What became of one uploaded file: its document id and title, or why it was skipped."""

    name: str
    status: Status
    doc_id: str | None = None
    detail: str = ""  # the title for an indexed file, the reason for a skipped one


def doc_id_for(filename: str) -> str:
    """A document id from a file name ("My story (1).html" → "My_story_1")."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem).strip("_-")
    return stem[:128] or "upload"


def add_files(
    engine: Engine,
    files: Sequence[tuple[str, bytes]],
    progress: Callable[[int, int, str], None] | None = None,
) -> list[FileOutcome]:
    """Add each (file name, bytes) to the index; `progress(done, total, name)` before each file."""
    out = []
    for i, (name, data) in enumerate(files):
        if progress is not None:
            progress(i, len(files), name)
        out.append(_add_one(engine, Path(name).name, data))
    if progress is not None:
        progress(len(files), len(files), "")
    return out


def _add_one(engine: Engine, name: str, data: bytes) -> FileOutcome:
    if Path(name).suffix.lower() not in KINDS:
        return FileOutcome(name, "skipped", detail=unsupported(Path(name)))
    try:
        text, _ = decode(data)
    except ValueError as e:  # binary data: the same words as `rag ingest`
        return FileOutcome(name, "skipped", detail=f"{name}: {e}")
    try:
        reason = engine.unindexable(text, Path(name).suffix)
        if reason:  # checked before anything is written: an upload of the same name stays as it was
            return FileOutcome(name, "skipped", detail=f"{name}: {reason}")
        info, report = engine.add_document(text, doc_id=doc_id_for(name), filename=name)
    except RagError as e:  # the person's file, not the server, is at fault: say why and go on
        return FileOutcome(name, "skipped", detail=str(e))
    status: Status = "added" if report.added else "updated" if report.updated else "unchanged"
    return FileOutcome(name, status, info.doc_id, info.title)

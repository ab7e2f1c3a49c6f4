"""Metadata a person set by hand (outlet, date, author), kept in a JSON file beside the index.

A correction is stored per document id, so it survives re-ingest of the same file: ingest labels
chunks with what the article states, then `relabel` puts the hand-set values back. Only the JSON
file and the two stores are touched; nothing is re-embedded.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from index.store import LexicalIndex, VectorStore

FIELDS = ("outlet", "date", "author")


@dataclass(frozen=True)
class Correction:
    """The hand-set fields of one document (None: not set by hand, the article's own value holds)."""

    outlet: str | None = None
    date: str | None = None  # ISO 8601 (YYYY-MM-DD)
    author: str | None = None

    def set_fields(self) -> tuple[str, ...]:
        return tuple(f for f in FIELDS if getattr(self, f) is not None)

    def labels(self) -> dict[str, str]:
        """The hand-set fields and their values."""
        return {f: getattr(self, f) for f in self.set_fields()}


def load_corrections(path: Path) -> dict[str, Correction]:
    """The corrections saved at `path` (none when the file does not exist)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    known = {f.name for f in fields(Correction)}
    return {
        doc: Correction(**{k: v for k, v in entry.items() if k in known and isinstance(v, str)})
        for doc, entry in data.items()
        if isinstance(entry, dict)
    }


def save_corrections(path: Path, corrections: Mapping[str, Correction]) -> None:
    """Write atomically (a reader sees the old file or the new one); documents without a correction
    are left out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        doc: {k: v for k, v in asdict(c).items() if v is not None}
        for doc, c in sorted(corrections.items())
        if c.set_fields()
    }
    fd, tmp = tempfile.mkstemp(prefix=".corrections-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def relabel(
    store: VectorStore, lexical: LexicalIndex, folder: Path, labels: Mapping[str, Mapping[str, str | None]]
) -> LexicalIndex:
    """Give every stored chunk of each document in `labels` those field values, in Chroma and in
    the lexical index (saved under `folder`); chunks already labelled so are not rewritten."""
    changed = []
    records = []
    for r in lexical.records:
        want = labels.get(r.doc_id)
        new = replace(r, **{k: v or None for k, v in want.items()}) if want else r  # type: ignore[arg-type]
        records.append(new)
        if new != r:
            changed.append(new)
    if not changed:
        return lexical
    store.update_metadata(changed)
    fresh = lexical.relabelled(records)
    fresh.save(folder)
    return fresh

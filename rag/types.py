"""Small frozen result types shared by the core, the edges and the evaluation."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some articles. Outlet matches case-insensitively as a substring;
    dates are inclusive, and an article without a stated date never passes a date filter."""

    outlet: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def __bool__(self) -> bool:
        return bool(self.outlet or self.since or self.until)

    def admits(self, outlet: str | None, date: str | None) -> bool:
        if self.outlet and self.outlet.casefold() not in (outlet or "").casefold():
            return False
        if self.since or self.until:
            if not date:
                return False
            day = dt.date.fromisoformat(date)
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, numbered for citation (`n` starts at 1)."""

    n: int
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    chunk_id: str
    start: int  # offsets into the original article file: raw[start:end]
    end: int
    text: str
    score: float  # fused score (hybrid) or the single retriever's score
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

"""Title, outlet and publication date, read from what an article states about itself.

Nothing is invented: a field the text does not state stays `None`. The outlet comes from the page's
own attributions (syndication notes, "Source:" lines, a site header that cites another paper, a
dateline tag, a signature); the date only from page furniture (datelines, "Last Modified:"), never
from dates that appear inside the story.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.clean import Removal, is_breadcrumb


@dataclass(frozen=True)
class ArticleMeta:
    title: str
    outlet: str | None
    date: str | None  # ISO 8601 (YYYY-MM-DD)


_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
)
_NAME = r"[A-Z][\w&'’-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w&'’-]*){0,4}"
_PRESS = r"(?:Times|Post|Journal|News|Herald|Tribune|Guardian|Reuters|Press|Telegraph|Monitor|Gazette)"


def find_date(text: str) -> str | None:
    """The first full calendar date (day, month and year) stated in `text`, as ISO."""
    hits = []
    for rx in _DATE_PATTERNS:
        for m in rx.finditer(text):
            parts = m.groupdict()
            month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS[parts["month"].lower()]
            try:
                day = dt.date(int(parts["year"]), month, int(parts["day"]))
            except ValueError:
                continue
            hits.append((m.start(), day))
    return min(hits)[1].isoformat() if hits else None


def _title(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    # Drop a section label glued to the headline ("… enemies – INTERNATIONAL").
    return re.sub(r"\s+[–—|-]\s+[A-Z][A-Z &]+$", "", first)


def _outlet(text: str, removed: Sequence[Removal]) -> str | None:
    furniture = "\n".join(r.text for r in removed)
    both = furniture + "\n" + text

    via = re.search(r"originally published (?:by|on|in)\s+(?:the\s+)?(" + _NAME + ")", both)
    if via:
        name = via.group(1).rstrip(".")
        host = re.search(r"views of\s+(?:the\s+)?(" + _NAME + ")", both)
        return f"{name} via {host.group(1).rstrip('.')}" if host else name

    for r in removed:
        source = re.match(r"source\s*:\s*(.+)$", r.text, re.I)
        if source and r.reason == "site chrome":
            return source.group(1).strip()

    site = None
    for r in removed:
        if r.reason == "site chrome" and is_breadcrumb(r.text):
            last = re.split(r"\s+[-/|»›>]\s+", r.text.strip())[-1].strip()
            if last and len(last.split()) <= 3 and not re.match(r"home\b", r.text, re.I):
                site = last
                break
    cited = re.search(r"according to\s+(?:the\s+)?((?:[A-Z][\w.]*\s+){0,3}" + _PRESS + r")\b", text)
    if site and cited:
        return f"{site} citing the {cited.group(1)}"

    dateline = re.search(r"^\(([A-Z][A-Z-]{2,})\)", text, re.M)
    if dateline:
        tag = dateline.group(1).replace("-", "")
        # The tag is often an all-caps squeeze of a name the page spells out ("Anti-Media").
        spelled = r"\b" + r"[\s-]?".join(map(re.escape, tag)) + r"\b"
        names = [m.group(0) for m in re.finditer(spelled, both, re.I) if m.group(0) != m.group(0).upper()]
        return names[0] if names else dateline.group(1)

    for r in removed:
        if r.reason == "outlet signature":
            return r.text
    return site


def extract(text: str, removed: Sequence[Removal]) -> ArticleMeta:
    """Metadata for a cleaned article, given the furniture the cleaner removed from it."""
    date = None
    for r in removed:
        if r.reason == "site chrome":
            date = find_date(r.text)
            if date:
                break
    return ArticleMeta(title=_title(text), outlet=_outlet(text, removed), date=date)

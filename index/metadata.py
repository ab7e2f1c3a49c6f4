"""Title, outlet, publication date and author, read from what an article states about itself.

Nothing is invented: a field the article does not state stays `None`. From a web page first
(`page_meta`): JSON-LD `NewsArticle` (headline, datePublished, author, publisher), Open Graph
(`og:title`, `og:site_name`, `article:published_time`), `<title>`, `<time datetime>`, an author
meta tag or byline element. Then from the text (`extract`): the outlet from the page's own
attributions (syndication notes, "Source:" lines, a site header that cites another paper, a
dateline tag, a signature); the date only from page furniture (datelines, "Last Modified:"), never
from dates that appear inside the story; the author from a byline ("By …", "… writes") or the
attribution of a licence line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any

from index.clean import Removal, is_breadcrumb

# Bumped when the same file would get other metadata: re-ingest then relabels its chunks (no re-embedding).
METADATA_VERSION = 2


@dataclass(frozen=True)
class ArticleMeta:
    title: str
    outlet: str | None
    date: str | None  # ISO 8601 (YYYY-MM-DD)
    author: str | None = None


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


# A person's name: two to four capitalised words ("Jane Doe", "Mary-Kate O'Neil", "J. R. Smith").
_PERSON = r"[A-Z][\w'’.-]*(?:[ ]+(?:van|von|de|del|al|bin|ibn)?[ ]*[A-Z][\w'’.-]+){1,3}"
_PEOPLE = _PERSON + r"(?:(?:[ ]+and[ ]+|[ ]*&[ ]*)" + _PERSON + r")*"  # a comma starts a role
_BYLINE = re.compile(r"^(?:By|BY|by)[ ]+(" + _PEOPLE + r")[ ]*(?:[,|·—–-][^\n]{0,80})?$", re.M)
_WRITES = re.compile(r"^(" + _PERSON + r")[ ]+writes\b|\bwrites[ ]+(" + _PERSON + r")\b", re.M)
_LICENCE = re.compile(r"\battribution to[ ]+(" + _PERSON + r")(?=[ ]+and\b|[ ]*[,.(]|[ ]*$)", re.M)
# Not a person: an outlet or a role that a byline pattern could take for one.
_NOT_PERSON = re.compile(_PRESS + r"|^the\b|\b(?:staff|editor|editorial|agency|desk|correspondent)\b", re.I)


def _person(name: str) -> str | None:
    name = " ".join(name.split()).strip(" ,.")
    return name if name and not _NOT_PERSON.search(name) else None


def _name_in(value: str) -> str | None:
    """The person(s) a byline-like value starts with ("By Jane Doe | 3 March" → "Jane Doe")."""
    m = re.match(_PEOPLE, re.sub(r"^\s*by\s+", "", value, flags=re.I))
    return _person(m.group(0)) if m else None


def find_author(text: str, removed: Sequence[Removal] = ()) -> str | None:
    """Who wrote the article, if its text says so: a byline near the top ("By Jane Doe",
    "Jane Doe writes"), else the attribution of a licence line ("… with attribution to Jane Doe")."""
    head = "\n".join(text.splitlines()[:8])
    for rx in (_BYLINE, _WRITES):
        for m in rx.finditer(head):
            name = _person(next(g for g in m.groups() if g))
            if name:
                return name
    furniture = "\n".join(r.text for r in removed)
    for m in _LICENCE.finditer(furniture + "\n" + text):
        name = _person(m.group(1))
        if name:
            return name
    return None


def extract(text: str, removed: Sequence[Removal]) -> ArticleMeta:
    """Metadata for a cleaned article, given the furniture the cleaner removed from it."""
    date = None
    for r in removed:
        if r.reason == "site chrome":
            date = find_date(r.text)
            if date:
                break
    return ArticleMeta(
        title=_title(text), outlet=_outlet(text, removed), date=date, author=find_author(text, removed)
    )


@dataclass(frozen=True)
class PageMeta:
    """What a web page states about itself in its markup (each field None when it does not)."""

    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    author: str | None = None


def merge(page: PageMeta, text: ArticleMeta) -> ArticleMeta:
    """The page's own markup wins over what the text suggests; the text fills the gaps."""
    return replace(
        text,
        title=page.title or text.title,
        outlet=page.outlet or text.outlet,
        date=page.date or text.date,
        author=page.author or text.author,
    )


def _iso(value: str | None) -> str | None:
    """An ISO date(-time) or a written date, as YYYY-MM-DD."""
    if not value:
        return None
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    return find_date(value)


def _names(value: Any) -> list[str]:
    """Names in a JSON-LD author or publisher: a string, an object with `name`, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type", "")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and (k.endswith("Article") or k == "BlogPosting") for k in kinds)


def _article_nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for v in value:
            yield from _article_nodes(v)
    elif isinstance(value, dict):
        if _is_article(value):
            yield value
        yield from _article_nodes(value.get("@graph"))


def _text(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


@dataclass
class _PageParser(HTMLParser):
    """Collects the tags `page_meta` reads; the page's text itself is the cleaner's business."""

    meta: dict[str, str] = field(default_factory=dict)
    jsonld: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    h1: list[str] = field(default_factory=list)
    bylines: list[list[str]] = field(default_factory=list)
    _open: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key and "content" in a:
                self.meta.setdefault(key, a["content"].strip())
            return
        if tag == "time" and a.get("datetime"):
            self.times.append(a["datetime"])
        target = None
        if tag == "script" and "ld+json" in a.get("type", ""):
            target = []
            self.jsonld.append("")
        elif tag == "title" and not self.title:
            target = self.title
        elif tag == "h1" and not self.h1:
            target = self.h1
        elif tag in {"a", "span", "div", "p", "address"} and (
            re.search(r"\b(byline|author)\b", a.get("class", "") + " " + a.get("rel", ""), re.I)
        ):
            target = []
            self.bylines.append(target)
        if target is not None:
            self._open.append((tag, target))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._open:
            return
        if self._open[-1][0] == "script":
            self.jsonld[-1] += data
        else:
            for _, t in self._open:
                t.append(data)


def _split_title(title: str, h1: str, site: str | None) -> tuple[str, str | None]:
    """`<title>` without the site name tacked on ("Headline | Site"), and that site name: split
    only where the other part is the page's headline or the site name it states elsewhere."""
    for sep in (" | ", " – ", " — ", " - ", " :: "):
        if sep in title:
            head, tail = (p.strip() for p in title.rsplit(sep, 1))
            if site and tail.casefold() == site.casefold():
                return head, tail
            if h1 and head.casefold() == h1.casefold():
                return head, tail
    return title, None


def page_meta(raw_html: str) -> PageMeta:
    """Title, outlet, date and author as a web page's markup states them (no I/O)."""
    p = _PageParser()
    try:
        p.feed(raw_html)
        p.close()
    except AssertionError:  # html.parser gives up on some malformed markup; keep what it read
        pass
    ld: dict[str, Any] = {}
    for block in p.jsonld:
        try:
            ld = next(_article_nodes(json.loads(block)), {})
        except ValueError:
            continue
        if ld:
            break
    m = p.meta
    publisher = next(iter(_names(ld.get("publisher"))), None) or m.get("og:site_name") or None
    headline = next(iter(_names(ld.get("headline"))), None) or m.get("og:title") or None
    title, site = _split_title(_text(p.title), _text(p.h1), publisher)
    authors = _names(ld.get("author")) or [
        v for v in (m.get("author"), m.get("article:author"), m.get("byl")) if v and "://" not in v
    ]
    if not authors:
        authors = [_text(b) for b in p.bylines if _text(b)][:1]
    names = [n for n in map(_name_in, authors) if n]
    stated = [*_names(ld.get("datePublished")), m.get("article:published_time"), *p.times]
    date = next(filter(None, map(_iso, stated)), None)
    return PageMeta(
        title=" ".join(headline.split()) if headline else (title or None),
        outlet=publisher or site,
        date=date,
        author=", ".join(dict.fromkeys(names)) or None,
    )

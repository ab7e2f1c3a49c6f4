"""Strip the web junk news articles carry, keeping a map back to the raw file.

Rules are generic patterns of page furniture (site chrome, ads and fundraising, syndication
boilerplate, lines in a foreign script, repeated headlines), never rules for one article. Every
removal is reported with its reason and raw span so it can be audited.
"""

from __future__ import annotations

import collections
import functools
import html
import re
import unicodedata
from dataclasses import dataclass

from index.text import MappedText


@dataclass(frozen=True)
class Removal:
    """One piece of the raw file that the cleaner dropped."""

    reason: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Cleaned:
    """The cleaned article text and what was removed to get it."""

    text: MappedText
    removed: tuple[Removal, ...]


_I = re.IGNORECASE

# Whole lines that are page furniture rather than article text, by reason.
_LINE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("site chrome", re.compile(r"^skip to (main )?content$", _I)),
    ("site chrome", re.compile(r"^(source link|read more|share this( article)?|print)$", _I)),
    ("site chrome", re.compile(r"^\d+\s+(responses?|comments?|replies|thoughts)\s+(to|on)\b", _I)),
    ("site chrome", re.compile(r"^(affected countries|tags?|categories|filed under|topics)\s*:", _I)),
    ("site chrome", re.compile(r"^(last (modified|updated)|published|posted( on)?|updated)\s*:", _I)),
    ("site chrome", re.compile(r"^source\s*:\s*\S.{0,80}$", _I)),
    ("advertising", re.compile(r"\bclick here\b", _I)),
    ("advertising", re.compile(r"\bwe(?:'|\u2019)re revolutionizing the news industry\b", _I)),
    ("advertising", re.compile(r"^advertisement$|\bsign up for our newsletter\b", _I)),
    ("advertising", re.compile(r"\b(support (our|independent) journalism|donate now)\b", _I)),
    ("syndication boilerplate", re.compile(r"\boriginally published (by|on|in)\b", _I)),
    ("syndication boilerplate", re.compile(r"\bopinions expressed are those of\b", _I)),
    ("syndication boilerplate", re.compile(r"\byou have permission to republish\b", _I)),
    ("syndication boilerplate", re.compile(r"\bcreative commons licen[cs]e\b", _I)),
)
# A furniture line is short; a long paragraph that merely mentions "click here" is article text.
_MAX_FURNITURE_CHARS = 400
_BREADCRUMB_SEPARATORS = (" / ", " \u00bb ", " \u203a ", " | ", " - ", " > ")
_SIGNATURE = re.compile(r"(?<=[.!?\"\u201d])[ ]+((?:[A-Z][\w&.-]*)(?:[ ][A-Z][\w&.-]*){0,2})\Z")
_SENTENCE_END = re.compile(r"[.!?\"\u201d\u2019]$")


@functools.lru_cache(maxsize=4096)
def _is_latin(c: str) -> bool:
    return c.isascii() or "LATIN" in unicodedata.name(c, "")


def _latin_share(line: str) -> float | None:
    # Counted per distinct letter: a name lookup per character was most of the cleaning time.
    counts = collections.Counter(line)
    letters = sum(n for c, n in counts.items() if c.isalpha())
    if not letters:
        return None
    latin = sum(n for c, n in counts.items() if c.isalpha() and _is_latin(c))
    return latin / letters


def is_breadcrumb(line: str) -> bool:
    """A navigation trail such as `Home / World / …` or `Iraq News - Local News - Site`."""
    stripped = line.strip()
    if re.match(r"^home\s*[/\u00bb\u203a|>]", stripped, _I):
        return True
    for sep in _BREADCRUMB_SEPARATORS:
        parts = [p.strip() for p in f" {stripped} ".split(sep)]
        filled = [p for p in parts if p]
        trailing = len(parts) - len(filled) >= 1 and len(filled) >= 2
        if (len(filled) >= 3 or trailing) and all(len(p.split()) <= 12 for p in filled):
            return not _SENTENCE_END.search(stripped)
    return False


def _line_reason(line: str, latin_doc: bool, seen: set[str]) -> str | None:
    stripped = line.strip()
    if not stripped:
        return None
    if len(stripped) <= _MAX_FURNITURE_CHARS:
        for reason, rx in _LINE_RULES:
            if rx.search(stripped):
                return reason
        if is_breadcrumb(stripped):
            return "site chrome"
    share = _latin_share(stripped)
    if latin_doc and share is not None and share < 0.5:
        return "foreign-script line"
    key = " ".join(stripped.lower().split())
    if key in seen:
        return "repeated line"
    seen.add(key)
    return None


def _decode_entities(text: MappedText) -> MappedText:
    # "& # 39;" is an HTML entity mangled by a scraper that put spaces inside it.
    text = text.sub(r"&\s*#\s*(\d{1,6})\s*;", lambda m: _safe_chr(int(m.group(1))))
    text = text.sub(r"&\s*#\s*[xX]\s*([0-9a-fA-F]{1,6})\s*;", lambda m: _safe_chr(int(m.group(1), 16)))
    return text.sub(r"&[a-zA-Z]{2,8};", lambda m: html.unescape(m.group(0)))


def _safe_chr(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _strip_html(text: MappedText) -> MappedText:
    text = text.sub(r"<(script|style|noscript|template)\b.*?</\1\s*>", "", re.S | _I)
    text = text.sub(r"<!--.*?-->", "", re.S)
    block = r"</?(p|div|br|h[1-6]|li|ul|ol|tr|table|section|article|header|footer|blockquote|title)\b[^>]*>"
    text = text.sub(block, "\n\n", _I)
    return text.sub(r"<[^>]+>", "")


def _strip_markdown(text: MappedText) -> MappedText:
    text = text.sub(r"(?m)^[ ]{0,3}#{1,6}[ ]+(.*?)[ ]*#*[ ]*$", r"\1")  # ATX headings
    text = text.sub(r"!?\[([^\]\n]*)\]\([^)\n]*\)", r"\1")  # links and images keep their text
    text = text.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2")  # strong emphasis
    return text.sub(r"(?m)^[ ]{0,3}(?:[-*_][ ]*){3,}$", "")  # horizontal rules


def clean(raw: str, *, kind: str = "text") -> Cleaned:
    """Clean one article's raw text.

    `kind` is "text", "markdown" or "html". Steps, in order: markup (HTML tags, or Markdown
    headings, links, emphasis and rules), entities (including the scraper-mangled
    `& # 39;`), odd white space, furniture lines, stray closing brackets, numbers split across a
    paragraph break (`201\\n\\n4` → `2014`), blank-line runs.
    """
    text = MappedText.identity(raw)
    if kind == "html":
        text = _strip_html(text)
    elif kind == "markdown":
        text = _strip_markdown(text)
    text = _decode_entities(text)
    text = text.sub(r"\r\n?", "\n")
    text = text.sub(r"[\u00a0\u2007\u202f\t]", " ")
    text = text.sub(r"[\u200b\u200c\u200d\ufeff]", "")

    lines = list(re.finditer(r"[^\n]+", text.text))
    latin_doc = (_latin_share(text.text) or 0.0) >= 0.8
    seen: set[str] = set()
    removed: list[Removal] = []
    edits: list[tuple[int, int, str]] = []
    for m in lines:
        reason = _line_reason(m.group(0), latin_doc, seen)
        if reason is None:
            continue
        edits.append((m.start(), m.end(), ""))
        start, end = text.raw_span(m.start(), m.end())
        removed.append(Removal(reason, start, end, m.group(0).strip()))
    text = text.replace_spans(edits)

    # A heading torn from its opening bracket ("taking a chance ]").
    text = text.sub(r"(?m)^([^\[\n]*?)[ ]*\][ ]*$", r"\1")
    # "collapsed in 201\n\n4, a coalition": a paragraph cannot end on a bare digit.
    text = text.sub(r"(?<=\d)[ ]*\n\s*\n[ ]*(?=\d)", "")
    text = text.sub(r"[ ]+\n", "\n")
    text = text.sub(r"\n{3,}", "\n\n")
    text = text.sub(r"[ ]{2,}", " ")
    text = text.strip()
    # An outlet's name signed after the last sentence ("… likely to continue. NJ Times").
    sig = _SIGNATURE.search(text.text)
    if sig:
        start, end = text.raw_span(sig.start(1), sig.end(1))
        removed.append(Removal("outlet signature", start, end, sig.group(1)))
        text = text.replace_spans([(sig.start(), sig.end(), "")])
    removed.sort(key=lambda r: r.start)
    return Cleaned(text, tuple(removed))

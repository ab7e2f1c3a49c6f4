"""Pure rendering for the chat: answers, evidence, sources and articles as HTML, answers as text.

Everything that comes from an article (text, titles, outlets) is untrusted: it goes through `esc`,
which also encodes the characters Markdown, LaTeX and template engines react to, so a hostile
article can neither inject markup nor be re-interpreted by the chat's Markdown renderer.
HTML meant for the chatbot is one line with no blank lines: Markdown keeps a block that starts
with a tag and has no blank line as raw HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from rag.citations import split_sentences, strip_citations
from rag.library import FileOutcome
from rag.types import Answer, Citation, Conflict, Document, DocumentInfo, Evidence, Passage, Quote

_EXTRA = str.maketrans(
    {
        "$": "&#36;",
        "{": "&#123;",
        "}": "&#125;",
        "`": "&#96;",
        "\\": "&#92;",
        "*": "&#42;",
        "_": "&#95;",
        "~": "&#126;",
        "[": "&#91;",
        "]": "&#93;",
        "|": "&#124;",
    }
)
_MARKER = re.compile(r"\[(\d{1,4})\]")


def esc(text: str | None) -> str:
    """Escape untrusted text for HTML (and for the Markdown/template layers around it)."""
    return html.escape(text or "", quote=True).translate(_EXTRA)


def one_line(text: str) -> str:
    """Collapse white space (quotes shown inside the chat must not contain blank lines)."""
    return " ".join(text.split())


_OPENING = "“\"‘'«„"
_CLOSING = '”"’»“'  # not "'": a quote may end on a plural possessive


def quoted(text: str) -> str:
    """Text in quotation marks, unless it starts or ends with its own (no doubled marks)."""
    if text[:1] in _OPENING or text[-1:] in _CLOSING:
        return text
    return f"“{text}”"


def source_label(outlet: str | None, date: str | None, author: str | None = None) -> str:
    """ "Outlet, date" (with ", by Author" when the article names one)."""
    return f"{outlet or 'Unknown outlet'}, {date or 'undated'}" + (f", by {author}" if author else "")


@dataclass(frozen=True)
class Span:
    """Where a citation chip points: `doc_id`'s original text, characters start..end."""

    n: int
    doc_id: str
    start: int
    end: int
    label: str  # tooltip: outlet, date, title


def spans_for(answer_or_passages: Answer | Sequence[Passage]) -> dict[int, Span]:
    """Citation number → the span its chip opens: the verified quote for a cited passage,
    else the whole passage."""
    if isinstance(answer_or_passages, Answer):
        passages: Sequence[Passage] = answer_or_passages.passages
        citations: Sequence[Citation] = answer_or_passages.citations
    else:
        passages, citations = answer_or_passages, ()
    out = {
        p.n: Span(p.n, p.doc_id, p.start, p.end, f"{source_label(p.outlet, p.date, p.author)} — {p.title}")
        for p in passages
    }
    for c in citations:
        out[c.n] = Span(
            c.n, c.doc_id, c.start, c.end, f"{source_label(c.outlet, c.date, c.author)} — {c.title}"
        )
    return out


def chip(n: int, span: Span | None, *, start: int | None = None, end: int | None = None) -> str:
    """A clickable `[n]`: opens the article at the span (or at start..end when given)."""
    if span is None:
        return f'<span class="nr-cite nr-cite-missing">[{n}]</span>'
    s = span.start if start is None else start
    e = span.end if end is None else end
    return f'<a class="nr-cite" href="{chip_href(n, span.doc_id, s, e)}" title="{esc(span.label)}">[{n}]</a>'


def chip_href(n: int, doc_id: str, start: int, end: int) -> str:
    """What a chip opens, in its href (the chat's HTML sanitizer drops data-* attributes)."""
    return f"#cite/{n}/{start}/{end}/{quote(doc_id, safe='')}"


def parse_chip_href(href: str) -> tuple[int, str, int, int] | None:
    """`chip_href` read back: (n, doc_id, start, end), or None."""
    m = re.fullmatch(r"#cite/(\d+)/(\d+)/(\d+)/([^/]+)", href)
    if not m:
        return None
    return int(m.group(1)), unquote(m.group(4)), int(m.group(2)), int(m.group(3))


def quote_chip(q: Quote, spans: dict[int, Span]) -> str:
    """A chip that opens exactly this quote (not the passage's best sentence)."""
    span = spans.get(q.n)
    return chip(q.n, span, start=q.start, end=q.end) if span and span.doc_id == q.doc_id else chip(q.n, span)


def with_chips(text: str, spans: dict[int, Span], quotes: Sequence[Quote] = ()) -> str:
    """Escape `text` and turn each `[n]` marker into a citation chip: one that opens the quote of
    `quotes` in passage n when there is one (what backs this sentence), else the citation's span."""
    exact = {q.n: q for q in quotes}
    out = []
    last = 0
    for m in _MARKER.finditer(text):
        out.append(esc(text[last : m.start()]))
        n = int(m.group(1))
        out.append(quote_chip(exact[n], spans) if n in exact else chip(n, spans.get(n)))
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def answer_with_chips(answer: Answer, spans: dict[int, Span]) -> str:
    """The answer's text with chips, each sentence's opening the sentence(s) that back it: two
    sentences citing one passage may rest on two of its sentences."""
    backing = {one_line(c.text): c.quotes for c in answer.claims if c.supported}
    return " ".join(
        with_chips(sentence, spans, backing.get(one_line(strip_citations(sentence)), ()))
        for sentence in split_sentences(one_line(answer.answer))
    )


def _side_word(e: Evidence, conflicts: Sequence[Conflict]) -> str:
    for c in conflicts[:1]:
        for side in c.sides:
            if side.sign == e.stance and e.stance:
                return f' <span class="nr-stance">says: {esc(side.position)}</span>'
    return ""


def evidence_html(
    evidence: Sequence[Evidence], conflicts: Sequence[Conflict], spans: dict[int, Span], *, open_: bool = True
) -> str:
    """ "What each source says": per article, its outlet, date, title and best quotes, cited."""
    if not evidence:
        return ""
    items = []
    for e in evidence:
        quotes = "".join(f"<li>{esc(quoted(one_line(q.text)))} {quote_chip(q, spans)}</li>" for q in e.quotes)
        items.append(
            f'<div class="nr-source"><b>{esc(source_label(e.outlet, e.date))}</b> — '
            f"<i>{esc(e.title)}</i>{_side_word(e, conflicts)}<ul>{quotes}</ul></div>"
        )
    flag = " open" if open_ else ""
    return (
        f'<details class="nr-evidence"{flag}><summary>What each source says '
        f"({len(evidence)} article{'s' if len(evidence) != 1 else ''})</summary>{''.join(items)}</details>"
    )


def conflicts_html(
    conflicts: Sequence[Conflict], evidence: Sequence[Evidence], spans: dict[int, Span]
) -> str:
    """ "Article A (outlet, date) says … / Article B (outlet, date) says …" for each conflict."""
    if not conflicts:
        return ""
    meta = {e.doc_id: e for e in evidence}
    letters: dict[str, str] = {}
    blocks = []
    for c in conflicts:
        lines = []
        for side in c.sides:
            seen: set[str] = set()
            for q in side.quotes:
                if q.doc_id in seen:
                    continue
                seen.add(q.doc_id)
                letter = letters.setdefault(q.doc_id, chr(ord("A") + len(letters) % 26))
                e = meta.get(q.doc_id)
                span = spans.get(q.n)
                who = source_label(e.outlet, e.date) if e else (span.label if span else q.doc_id)
                lines.append(
                    f"<li><b>Article {letter}</b> ({esc(who)}) says {esc(quoted(one_line(q.text)))} "
                    f"{quote_chip(q, spans)} <span class='nr-stance'>{esc(side.position)}</span></li>"
                )
        blocks.append(
            f'<div class="nr-conflict"><b>⚖ The sources disagree</b> '
            f"({' / '.join(esc(s.position) for s in c.sides)}):<ul>{''.join(lines)}</ul></div>"
        )
    return "".join(blocks)


def sources_list_html(answer: Answer, spans: dict[int, Span]) -> str:
    """The cited passages, one line each: chip, outlet, date, title, and whether verified."""
    if not answer.citations:
        return ""
    rows = []
    for c in answer.citations:
        mark = "" if c.supported else ' <span class="nr-badge-bad">quote does not back the claim</span>'
        rows.append(
            f"<li>{chip(c.n, spans.get(c.n))} {esc(source_label(c.outlet, c.date, c.author))} — "
            f"<i>{esc(c.title)}</i>{mark}</li>"
        )
    return f'<div class="nr-sources"><b>Sources</b><ul>{"".join(rows)}</ul></div>'


def answer_html(answer: Answer) -> str:
    """The final, verified answer for the chat: text with chips, conflicts, removed (unsupported)
    sentences, notes, the source list, and what each source says."""
    spans = spans_for(answer)
    meta = (
        f'<div class="nr-meta">{esc(answer.backend)} · {answer.timings.total_ms / 1000:.1f} s'
        + (
            f" · first token {answer.timings.first_token_ms / 1000:.1f} s"
            if answer.timings.first_token_ms is not None
            else ""
        )
        + "</div>"
    )
    notes = "".join(f'<div class="nr-note">Note: {esc(n)}</div>' for n in answer.notes)
    # Shown open while the answer streams; folded under the verified answer (the sources panel
    # and the conflict block keep every side on the screen).
    evidence = evidence_html(answer.evidence, answer.conflicts, spans, open_=False)
    if answer.abstained:
        related = "".join(
            f"<li>{chip(p.n, spans.get(p.n))} {esc(source_label(p.outlet, p.date, p.author))} — "
            f"<i>{esc(p.title)}</i></li>"
            for p in answer.passages
        )
        reading = f"<div><b>Related reading</b><ul>{related}</ul></div>" if related else ""
        body = (
            f'<div class="nr-answer nr-final nr-abstained"><div class="nr-abstain-title">'
            f"⚠ No answer in the articles</div><p>{esc(answer.answer)}</p>{reading}</div>"
        )
        return f'<div class="nr-turn">{evidence}{body}{notes}{meta}</div>'
    removed = [c for c in answer.claims if not c.supported]
    removed_html = ""
    if removed:
        items = "".join(
            f'<li><span class="nr-unsupported">{with_chips(one_line(c.text), spans)}</span>'
            + (f" <small>({esc('; '.join(c.problems))})</small>" if c.problems else "")
            + "</li>"
            for c in removed
        )
        removed_html = (
            f'<details class="nr-removed"><summary>✗ {len(removed)} unsupported sentence'
            f"{'s' if len(removed) != 1 else ''} removed (the cited passages do not back "
            f"{'them' if len(removed) != 1 else 'it'})</summary><ul>{items}</ul></details>"
        )
    body = f'<div class="nr-answer nr-final"><p>{answer_with_chips(answer, spans)}</p></div>'
    return (
        f'<div class="nr-turn">{evidence}{body}'
        f"{conflicts_html(answer.conflicts, answer.evidence, spans)}{removed_html}{notes}"
        f"{sources_list_html(answer, spans)}{meta}</div>"
    )


def streaming_html(evidence_block: str, text: str, spans: dict[int, Span]) -> str:
    """While the answer streams: the evidence, then the sentences so far (each already verified
    against its sources: unsupported ones are never sent)."""
    body = (
        f'<div class="nr-answer nr-streaming"><p>{with_chips(one_line(text), spans)}'
        f'<span class="nr-cursor">▍</span></p><div class="nr-meta">generating… (each sentence is '
        f"shown once its sources back it)</div></div>"
    )
    return f'<div class="nr-turn">{evidence_block}{body}</div>'


def pending_html(evidence_block: str, message: str) -> str:
    return f'<div class="nr-turn">{evidence_block}<div class="nr-pending">{esc(message)}</div></div>'


def error_html(message: str, evidence_block: str = "") -> str:
    return f'<div class="nr-turn">{evidence_block}<div class="nr-error">⚠ {esc(message)}</div></div>'


def passages_panel_html(passages: Sequence[Passage], answer: Answer | None = None) -> str:
    """The sources panel: cited passages first (with their verified quote), then the others."""
    if not passages:
        return '<div class="nr-panel-empty">No passages yet. Ask a question.</div>'
    spans = spans_for(answer) if answer else spans_for(passages)
    cited = {c.n: c for c in answer.citations} if answer else {}
    ordered = sorted(passages, key=lambda p: (p.n not in cited, p.n))
    cards = []
    for p in ordered:
        c = cited.get(p.n)
        if c is not None:
            badge = (
                '<span class="nr-badge-ok">✓ cited, verified</span>'
                if c.supported
                else '<span class="nr-badge-bad">cited, not verified</span>'
            )
            body = f"<blockquote>{esc(quoted(one_line(c.quote)))}</blockquote>"
        else:
            badge = '<span class="nr-badge">retrieved</span>'
            text = one_line(p.text)
            body = f'<div class="nr-snippet">{esc(text[:280])}{"…" if len(text) > 280 else ""}</div>'
        cards.append(
            f'<div class="nr-card" data-n="{p.n}">{chip(p.n, spans.get(p.n))} '
            f"<b>{esc(source_label(p.outlet, p.date, p.author))}</b> {badge}"
            f"<div><i>{esc(p.title)}</i></div>{body}</div>"
        )
    return f'<div class="nr-panel">{"".join(cards)}</div>'


def article_html(
    doc: Document, start: int | None = None, end: int | None = None, n: int | None = None
) -> str:
    """The article viewer: the original text, escaped, with `text[start:end]` highlighted."""
    text = doc.text
    info = doc.info
    head = (
        f'<div class="nr-viewer-head">{f"<b>[{n}]</b> " if n is not None else ""}'
        f"<b>{esc(info.title)}</b><br>{esc(source_label(info.outlet, info.date, info.author))} · "
        f"<code>{esc(info.doc_id)}</code></div>"
    )
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = (
            f"{esc(text[:start])}<mark class='nr-quote' id='nr-quote'>{esc(text[start:end])}</mark>"
            f"{esc(text[end:])}"
        )
    else:
        body = esc(text)
    return f'<div class="nr-viewer">{head}<div class="nr-article">{body}</div></div>'


def viewer_placeholder(message: str = "Click a citation [n] to open its article at the quoted words.") -> str:
    return f'<div class="nr-viewer-empty">{esc(message)}</div>'


def answer_text(answer: Answer) -> str:
    """The answer as plain text with its `[n]` markers and a source list (for copying)."""
    lines = [answer.answer, ""]
    if answer.abstained:
        if answer.passages:
            lines.append("Related reading:")
            lines += [
                f"[{p.n}] {source_label(p.outlet, p.date, p.author)}, “{p.title}”" for p in answer.passages
            ]
    else:
        lines.append("Sources:")
        lines += [
            f"[{c.n}] {source_label(c.outlet, c.date, c.author)}, “{c.title}” — {quoted(one_line(c.quote))}"
            + ("" if c.supported else " (not verified)")
            for c in answer.citations
        ]
    return "\n".join(lines).strip()


def _by_hand(value: str, field: str, d: DocumentInfo) -> str:
    return f"{value} (set by hand)" if field in d.set_by_hand else value


def document_rows(docs: Iterable[DocumentInfo]) -> list[list[str | int]]:
    """Rows of the documents tab: id, title, outlet, date, author, chunks, file name; a field a
    person set is marked "(set by hand)"."""
    return [
        [
            d.doc_id,
            d.title,
            _by_hand(d.outlet or "", "outlet", d),
            _by_hand(d.date or "undated", "date", d),
            _by_hand(d.author or "", "author", d),
            d.chunks,
            d.path.rsplit("/", 1)[-1],
        ]
        for d in docs
    ]


DOCUMENT_HEADERS = ["id", "title", "outlet", "date", "author", "chunks", "file"]

_OUTCOME = {"added": "✓ added", "updated": "✓ updated", "unchanged": "= unchanged", "skipped": "✗ skipped"}


def upload_summary_html(outcomes: Sequence[FileOutcome]) -> str:
    """One line per uploaded file: what became of it, and the article's title or why it was skipped."""
    if not outcomes:
        return '<div class="nr-panel-empty">Choose .txt, .md or .html files, then add them.</div>'
    rows = "".join(
        f'<tr class="nr-upload-{o.status}"><td>{esc(o.name)}</td><td>{esc(_OUTCOME[o.status])}</td>'
        f"<td>{esc(o.detail)}{f' <code>{esc(o.doc_id)}</code>' if o.doc_id else ''}</td></tr>"
        for o in outcomes
    )
    counts = ", ".join(
        f"{n} {status}" for status in _OUTCOME if (n := sum(o.status == status for o in outcomes))
    )
    return f'<div class="nr-upload"><b>{esc(counts)}</b><table>{rows}</table></div>'


def message_html(text: str, *, error: bool = False) -> str:
    return f'<div class="{"nr-error" if error else "nr-note"}">{esc(text)}</div>'

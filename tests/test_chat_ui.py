"""The chat UI: the pure rendering helpers, then the live Gradio app driven by `gradio_client`.

The live tests mount `build_chat` on a real uvicorn server on a free loopback port, over the real
embedded embedding model and the seeds; answers come from the extractive backend or from a
ScriptedLLM installed as the `openai` backend (so the chat's backend choice can select it).
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from rag.errors import BackendUnavailable
from rag.types import (
    Answer,
    Citation,
    Claim,
    Conflict,
    Document,
    DocumentInfo,
    Evidence,
    Passage,
    Quote,
    Side,
    Timings,
    parse_date,
)
from rag.wiring import Engine
from tests.fakes import ScriptedLLM
from ui import chat_render as render
from ui.chat import build_chat, error_message, filters_from

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> ${7*7} {{constructor}} [9] *a* $$x$$"
ALLOWED_TAGS = {
    "a", "b", "i", "p", "ul", "li", "div", "span", "details", "summary", "mark", "small", "br",
    "code", "blockquote",
}  # fmt: skip


class _Tags(HTMLParser):
    """Collects tags and attributes, and the text inside <mark> and inside .nr-article."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.mark = ""
        self.article = ""
        self._in_mark = 0
        self._in_article = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "mark":
            self._in_mark += 1
        if self._in_article:
            self._in_article += 1
        elif "nr-article" in (a.get("class") or ""):
            self._in_article = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1
        if self._in_article:
            self._in_article -= 1

    def handle_data(self, data: str) -> None:
        if self._in_mark:
            self.mark += data
        if self._in_article:
            self.article += data


def parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


def chip_targets(fragment: str) -> list[tuple[int, str, int, int]]:
    """(n, doc_id, start, end) of every citation chip in an HTML fragment."""
    out = []
    for tag, attrs in parse(fragment).tags:
        if tag == "a" and "nr-cite" in (attrs.get("class") or ""):
            target = render.parse_chip_href(attrs.get("href") or "")
            assert target is not None, attrs
            out.append(target)
    return out


def _passage(n: int, doc: str, start: int, end: int, text: str, **kw: Any) -> Passage:
    return Passage(
        n=n,
        doc_id=doc,
        title=kw.get("title", f"Title {doc}"),
        outlet=kw.get("outlet", f"Outlet {doc}"),
        date=kw.get("date", "2020-01-03"),
        chunk_id=f"{doc}-c{n}",
        start=start,
        end=end,
        text=text,
        score=0.5,
    )


def _answer(**kw: Any) -> Answer:
    p1 = _passage(1, "001", 100, 400, "They want the troops to stay. Other words.")
    p2 = _passage(2, "002", 50, 300, "It is time for the Americans to go home.", outlet="Washington Times")
    c1 = Citation(
        1, "001", p1.title, p1.outlet, p1.date, p1.chunk_id, 120, 150, "They want the troops to stay.", True
    )
    c2 = Citation(
        2,
        "002",
        p2.title,
        p2.outlet,
        p2.date,
        p2.chunk_id,
        60,
        99,
        "It is time for the Americans to go home.",
        True,
    )
    q1 = Quote(1, "001", 120, 150, "They want the troops to stay.")
    q2 = Quote(2, "002", 60, 99, "It is time for the Americans to go home.")
    defaults: dict[str, Any] = dict(
        question="Did PMF leaders want US troops to stay?",
        standalone_question="Did PMF leaders want US troops to stay?",
        answer="Some wanted them to stay [1]. Others wanted them to go home [2].",
        abstained=False,
        claims=(
            Claim("Some wanted them to stay [1].", (1,), True),
            Claim("Others wanted them to go home [2].", (2,), True),
            Claim("They signed a treaty in 1999 [1].", (1,), False, ("1999 is not in the cited passage",)),
        ),
        citations=(c1, c2),
        evidence=(
            Evidence("001", p1.title, p1.outlet, p1.date, (1,), (q1,), 0.8, stance=1),
            Evidence("002", p2.title, p2.outlet, p2.date, (2,), (q2,), 0.7, stance=-1),
        ),
        conflicts=(
            Conflict(
                "stay/leave",
                (Side("stay", 1, ("001",), (1,), (q1,)), Side("leave", -1, ("002",), (2,), (q2,))),
            ),
        ),
        passages=(p1, p2),
        backend="scripted",
        timings=Timings(12.0, 40.0, 900.0),
        notes=(),
    )
    defaults.update(kw)
    return Answer(**defaults)


# --- pure rendering -------------------------------------------------------------------------------


def test_answer_markers_become_chips_that_open_the_verified_quote() -> None:
    out = render.answer_html(_answer())
    targets = {t[0]: t for t in chip_targets(out)}
    assert {1, 2} <= set(targets)
    # The chip of a cited passage opens the citation's quote, not the whole passage.
    assert targets[1] == (1, "001", 120, 150)
    assert targets[2] == (2, "002", 60, 99)
    assert "[1]" not in re.sub(r"<a [^>]*>\[1\]</a>", "", out)  # every [1] is inside a chip


def test_two_sentences_citing_one_passage_each_open_the_quote_that_backs_them() -> None:
    stay = Quote(1, "001", 120, 150, "They want the troops to stay.")
    other = Quote(1, "001", 151, 163, "Other words.")
    a = _answer(
        answer="Some wanted them to stay [1]. Other words were said [1].",
        claims=(
            Claim("Some wanted them to stay.", (1,), True, (), (stay,)),
            Claim("Other words were said.", (1,), True, (), (other,)),
        ),
    )
    body = render.answer_html(a).split('class="nr-answer nr-final"', 1)[1].split("</div>", 1)[0]
    assert [t[2:] for t in chip_targets(body)] == [(120, 150), (151, 163)]


@pytest.mark.parametrize("doc_id", ["001_57bc97d0d5dad970", 'a b/c?d#e"<x>', "Ärzte–Bericht"])
def test_chip_href_round_trips_any_document_id(doc_id: str) -> None:
    span = render.Span(3, doc_id, 10, 42, "label")
    (target,) = chip_targets(render.chip(3, span))
    assert target == (3, doc_id, 10, 42)
    assert render.parse_chip_href("#cite/1/2/3") is None and render.parse_chip_href("javascript:x") is None


def test_unknown_marker_is_not_a_link() -> None:
    out = render.with_chips("See [7].", {})
    assert 'class="nr-cite nr-cite-missing"' in out and "href" not in out


def test_hostile_article_text_is_escaped_everywhere() -> None:
    p = _passage(1, "001", 0, 10, HOSTILE, title=HOSTILE, outlet=HOSTILE)
    q = Quote(1, "001", 0, 10, HOSTILE)
    a = _answer(
        answer=f"{HOSTILE} [1].",
        claims=(Claim(f"{HOSTILE} [1].", (1,), True), Claim(f"{HOSTILE} [1].", (1,), False, (HOSTILE,))),
        citations=(Citation(1, "001", HOSTILE, HOSTILE, "2020", "c", 0, 10, HOSTILE, True),),
        evidence=(Evidence("001", HOSTILE, HOSTILE, None, (1,), (q,), 0.5, 1),),
        conflicts=(
            Conflict("a/b", (Side(HOSTILE, 1, ("001",), (1,), (q,)), Side("b", -1, ("001",), (1,), (q,)))),
        ),
        passages=(p,),
        notes=(HOSTILE,),
    )
    doc = Document(DocumentInfo("001", HOSTILE, HOSTILE, None, "/x/001.txt", "0" * 64, 1), HOSTILE * 3)
    for out in (
        render.answer_html(a),
        render.answer_html(_answer(abstained=True, answer=HOSTILE, passages=(p,), citations=())),
        render.passages_panel_html([p], a),
        render.passages_panel_html([p]),
        render.streaming_html("", HOSTILE, render.spans_for([p])),
        render.article_html(doc, 8, 30, 1),
        render.error_html(HOSTILE),
    ):
        tags = {t for t, _ in parse(out).tags}
        assert tags <= ALLOWED_TAGS, (tags - ALLOWED_TAGS, out)
        assert "<script" not in out and "<img" not in out
        assert not any(k.startswith("on") for _, attrs in parse(out).tags for k in attrs)
        # Nothing that Markdown, LaTeX or a template engine would act on survives as such.
        assert "${" not in out and "{{" not in out and "$$" not in out and "*a*" not in out
        assert "&lt;script&gt;" in out


def test_article_viewer_highlights_the_exact_span() -> None:
    text = "Über “quoted” words — <b>not bold</b> & more.\n\nSecond paragraph: the span is here. End."
    start = text.index("the span")
    end = text.index(" End.")
    doc = Document(DocumentInfo("007", "T", "O", "2020-01-01", "/x/007.txt", "0" * 64, 1), text)
    p = parse(render.article_html(doc, start, end, 3))
    assert p.mark == text[start:end] == "the span is here."
    assert p.article == text  # the whole original text, unchanged, line breaks included
    assert [t for t, _ in p.tags].count("b") == 1 + 1  # the header's title and outlet labels only


@pytest.mark.parametrize(("start", "end"), [(None, None), (-1, 5), (5, 5), (10, 10_000), (8, 3)])
def test_article_viewer_without_a_valid_span_shows_the_text_unmarked(start: Any, end: Any) -> None:
    doc = Document(DocumentInfo("007", "T", "O", None, "/x/007.txt", "0" * 64, 1), "Plain article text.")
    p = parse(render.article_html(doc, start, end))
    assert p.mark == "" and p.article == "Plain article text."


def test_unsupported_sentences_are_marked_not_shown_as_answer() -> None:
    out = render.answer_html(_answer())
    answer_part = out[out.index('class="nr-answer') : out.index("</div>", out.index('class="nr-answer'))]
    assert "1999" not in answer_part
    removed = out[out.index('class="nr-removed"') :]
    assert "nr-unsupported" in removed and "1999" in removed and "not in the cited passage" in removed


def test_conflicts_show_each_side_with_outlet_and_date() -> None:
    text = html.unescape(re.sub(r"<[^>]+>", "", render.answer_html(_answer())))
    assert "Article A (Outlet 001, 2020-01-03) says “They want the troops to stay.”" in text
    assert "Article B (Washington Times, 2020-01-03) says “It is time for the Americans to go home.”" in text


def test_abstention_is_visibly_an_abstention_with_related_reading() -> None:
    a = _answer(
        abstained=True,
        answer="The articles don't say: no passage is relevant enough to the question.",
        claims=(),
        citations=(),
        evidence=(),
        conflicts=(),
    )
    out = render.answer_html(a)
    assert "nr-abstained" in out and "No answer in the articles" in out
    assert "Related reading" in out and len(chip_targets(out)) == 2
    text = render.answer_text(a)
    assert text.startswith("The articles don't say") and "Related reading:\n[1] Outlet 001" in text


def test_plain_text_keeps_markers_and_lists_the_sources() -> None:
    text = render.answer_text(_answer())
    assert text.splitlines()[0] == "Some wanted them to stay [1]. Others wanted them to go home [2]."
    assert "[1] Outlet 001, 2020-01-03, “Title 001” — “They want the troops to stay.”" in text
    assert "[2] Washington Times, 2020-01-03" in text


def test_evidence_block_lists_each_source_with_quotes_and_sides() -> None:
    a = _answer()
    out = render.evidence_html(a.evidence, a.conflicts, render.spans_for(a))
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert "What each source says (2 articles)" in text
    assert "Outlet 001, 2020-01-03" in text and "“They want the troops to stay.” [1]" in text
    assert "says: stay" in text and "says: leave" in text


def test_evidence_is_open_while_streaming_and_folded_under_the_verified_answer() -> None:
    a = _answer()
    spans = render.spans_for(a)
    streaming = render.streaming_html(render.evidence_html(a.evidence, a.conflicts, spans), "Some [1]", spans)
    assert '<details class="nr-evidence" open>' in streaming and "nr-cursor" in streaming
    final = render.answer_html(a)
    assert '<details class="nr-evidence">' in final and "nr-cursor" not in final


def test_dates_and_filters() -> None:
    assert parse_date("2020", "since") is not None and str(parse_date("2020", "x", True)) == "2020-12-31"
    assert str(parse_date("2020-02", "x", True)) == "2020-02-29"
    assert filters_from("", "", "") is None
    f = filters_from(" Times ", "2019-05", "")
    assert f is not None and f.outlet == "Times" and str(f.since) == "2019-05-01"
    with pytest.raises(Exception, match="since must be"):
        filters_from(None, "last week", None)
    with pytest.raises(Exception, match="after"):
        filters_from(None, "2021", "2020")


def test_error_messages_are_sentences() -> None:
    assert "extractive always works" in error_message(BackendUnavailable("connection refused"), "openai")
    msg = error_message(ZeroDivisionError("boom"), "local")
    assert "ZeroDivisionError" in msg and "Traceback" not in msg


# --- the live UI ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_ui(real_engine: Engine) -> Iterator[str]:
    """The chat mounted on a FastAPI app, served by uvicorn on a free loopback port."""
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    limits = {"llm_backend": "extractive", "max_question_chars": 1000, "client_backends": "openai"}
    settings = real_engine.settings.model_copy(update=limits)
    app = gr.mount_gradio_app(FastAPI(), build_chat(real_engine, settings), path="/")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(live_ui: str) -> Any:
    from gradio_client import Client

    return Client(live_ui, verbose=False)


@pytest.fixture
def scripted_openai(real_engine: Engine) -> Iterator[ScriptedLLM]:
    """A ScriptedLLM answering as the chat's `openai` backend."""
    llm = ScriptedLLM()
    with real_engine.override_llm("openai", llm):
        yield llm


def ask(client: Any, question: str, backend: str = "extractive", **kw: Any) -> tuple[Any, ...]:
    """All streamed outputs of one turn: [(chatbot, sources, plain, question box), ...]."""
    job = client.submit(
        question,
        kw.get("k", 5),
        backend,
        kw.get("outlet", ""),
        kw.get("since", ""),
        kw.get("until", ""),
        kw.get("author", ""),
        api_name="/ask",
    )
    job.result(timeout=120)
    return tuple(job.outputs())


def content(message: dict[str, Any]) -> str:
    c = message["content"]
    if isinstance(c, list):  # normalised: [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") for part in c if isinstance(part, dict))
    return str(c)


def last_reply(outputs: tuple[Any, ...]) -> str:
    return content(outputs[-1][0][-1])


@pytest.mark.slow
def test_extractive_answer_streams_evidence_first_then_verified_answer(client: Any) -> None:
    outs = ask(client, "Did PMF leaders want US troops to stay?")
    replies = [content(o[0][-1]) for o in outs]
    first_evidence = next(i for i, r in enumerate(replies) if "nr-evidence" in r)
    first_final = next(i for i, r in enumerate(replies) if "nr-final" in r)
    assert first_evidence < first_final
    assert "nr-final" not in replies[first_evidence]
    # The sources panel is filled when retrieval finishes, before the answer.
    assert "nr-card" in outs[first_evidence][1]
    final = replies[-1]
    assert "What each source says" in final and 'class="nr-cite"' in final
    cited = chip_targets(final)
    assert cited
    # Both sides of the PMF question are on the screen (evidence or conflict block).
    assert "Washington Times" in html.unescape(final)
    plain = outs[-1][2]
    assert re.search(r"\[\d+\]", plain.splitlines()[0]) and "\nSources:\n[" in plain
    assert outs[-1][3] == ""  # the question box is cleared


@pytest.mark.slow
def test_follow_up_keeps_citation_numbers_stable(client: Any) -> None:
    first = ask(client, "Did PMF leaders want US troops to stay?")
    second = ask(client, "Did they want them to go home?")
    chat = second[-1][0]
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    # Every passage of a turn is a card in the sources panel, with its number and document.
    before = {n: doc for n, doc, _, _ in chip_targets(first[-1][1])}
    after = {n: doc for n, doc, _, _ in chip_targets(second[-1][1])}
    assert set(before) & set(after), (before, after)
    for n, doc in after.items():
        # A number names the same passage in both turns; a new passage gets a new number. (A
        # document may have several passages, so a document can be cited under another number.)
        assert before.get(n, doc) == doc and (n in before or n > max(before)), (before, after)
    assert {n for n, _, _, _ in chip_targets(content(chat[-1]))} <= set(after)


@pytest.mark.slow
def test_streamed_tokens_then_unsupported_sentence_marked(client: Any, scripted_openai: ScriptedLLM) -> None:
    scripted_openai.enqueue(
        "PMF leaders said it was time for the Americans to go home [1][2][3]. "
        "The PMF signed a treaty with Norway in 1987 [1]."
    )
    outs = ask(client, "Did PMF leaders want US troops to stay?", backend="openai")
    replies = [content(o[0][-1]) for o in outs]
    streaming = [r for r in replies if "nr-streaming" in r]
    assert len(streaming) >= 1  # verified sentences as they complete (never a draft)
    assert replies.index(streaming[0]) > next(i for i, r in enumerate(replies) if "nr-evidence" in r)
    final = replies[-1]
    assert "nr-final" in final
    removed = final[final.index("nr-removed") :]
    assert "Norway" in removed and "nr-unsupported" in removed
    answer = final[final.index("nr-final") : final.index("nr-removed")]
    assert "Norway" not in answer


@pytest.mark.slow
def test_backend_failure_falls_back_visibly(client: Any, scripted_openai: ScriptedLLM) -> None:
    scripted_openai.enqueue(BackendUnavailable("connection refused by 127.0.0.1:9"))
    final = last_reply(ask(client, "Did PMF leaders want US troops to stay?", backend="openai"))
    assert "extractive (fallback)" in final and "connection refused" in final
    assert "nr-final" in final and "Traceback" not in final


@pytest.mark.slow
def test_unexpected_failure_is_a_message(client: Any, scripted_openai: ScriptedLLM) -> None:
    scripted_openai.enqueue(RuntimeError("llama_decode returned -3"))
    final = last_reply(ask(client, "Did PMF leaders want US troops to stay?", backend="openai"))
    assert "nr-error" in final and "RuntimeError" in final and "Traceback" not in final
    assert "What each source says" in final  # the evidence shown before the failure stays


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "kw", "expected"),
    [
        ("   ", {}, "Please type a question"),
        ("why" * 400, {}, "too long (1200 characters; the limit is 1000)"),
        ("Did PMF leaders want US troops to stay?", {"since": "yesterday"}, "since must be a date: YYYY"),
    ],
)
def test_bad_input_is_a_readable_message(
    client: Any, question: str, kw: dict[str, str], expected: str
) -> None:
    final = last_reply(ask(client, question, **kw))
    assert "nr-error" in final and expected in html.unescape(final)


@pytest.mark.slow
def test_unanswerable_question_is_an_abstention(client: Any) -> None:
    final = last_reply(ask(client, "What did President Biden say about the PMF in 2021?"))
    assert "nr-abstained" in final and "Related reading" in final


@pytest.mark.slow
def test_filters_restrict_the_sources(client: Any) -> None:
    outs = ask(client, "Did PMF leaders want US troops to stay?", outlet="Washington Times")
    panel = outs[-1][1]
    outlets = set(re.findall(r"<b>([^<]+), (?:\d{4}-\d\d-\d\d|undated)</b>", panel))
    assert outlets == {"Washington Times"}, outlets


@pytest.mark.slow
def test_documents_endpoint_lists_the_seeds(client: Any, real_engine: Engine) -> None:
    table = client.predict(api_name="/documents")
    rows = table["data"] if isinstance(table, dict) else table
    assert [r[0] for r in rows] == [d.doc_id for d in real_engine.documents()]
    assert len(rows) == 5 and all(len(r) == len(render.DOCUMENT_HEADERS) for r in rows)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("They want the troops to stay.", "“They want the troops to stay.”"),
        ("“It's a miracle,” al-Saadi said.", "“It's a miracle,” al-Saadi said."),
        (
            '"We only train forces we can vet," Dorrian said.',
            '"We only train forces we can vet," Dorrian said.',
        ),
        ("He said it was over.”", "He said it was over.”"),
        ("the soldiers' families left.", "“the soldiers' families left.”"),
    ],
)
def test_a_quote_with_its_own_marks_is_not_wrapped_again(text: str, shown: str) -> None:
    assert render.quoted(text) == shown
    e = Evidence("d", "T", "O", None, (1,), (Quote(1, "d", 0, len(text), text),), 1.0)
    assert html.unescape(render.evidence_html([e], [], {})).count(shown) == 1
    assert "““" not in html.unescape(render.evidence_html([e], [], {}))


def test_documents_rows_mark_fields_set_by_hand_and_show_the_author() -> None:
    info = DocumentInfo("d", "T", "Outlet", "2020-01-02", "/x/d.txt", "h", 2, "Jane Doe", ("date",))
    assert render.document_rows([info]) == [
        ["d", "T", "Outlet", "2020-01-02 (set by hand)", "Jane Doe", 2, "d.txt"]
    ]
    assert render.source_label("Outlet", None, "Jane Doe") == "Outlet, undated, by Jane Doe"


def test_upload_summary_says_what_became_of_each_file() -> None:
    from rag.library import FileOutcome

    out = render.upload_summary_html(
        [
            FileOutcome("a.txt", "added", "a", "Title <b>"),
            FileOutcome("b.pdf", "skipped", None, "unsupported file type .pdf: b.pdf"),
            FileOutcome("c.txt", "unchanged", "c", "C"),
        ]
    )
    text = html.unescape(re.sub(r"<[^>]+>", " ", out))
    assert "1 added, 1 unchanged, 1 skipped" in text
    assert "unsupported file type .pdf" in text and "Title <b>" in text and "<b>Title" not in out


def test_only_the_fields_a_person_changed_are_saved_by_hand() -> None:
    from ui.chat import edits

    info = DocumentInfo("d", "T", "Outlet", "2020-01-02", "/x/d.txt", "h", 2, "Jane Doe", ("date",))
    shown = {"outlet": "Outlet", "date": "2020-01-02", "author": "Jane Doe"}
    assert edits(info, shown) == {}
    assert edits(info, {**shown, "date": "2021-05-06"}) == {"date": "2021-05-06"}
    assert edits(info, {**shown, "date": " "}) == {"date": ""}  # back to what the article states
    assert edits(info, {**shown, "outlet": ""}) == {}  # nothing was set by hand there
    assert edits(info, {**shown, "author": "Jane  Roe"}) == {"author": "Jane Roe"}


def test_example_questions_follow_the_corpus(engine: Engine, seeds_copy: Any) -> None:
    from rag.library import add_files
    from ui.chat import ChatActions

    engine.ingest([seeds_copy])
    actions = ChatActions(engine, engine.settings)
    before = actions.example_questions()
    assert len(before) == 4 and all(q.endswith("?") for q in before)
    text = "Desert locusts reach Anbar\n\nSwarms of desert locusts reached farms in Anbar, officials said.\n"
    add_files(engine, [("locusts.txt", text.encode())])
    after = actions.example_questions()
    assert "What does the article “Desert locusts reach Anbar” report?" in after and after != before


def test_the_chat_offers_and_uses_only_the_backends_the_operator_allows(
    make_engine: Any, seeds_copy: Any
) -> None:
    from ui.chat import ChatActions, ChatSession

    engine = make_engine(llm_backend="extractive", client_backends="")
    engine.ingest([seeds_copy])
    assert engine.settings.allowed_backends == ("extractive",)
    question = "Did PMF leaders want US troops to stay?"
    outs = list(ChatActions(engine, engine.settings).ask(question, ChatSession(), 5, "local", "", "", ""))
    session = outs[-1][3]
    assert session.conversation.turns[-1].backend == "extractive"  # asked for local, got the configured one
    assert "local" not in engine.loaded_backends()  # and no model was loaded for the page

"""The Gradio chat: evidence first, then the streamed answer, then the verified answer with citations.

`build_chat(engine, settings)` returns the Blocks; `ui/server.py` mounts it at `/`. The chat consumes
`engine.ask_stream` (the same event stream as the CLI and the HTTP API) and renders with the pure
functions of `ui.chat_render`. Clicking a citation chip asks the server (a `gr.HTML` server function)
for the article and shows it with the quoted span highlighted and scrolled into view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer import Conversation
from rag.errors import BackendUnavailable, BadRequest, ModelError, RagError
from rag.examples import example_questions
from rag.library import add_files
from rag.question import clean_question
from rag.settings import Settings
from rag.types import AnswerEvent, DocumentInfo, Filters, PassagesEvent, TokenEvent
from rag.wiring import Engine
from ui import chat_render as render

log = logging.getLogger(__name__)
# Gradio fills a handler's `gr.Progress` default with the request's progress tracker.
_PROGRESS = gr.Progress()

CSS = """
#nr-chat .nr-turn p { margin: 0.3em 0; }
.nr-cite { display: inline-block; padding: 0 0.35em; margin: 0 0.1em; border-radius: 0.6em;
  background: #dbeafe; color: #1e40af !important; font-size: 0.85em; font-weight: 600;
  text-decoration: none !important; cursor: pointer; line-height: 1.4; }
.nr-cite:hover { background: #bfdbfe; }
/* The theme's font ships weights 400 and 600 only: a synthesised 700 renders badly. */
.nr-turn b, .nr-card b, .nr-viewer-head b, .nr-abstain-title, .nr-evidence summary { font-weight: 600; }
.nr-cite-missing { background: #f3f4f6; color: #6b7280 !important; cursor: default; }
.nr-evidence { border-left: 3px solid #93c5fd; padding: 0.2em 0.6em; margin-bottom: 0.5em; }
.nr-evidence summary { cursor: pointer; font-weight: 600; }
.nr-evidence ul, .nr-conflict ul, .nr-sources ul, .nr-removed ul { margin: 0.2em 0 0.4em 1.2em; padding: 0; }
.nr-stance { font-size: 0.8em; padding: 0 0.4em; border-radius: 0.4em; background: #fef3c7; color: #92400e; }
.nr-answer { padding: 0.3em 0.6em; border-radius: 0.4em; }
.nr-streaming { background: #f9fafb; color: #374151; }
.nr-cursor { animation: nr-blink 1s step-start infinite; }
@keyframes nr-blink { 50% { opacity: 0; } }
.nr-abstained { border: 2px dashed #f59e0b; background: #fffbeb; }
.nr-abstain-title { font-weight: 700; color: #b45309; }
.nr-conflict { border-left: 3px solid #f59e0b; background: #fffbeb; padding: 0.3em 0.6em; margin: 0.4em 0; }
.nr-unsupported { text-decoration: line-through; color: #b91c1c; }
.nr-removed summary { cursor: pointer; color: #b91c1c; }
.nr-note { color: #4b5563; font-size: 0.9em; margin: 0.2em 0; }
.nr-error { color: #991b1b; background: #fef2f2; border: 1px solid #fecaca; border-radius: 0.4em;
  padding: 0.4em 0.6em; }
.nr-pending { color: #6b7280; font-style: italic; }
.nr-meta { color: #9ca3af; font-size: 0.8em; margin-top: 0.3em; }
.nr-badge, .nr-badge-ok, .nr-badge-bad { font-size: 0.75em; padding: 0 0.4em; border-radius: 0.4em; }
.nr-badge { background: #f3f4f6; color: #4b5563; }
.nr-badge-ok { background: #dcfce7; color: #166534; }
.nr-badge-bad { background: #fee2e2; color: #991b1b; }
.nr-panel { display: flex; flex-direction: column; gap: 0.5em; max-height: 38vh; overflow-y: auto; }
.nr-card { border: 1px solid #e5e7eb; border-radius: 0.5em; padding: 0.4em 0.6em; font-size: 0.9em; }
.nr-card blockquote { margin: 0.3em 0; padding-left: 0.6em; border-left: 3px solid #86efac; }
.nr-snippet { color: #4b5563; margin-top: 0.2em; }
.nr-panel-empty, .nr-viewer-empty { color: #6b7280; font-style: italic; padding: 0.5em; }
.nr-viewer-head { padding: 0.4em 0.6em; background: #f3f4f6; border-radius: 0.5em 0.5em 0 0; }
.nr-article { white-space: pre-wrap; font-family: Georgia, serif; font-size: 0.95em; line-height: 1.5;
  max-height: 42vh; overflow-y: auto; padding: 0.6em; border: 1px solid #e5e7eb;
  border-radius: 0 0 0.5em 0.5em; }
.nr-article mark.nr-quote { background: #fde047; padding: 0.1em 0; scroll-margin: 4em; }
#nr-upload-summary { min-height: 5em; }  /* room for the progress bar over it */
.nr-upload table { border-collapse: collapse; margin-top: 0.3em; font-size: 0.9em; }
.nr-upload td { padding: 0.15em 0.5em; border-top: 1px solid #e5e7eb; vertical-align: top; }
.nr-upload-skipped td { color: #991b1b; }
"""

# Runs once when the viewer renders. One delegated listener (capture phase, so the chatbot's own
# link handling never sees the click) opens the article of any chip: the chips in the chat, the
# sources panel and the evidence all say in their href what they open (see `chip_href`).
VIEWER_JS = r"""
const scrollToQuote = () => {
  const mark = element.querySelector('mark.nr-quote');
  if (mark) { mark.scrollIntoView({block: 'center', inline: 'nearest'}); }
};
watch('value', scrollToQuote);
if (!window.__nrCitations) {
  window.__nrCitations = true;
  document.addEventListener('click', async (ev) => {
    const chip = ev.target instanceof Element ? ev.target.closest('a.nr-cite') : null;
    const m = chip && /^#cite\/(\d+)\/(\d+)\/(\d+)\/([^/]+)$/.exec(chip.getAttribute('href') || '');
    if (!m) { return; }
    ev.preventDefault();
    ev.stopPropagation();
    props.value = await server.open_article({n: Number(m[1]), start: Number(m[2]), end: Number(m[3]),
                                             doc: decodeURIComponent(m[4])});
    for (const wait of [0, 50, 150, 400]) { setTimeout(scrollToQuote, wait); }
  }, true);
}
"""

COPY_JS = """
async (text) => {
  if (!text) { return; }
  try { await navigator.clipboard.writeText(text); }
  catch (e) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
}
"""


@dataclass
class ChatSession:
    """One browser session: the conversation (stable citation numbers) and what the chat shows."""

    conversation: Conversation = field(default_factory=Conversation)
    messages: list[dict[str, str]] = field(default_factory=list)


def filters_from(
    outlet: str | None, since: str | None, until: str | None, author: str | None = None
) -> Filters | None:
    """The Settings fields as `Filters` (None when all are blank); BadRequest for a bad date or range."""
    return Filters.parse(outlet, since, until, author=author) or None


def error_message(e: Exception, backend: str) -> str:
    """A sentence a person can act on, for any failure while answering (never a traceback)."""
    if isinstance(e, BadRequest):
        return str(e)
    if isinstance(e, BackendUnavailable):
        return (
            f"The {backend} backend is unavailable: {e}. Pick another backend in Settings "
            "(extractive always works)."
        )
    if isinstance(e, ModelError):
        return f"The {backend} model cannot be loaded: {e}. Pick another backend in Settings."
    if isinstance(e, RagError):
        return str(e)
    return f"Something went wrong while answering ({type(e).__name__}); the server log has the details."


@dataclass
class _Reply:
    """This turn's reply as the chat shows it while it grows (the outputs of `ChatActions.ask`)."""

    question: str
    session: ChatSession
    max_chars: int
    history: list[dict[str, str]] = field(default_factory=list)
    asked: str = ""  # the question as the core uses it, once `problem` found none

    def show(self, html: str, panel: Any = None, *, keep: bool = False) -> tuple[Any, ...]:
        """The chat with this turn's reply as it stands; the panel only when given.
        `keep` makes the reply part of the history (a final message, e.g. an error)."""
        q = self.asked or self.question.strip()
        shown = render.esc(q) if len(q) <= self.max_chars else render.esc(q[:300]) + "…"
        msgs = [*self.history, {"role": "user", "content": shown or "(empty question)"}]
        msgs.append({"role": "assistant", "content": html})
        if keep:
            self.session.messages = msgs
        return msgs, gr.skip() if panel is None else panel, gr.skip(), self.session, ""

    def problem(self) -> str | None:
        """Why the question cannot be asked as it is, if it cannot (`rag.question.clean_question`)."""
        try:
            self.asked = clean_question(self.question, self.max_chars)
        except BadRequest as e:
            return f"{str(e)[:1].upper()}{str(e)[1:]}."
        return None


@dataclass
class ChatActions:
    """What the chat's events do, on a built engine; `build_chat` lays them out."""

    engine: Engine
    settings: Settings
    # The example questions of one index version (by lexical fingerprint): page loads reuse them.
    _examples: tuple[str, list[str]] = ("", [])

    def open_article(self, args: dict[str, Any]) -> str:
        """Server function behind a citation click: the article with the span highlighted."""
        try:
            doc = self.engine.document(str(args.get("doc", "")))
        except RagError as e:
            return render.viewer_placeholder(str(e))
        start, end, n = (_int(args.get(key)) for key in ("start", "end", "n"))
        return render.article_html(doc, start, end, n)

    def select_document(self, evt: gr.SelectData) -> tuple[Any, ...]:
        """A row picked: its article in the viewer; its id, outlet, date and author in the editor."""
        row = evt.row_value if isinstance(evt.row_value, list) else None
        info = next((d for d in self.engine.documents() if row and d.doc_id == str(row[0])), None)
        if info is None:
            return render.viewer_placeholder("Select an article to read it."), "", "", "", "", _hidden()
        try:
            viewer = render.article_html(self.engine.document(info.doc_id))
        except RagError as e:
            viewer = render.viewer_placeholder(str(e))
        return viewer, info.doc_id, info.outlet or "", info.date or "", info.author or "", _hidden()

    def list_documents(self) -> list[list[str | int]]:
        return render.document_rows(self.engine.documents())

    def examples(self) -> Any:
        """The example questions, as an update of the chat's examples."""
        return gr.Dataset(samples=[[q] for q in self.example_questions()])

    def example_questions(self) -> list[str]:
        """Example questions from what is indexed now (titles: uploads and the newest first)."""
        docs = self.engine.documents()
        uploads = (self.settings.data_dir / "uploads").resolve()
        newest = sorted(docs, key=lambda d: d.date or "", reverse=True)
        newest.sort(key=lambda d: Path(d.path).parent.resolve() != uploads)  # stable: uploads first
        lexical = self.engine.lexical
        if self._examples[0] != lexical.fingerprint:
            texts: dict[str, list[str]] = {}
            for r in lexical.records:
                texts.setdefault(r.doc_id, []).append(r.text)
            self._examples = (lexical.fingerprint, example_questions(texts, [d.title for d in newest]))
        return self._examples[1]

    def add_files(self, paths: list[str] | None, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        """Upload: each file cleaned, embedded and indexed in turn, then a summary per file."""
        files = []
        for p in paths or []:
            path = Path(p)
            files.append((path.name, path.read_bytes()))

        def step(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Cleaning and embedding {name}" if name else "Done", unit="files")

        outcomes = add_files(self.engine, files, step)
        return render.upload_summary_html(outcomes), self.list_documents(), self.examples(), None

    def correct(self, doc_id: str, outlet: str, date: str, author: str) -> tuple[Any, ...]:
        """Save the editor's outlet, date and author as set by hand (blank: the article's own)."""
        if not doc_id:
            return render.message_html("Select an article first.", error=True), gr.skip()
        try:
            current = next((d for d in self.engine.documents() if d.doc_id == doc_id), None)
            shown = {"outlet": outlet, "date": date, "author": author}
            changed = edits(current, shown) if current else shown
            info = self.engine.correct(doc_id, **changed)
        except RagError as e:
            return render.message_html(str(e), error=True), gr.skip()
        hand = ", ".join(info.set_by_hand) or "nothing"
        return render.message_html(f"Saved {doc_id}: set by hand: {hand}."), self.list_documents()

    def remove(self, doc_id: str) -> tuple[Any, ...]:
        """After the confirmation: take the document out of the index."""
        if not doc_id:
            return (
                render.message_html("Select an article first.", error=True),
                gr.skip(),
                gr.skip(),
                _hidden(),
            )
        try:
            info = self.engine.remove_document(doc_id)
        except RagError as e:
            return render.message_html(str(e), error=True), gr.skip(), gr.skip(), _hidden()
        return (
            render.message_html(f"Removed {info.doc_id} ({info.title}) from the index."),
            self.list_documents(),
            self.examples(),
            _hidden(),
        )

    def ask(
        self,
        question: str,
        session: ChatSession,
        k: float,
        backend: str,
        outlet: str,
        since: str,
        until: str,
        author: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one turn: (chatbot, sources panel, plain text, session, question box)."""
        reply = _Reply(question or "", session, self.settings.max_question_chars, list(session.messages))
        problem = reply.problem()
        if problem:
            yield reply.show(render.error_html(problem), keep=True)
            return
        # The operator's choice (RAG_CLIENT_BACKENDS), as on the API: a page cannot load another model.
        backend = backend if backend in self.settings.allowed_backends else self.settings.llm_backend
        evidence_block = ""
        try:
            filters = filters_from(outlet, since, until, author)
            yield reply.show(render.pending_html("", "Searching the articles…"))
            events = self.engine.ask_stream(
                reply.asked, backend=backend, k=int(k), filters=filters, conversation=session.conversation
            )
            tokens = ""
            spans: dict[int, render.Span] = {}
            for event in events:
                if isinstance(event, PassagesEvent):
                    spans = render.spans_for(event.passages)
                    evidence_block = render.evidence_html(event.evidence, event.conflicts, spans)
                    waiting = f"Writing the answer ({backend})…" if event.passages else "No passage matches."
                    panel = render.passages_panel_html(event.passages)
                    yield reply.show(render.pending_html(evidence_block, waiting), panel)
                elif isinstance(event, TokenEvent):
                    tokens += event.text
                    yield reply.show(render.streaming_html(evidence_block, tokens, spans))
                elif isinstance(event, AnswerEvent):
                    yield self._final(reply, event)
        except Exception as e:  # every failure becomes a message in the chat
            if not isinstance(e, RagError):
                log.exception("answering %r failed", reply.asked)
            yield reply.show(render.error_html(error_message(e, backend), evidence_block), keep=True)

    @staticmethod
    def _final(reply: _Reply, event: AnswerEvent) -> tuple[Any, ...]:
        """The verified answer: kept in the conversation, the sources panel, the plain text."""
        answer = event.answer
        reply.session.conversation.turns.append(answer)
        chat = reply.show(render.answer_html(answer), keep=True)[0]
        panel = render.passages_panel_html(answer.passages, answer)
        return chat, panel, render.answer_text(answer), reply.session, ""


def edits(info: DocumentInfo, shown: Mapping[str, str | None]) -> dict[str, str]:
    """The editor's fields a person changed: a new value, or a blank where a hand-set one was
    (which gives the field back to the article). An unchanged field stays as it is, so saving a
    date does not turn the outlet shown beside it into a hand-set one."""
    out = {}
    for name, value in shown.items():
        new = " ".join((value or "").split())
        if new and new != (getattr(info, name) or ""):
            out[name] = new
        elif not new and name in info.set_by_hand:
            out[name] = ""
    return out


def _hidden() -> Any:
    return gr.update(visible=False)


def _new_conversation() -> tuple[Any, ...]:
    return [], render.passages_panel_html([]), render.viewer_placeholder(), "", ChatSession()


def build_chat(engine: Engine, settings: Settings) -> gr.Blocks:
    """The chat UI on a built engine (mount it with `gr.mount_gradio_app`)."""
    actions = ChatActions(engine, settings)

    def open_article(args: dict[str, Any]) -> str:  # gradio marks a server function: not a bound method
        return actions.open_article(args)

    demo = gr.Blocks(title="newsrag — cited answers from news articles")
    with demo:
        session = gr.State(ChatSession())
        gr.Markdown(
            "## newsrag — answers from news articles, every claim cited\n"
            "What each source says appears first; then the answer, each sentence shown once the words "
            "it cites back it. Click a citation to read it in its article."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,  # its floating label covered the first answer's first line
                        elem_id="nr-chat",
                        height=620,
                        latex_delimiters=[],
                        buttons=[],
                        feedback_options=None,
                        placeholder="Ask a question about the indexed news articles.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False,
                            placeholder="Ask about the articles… (Enter to send)",
                            elem_id="nr-question",
                            scale=5,
                            max_lines=4,
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="nr-send", scale=1)
                        stop = gr.Button("Stop", variant="stop", elem_id="nr-stop", scale=1, min_width=60)
                    with gr.Row():
                        copy = gr.Button("Copy answer with citations", size="sm", elem_id="nr-copy")
                        clear = gr.Button("New conversation", size="sm", elem_id="nr-clear")
                    examples = gr.Dataset(
                        components=[question],
                        samples=[],
                        label="Example questions (from the indexed articles)",
                        elem_id="nr-examples",
                    )
                    with gr.Accordion("Settings", open=False):
                        k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (k)")
                        backend = gr.Radio(
                            list(settings.allowed_backends),
                            value=settings.llm_backend,
                            label="Answer backend",
                            info="local: the embedded LLM; openai: the configured server; "
                            "extractive: quotes only, no LLM",
                        )
                        with gr.Row():
                            outlet = gr.Textbox(label="Outlet contains", placeholder="e.g. Washington Times")
                            since = gr.Textbox(label="Since", placeholder="YYYY[-MM[-DD]]")
                            until = gr.Textbox(label="Until", placeholder="YYYY[-MM[-DD]]")
                            author = gr.Textbox(label="Author contains", placeholder="e.g. Doe")
                    with gr.Accordion("Answer as text, with citations", open=False):
                        plain = gr.Textbox(
                            label="Last answer",
                            lines=8,
                            interactive=False,
                            buttons=["copy"],
                            elem_id="nr-plain",
                        )
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(render.passages_panel_html([]), elem_id="nr-sources", js_on_load=None)
                    gr.Markdown("### Article")
                    viewer = gr.HTML(
                        render.viewer_placeholder(),
                        elem_id="nr-viewer",
                        js_on_load=VIEWER_JS,
                        server_functions=[open_article],
                        head=f"<style>{CSS}</style>",
                    )
            with gr.Tab("Documents", id="documents"):
                _documents_tab(actions, examples)

        inputs = [question, session, k, backend, outlet, since, until, author]
        outputs = [chatbot, sources, plain, session, question]
        # One answer at a time across sessions: llama.cpp is not thread-safe, and 2 cores gain nothing.
        one_at_a_time: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "ask"}
        asked: list[dict[str, Any]] = [  # the events the Stop button cancels
            send.click(actions.ask, inputs, outputs, api_name="ask", **one_at_a_time),
            question.submit(actions.ask, inputs, outputs, api_visibility="private", **one_at_a_time),
        ]
        stop.click(None, None, None, cancels=asked)
        chatbot.clear(_new_conversation, None, [chatbot, sources, viewer, plain, session])
        clear.click(
            _new_conversation, None, [chatbot, sources, viewer, plain, session], api_visibility="private"
        )
        copy.click(None, [plain], None, js=COPY_JS)
        private: dict[str, Any] = {"api_visibility": "private"}
        examples.click(lambda sample: sample[0], examples, question, **private)
        demo.load(actions.examples, None, examples, **private)
    return demo


def _documents_tab(actions: ChatActions, examples: Any) -> None:
    """The Documents tab (inside its `gr.Tab`): upload, the table, the editor, removal; `examples`
    (the chat's example questions) follow the corpus."""
    gr.Markdown(
        "The indexed articles. Add your own (.txt, .md, .html: a page saved from a browser "
        "works), select one to read it, correct its outlet, date or author, or remove it."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            upload = gr.File(
                file_count="multiple",
                file_types=[".txt", ".md", ".html", ".htm"],
                label="Articles to add",
                elem_id="nr-upload",
            )
            add = gr.Button("Add to the index", variant="primary", elem_id="nr-add")
        with gr.Column(scale=3):
            upload_summary = gr.HTML(render.upload_summary_html([]), elem_id="nr-upload-summary")
    documents = gr.Dataframe(
        value=actions.list_documents,
        headers=render.DOCUMENT_HEADERS,
        interactive=False,
        wrap=True,
        column_widths=["15%", "29%", "16%", "11%", "13%", "6%", "10%"],
        elem_id="nr-documents",
    )
    refresh = gr.Button("Refresh", size="sm")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            gr.Markdown(
                "### Selected article\nA value you save here is kept as *set by hand*; "
                "save a blank field to go back to what the article states."
            )
            doc_id = gr.Textbox(label="Document id", interactive=False, elem_id="nr-doc-id")
            fix_outlet = gr.Textbox(label="Outlet", elem_id="nr-fix-outlet")
            fix_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", elem_id="nr-fix-date")
            fix_author = gr.Textbox(label="Author", elem_id="nr-fix-author")
            save = gr.Button("Save metadata", elem_id="nr-save-meta")
            remove = gr.Button("Remove from the index…", variant="stop", elem_id="nr-remove")
            with gr.Row(visible=False) as confirm_row:
                confirm = gr.Button(
                    "Yes, remove it and its passages", variant="stop", elem_id="nr-remove-confirm"
                )
                cancel = gr.Button("Keep it", elem_id="nr-remove-cancel")
            doc_message = gr.HTML("", elem_id="nr-doc-message")
        with gr.Column(scale=3):
            document_view = gr.HTML(
                render.viewer_placeholder("Select an article to read it."), elem_id="nr-document"
            )

    refresh.click(actions.list_documents, None, documents, api_name="documents")
    editor = [document_view, doc_id, fix_outlet, fix_date, fix_author, confirm_row]
    documents.select(actions.select_document, None, editor, api_visibility="private")
    private: dict[str, Any] = {"api_visibility": "private"}
    # Changes to the index one at a time, queued in the browser (the engine also locks them).
    one_change: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "change"}
    add.click(
        actions.add_files,
        upload,
        [upload_summary, documents, examples, upload],
        show_progress_on=[upload_summary],
        **private,
        **one_change,
    )
    save.click(
        actions.correct, [doc_id, fix_outlet, fix_date, fix_author], [doc_message, documents], **private
    )
    remove.click(lambda: gr.update(visible=True), None, confirm_row, **private)
    cancel.click(_hidden, None, confirm_row, **private)
    confirm.click(
        actions.remove, doc_id, [doc_message, documents, examples, confirm_row], **private, **one_change
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

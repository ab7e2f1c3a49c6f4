"""The Gradio chat: evidence first, then the streamed answer, then the verified answer with citations.

`build_chat(engine, settings)` returns the Blocks; `ui/server.py` mounts it at `/`. The chat consumes
`engine.ask_stream` (the same event stream as the CLI and the HTTP API) and renders with the pure
functions of `ui.chat_render`. Clicking a citation chip asks the server (a `gr.HTML` server function)
for the article and shows it with the quoted span highlighted and scrolled into view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, get_args

import gradio as gr

from rag.answer import Conversation
from rag.errors import BackendUnavailable, BadRequest, ModelError, RagError
from rag.settings import Settings
from rag.types import AnswerEvent, Backend, Filters, PassagesEvent, TokenEvent
from rag.wiring import Engine
from ui import chat_render as render

log = logging.getLogger(__name__)

EXAMPLES = [
    "Did PMF leaders want US troops to stay?",
    "Who leads the Popular Mobilization Forces?",
    "What did Iraq's parliament vote on after the Soleimani strike?",
    "Which militias fought ISIS alongside the Iraqi army?",
]

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


def filters_from(outlet: str | None, since: str | None, until: str | None) -> Filters | None:
    """The Settings fields as `Filters` (None when all are blank); BadRequest for a bad date or range."""
    return Filters.parse(outlet, since, until) or None


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

    def show(self, html: str, panel: Any = None, *, keep: bool = False) -> tuple[Any, ...]:
        """The chat with this turn's reply as it stands; the panel only when given.
        `keep` makes the reply part of the history (a final message, e.g. an error)."""
        q = self.question
        shown = render.esc(q) if len(q) <= self.max_chars else render.esc(q[:300]) + "…"
        msgs = [*self.history, {"role": "user", "content": shown or "(empty question)"}]
        msgs.append({"role": "assistant", "content": html})
        if keep:
            self.session.messages = msgs
        return msgs, gr.skip() if panel is None else panel, gr.skip(), self.session, ""

    def problem(self) -> str | None:
        """Why the question cannot be asked as it is, if it cannot."""
        if not self.question:
            return "Please type a question about the articles."
        if len(self.question) > self.max_chars:
            return (
                f"The question is too long ({len(self.question)} characters; the limit is "
                f"{self.max_chars}). Shorten it and ask again."
            )
        return None


@dataclass
class ChatActions:
    """What the chat's events do, on a built engine; `build_chat` lays them out."""

    engine: Engine
    settings: Settings

    def open_article(self, args: dict[str, Any]) -> str:
        """Server function behind a citation click: the article with the span highlighted."""
        try:
            doc = self.engine.document(str(args.get("doc", "")))
        except RagError as e:
            return render.viewer_placeholder(str(e))
        start, end, n = (_int(args.get(key)) for key in ("start", "end", "n"))
        return render.article_html(doc, start, end, n)

    def show_document(self, evt: gr.SelectData) -> str:
        row = evt.row_value if isinstance(evt.row_value, list) else None
        if not row:
            return render.viewer_placeholder("Select an article to read it.")
        try:
            return render.article_html(self.engine.document(str(row[0])))
        except RagError as e:
            return render.viewer_placeholder(str(e))

    def list_documents(self) -> list[list[str | int]]:
        return render.document_rows(self.engine.documents())

    def ask(
        self,
        question: str,
        session: ChatSession,
        k: float,
        backend: str,
        outlet: str,
        since: str,
        until: str,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one turn: (chatbot, sources panel, plain text, session, question box)."""
        reply = _Reply(
            (question or "").strip(), session, self.settings.max_question_chars, list(session.messages)
        )
        problem = reply.problem()
        if problem:
            yield reply.show(render.error_html(problem), keep=True)
            return
        backend = backend if backend in get_args(Backend) else self.settings.llm_backend
        evidence_block = ""
        try:
            filters = filters_from(outlet, since, until)
            yield reply.show(render.pending_html("", "Searching the articles…"))
            events = self.engine.ask_stream(
                reply.question, backend=backend, k=int(k), filters=filters, conversation=session.conversation
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
                log.exception("answering %r failed", reply.question)
            yield reply.show(render.error_html(error_message(e, backend), evidence_block), keep=True)

    @staticmethod
    def _final(reply: _Reply, event: AnswerEvent) -> tuple[Any, ...]:
        """The verified answer: kept in the conversation, the sources panel, the plain text."""
        answer = event.answer
        reply.session.conversation.turns.append(answer)
        chat = reply.show(render.answer_html(answer), keep=True)[0]
        panel = render.passages_panel_html(answer.passages, answer)
        return chat, panel, render.answer_text(answer), reply.session, ""


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
            "What each source says appears first; the answer streams; then every sentence is checked "
            "against the words it cites. Click a citation to read it in its article."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
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
                    gr.Examples(EXAMPLES, inputs=question, label="Example questions")
                    with gr.Accordion("Settings", open=False):
                        k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (k)")
                        backend = gr.Radio(
                            list(get_args(Backend)),
                            value=settings.llm_backend,
                            label="Answer backend",
                            info="local: the embedded LLM; openai: the configured server; "
                            "extractive: quotes only, no LLM",
                        )
                        with gr.Row():
                            outlet = gr.Textbox(label="Outlet contains", placeholder="e.g. Washington Times")
                            since = gr.Textbox(label="Since", placeholder="YYYY[-MM[-DD]]")
                            until = gr.Textbox(label="Until", placeholder="YYYY[-MM[-DD]]")
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
                gr.Markdown("The indexed articles. Select one to read it.")
                documents = gr.Dataframe(
                    value=actions.list_documents,
                    headers=render.DOCUMENT_HEADERS,
                    interactive=False,
                    wrap=True,
                    column_widths=["17%", "35%", "22%", "9%", "6%", "11%"],
                    elem_id="nr-documents",
                )
                refresh = gr.Button("Refresh", size="sm")
                document_view = gr.HTML(
                    render.viewer_placeholder("Select an article to read it."), elem_id="nr-document"
                )

        inputs = [question, session, k, backend, outlet, since, until]
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
        refresh.click(actions.list_documents, None, documents, api_name="documents")
        documents.select(actions.show_document, None, document_view, api_visibility="private")
    return demo


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

"""The `rag` command line: ingest articles, search them.

Settings are read here, once, from the environment; the engine is built here and handed down.
Errors a person can fix print one line to stderr and exit with code 1 (2 for usage errors).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rag.errors import IndexingError, RagError
from rag.settings import Settings
from rag.types import Filters, Mode

app = typer.Typer(
    help="Cited question answering over news articles.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    # Plain print: rich would wrap a long path across lines.
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _engine() -> Any:
    from rag.wiring import build_engine

    try:
        settings = Settings()
    except ValidationError as e:
        first = e.errors()[0]
        fail(f"bad setting RAG_{str(first['loc'][0]).upper()}: {first['msg']}")
    return build_engine(settings)


def _date(value: str | None, name: str, end_of_period: bool = False) -> dt.date | None:
    """Accept YYYY-MM-DD, YYYY-MM or YYYY; a partial date means its first or last day."""
    if value is None:
        return None
    v = value.strip()
    try:
        if len(v) == 4 and v.isdigit():
            return dt.date(int(v), 12, 31) if end_of_period else dt.date(int(v), 1, 1)
        if len(v) == 7:
            first = dt.date.fromisoformat(v + "-01")
            if not end_of_period:
                return first
            nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date.fromisoformat(v)
    except ValueError:
        fail(f"{name} must be a date like 2020-01-03, 2020-01 or 2020, not {value!r}", 2)


class _Bars:
    """Rich progress bars over documents and chunks (ingest's `Progress`), shown once there is
    work to show, so a run that fails while reading files prints only its error."""

    def __init__(self, transient: bool) -> None:
        self._transient = transient
        self._p: Progress | None = None
        self._docs = self._chunks = 0

    def start(self, documents: int, chunks: int) -> None:
        self._p = Progress(
            TextColumn("{task.description:>16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=self._transient,
        )
        self._docs = self._p.add_task("documents", total=documents)
        self._chunks = self._p.add_task("chunks embedded", total=chunks)
        self._p.start()

    def advance(self, documents: int = 0, chunks: int = 0) -> None:
        if self._p is not None:
            self._p.advance(self._docs, documents)
            self._p.advance(self._chunks, chunks)

    def stop(self) -> None:
        if self._p is not None:
            self._p.stop()


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (.txt, .md, .html). Default: seeds/")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete indexed documents whose files are not in PATHS.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Clean, chunk, embed and index articles; unchanged files cost nothing."""
    targets = paths or [Path("seeds")]
    try:
        engine = _engine()
        bars = _Bars(transient=as_json)
        try:
            report = engine.ingest(targets, prune=prune, progress=bars)
        finally:
            bars.stop()
    except (RagError, IndexingError) as e:
        fail(str(e))
    for skipped in report.skipped:
        err.print(f"[yellow]skipped[/] {skipped}: no article text after cleaning", highlight=False)
    if as_json:
        print(json.dumps(report.counts()))
        return
    c = report.counts()
    out.print(
        f"{c['documents']} documents, {c['chunks']} chunks indexed: {c['added']} added, "
        f"{c['updated']} updated, "
        f"{c['removed']} removed, {c['unchanged']} unchanged; {report.embedded} chunks embedded "
        f"in {report.seconds:.1f}s",
        highlight=False,
    )


@app.command("search")
def search_cmd(
    question: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[
        int | None, typer.Option("-k", "--k", min=1, max=100, help="Passages to return (default RAG_TOP_K).")
    ] = None,
    outlet: Annotated[str | None, typer.Option(help="Only outlets containing this text.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles dated on/before (YYYY[-MM[-DD]]).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print the passages as JSON.")] = False,
) -> None:
    """Hybrid (dense + BM25) search over the indexed articles."""
    if not question.strip():
        fail("the question is empty", 2)
    if mode not in ("hybrid", "dense", "bm25"):
        fail(f"--mode must be hybrid, dense or bm25, not {mode!r}", 2)
    filters = Filters(outlet=outlet, since=_date(since, "--since"), until=_date(until, "--until", True))
    if filters.since and filters.until and filters.since > filters.until:
        fail("--since is after --until", 2)
    search_mode: Mode = mode  # type: ignore[assignment]
    try:
        passages = _engine().search(question, k=k, filters=filters, mode=search_mode)
    except (RagError, IndexingError) as e:
        fail(str(e))
    if as_json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return
    if not passages:
        out.print("No passages found." + (" (Is anything indexed? Run `rag ingest`.)" if not filters else ""))
        return
    for p in passages:
        out.print(
            f"[bold][{p.n}][/] {p.title} — {p.outlet or 'unknown outlet'}, {p.date or 'undated'} "
            f"[dim]({p.doc_id} {p.start}:{p.end}, score {p.score:.4f})[/]",
            highlight=False,
        )
        excerpt = " ".join(p.text.split())
        excerpt = excerpt if len(excerpt) <= 400 else excerpt[:400].rsplit(" ", 1)[0] + " …"
        out.print(textwrap.indent(textwrap.fill(excerpt, 100), "    ") + "\n", highlight=False, markup=False)


@app.command("ask")
def ask_cmd(
    question: Annotated[str, typer.Argument(help="The question.")],
    backend: Annotated[
        str | None, typer.Option(help="local, openai or extractive (default RAG_LLM_BACKEND).")
    ] = None,
    k: Annotated[int | None, typer.Option("-k", "--k", min=1, max=50, help="Passages to retrieve.")] = None,
    outlet: Annotated[str | None, typer.Option(help="Only outlets containing this text.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles dated on/before (YYYY[-MM[-DD]]).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verified answer as JSON.")] = False,
) -> None:
    """Answer from the articles, with every claim cited and checked against its source."""
    from rag.types import AnswerEvent, PassagesEvent, TokenEvent

    if not question.strip():
        fail("the question is empty", 2)
    if backend is not None and backend not in ("local", "openai", "extractive"):
        fail(f"--backend must be local, openai or extractive, not {backend!r}", 2)
    filters = Filters(outlet=outlet, since=_date(since, "--since"), until=_date(until, "--until", True))
    try:
        events = _engine().ask_stream(question, backend=backend, k=k, filters=filters)
        answer = None
        streamed = False
        for event in events:
            if isinstance(event, PassagesEvent) and not as_json:
                _print_evidence(event)
            elif isinstance(event, TokenEvent) and not as_json and sys.stdout.isatty():
                if not streamed:
                    out.print("[dim]generating…[/]")
                streamed = True
                print(event.text, end="", flush=True)
            elif isinstance(event, AnswerEvent):
                answer = event.answer
    except (RagError, IndexingError) as e:
        fail(str(e))
    assert answer is not None
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if streamed:
        print("\n")
    _print_answer(answer)


def _print_evidence(event: Any) -> None:
    if not event.evidence:
        return
    out.print("[bold]What each source says[/]")
    for e in event.evidence:
        side = {1: " (one side)", -1: " (the other side)"}.get(e.stance, "") if event.conflicts else ""
        out.print(f"  {e.outlet or 'unknown outlet'}, {e.date or 'undated'}{side}", highlight=False)
        for q in e.quotes:
            out.print(f"    [{q.n}] “{' '.join(q.text.split())}”", highlight=False, markup=False)
    out.print()


def _print_answer(answer: Any) -> None:
    title = "No answer in the articles" if answer.abstained else "Answer"
    out.print(f"[bold]{title}[/] [dim]({answer.backend}, {answer.timings.total_ms:.0f} ms)[/]")
    out.print(textwrap.fill(answer.answer, 100), highlight=False, markup=False)
    for c in answer.claims:
        if not c.supported:
            out.print(
                f"  [yellow]removed, unsupported:[/] {c.text} [dim]({'; '.join(c.problems)})[/]",
                highlight=False,
            )
    for note in answer.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    if answer.citations:
        out.print("\n[bold]Citations[/]")
        for c in answer.citations:
            mark = "" if c.supported else " [yellow](does not support the claim)[/]"
            out.print(
                f"  [{c.n}] {c.outlet or 'unknown outlet'}, {c.date or 'undated'} — "
                f"{c.doc_id} {c.start}:{c.end}{mark}",
                highlight=False,
            )
    if answer.abstained and answer.passages:
        out.print("\n[bold]Related reading[/]")
        for p in answer.passages[:3]:
            out.print(
                f"  [{p.n}] {p.title} — {p.outlet or 'unknown outlet'}, {p.date or 'undated'}",
                highlight=False,
            )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)

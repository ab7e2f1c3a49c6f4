"""The `rag` command line: ingest, search, ask, eval, prepare (the local model) and serve.

Settings are read here, once, from the environment; the engine is built here and handed down.
Errors a person can fix (`RagError`, caught once in `main`) print one line to stderr and exit with
code 1 (2 for usage errors).
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, get_args

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from rag.errors import BadRequest, RagError
from rag.settings import Settings
from rag.types import Answer, Backend, Filters, Mode, PassagesEvent

if TYPE_CHECKING:  # rag.wiring imports the index and its stores: only the commands that need them do
    from rag.wiring import Engine

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


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad value is one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        first = e.errors()[0]
        fail(f"bad setting RAG_{str(first['loc'][0]).upper()}: {first['msg']}")


def _engine(collection_suffix: str = "") -> Engine:
    from rag.wiring import build_engine

    settings = _settings()
    if collection_suffix:  # a separate collection (rag eval), so the user's index is untouched
        settings = _settings(collection=settings.collection + collection_suffix)
    return build_engine(settings)


def _filters(outlet: str | None, since: str | None, until: str | None, author: str | None = None) -> Filters:
    """--outlet, --since, --until, --author as `Filters`; a bad date or range is a usage error."""
    try:
        return Filters.parse(outlet, since, until, author=author, label="--")
    except BadRequest as e:
        fail(str(e), 2)


def _question(text: str) -> str:
    """The question as the core uses it (`rag.question.clean_question`); a bad one is a usage error."""
    from rag.question import clean_question

    try:
        return clean_question(text, _settings().max_question_chars)
    except BadRequest as e:
        fail(str(e), 2)


def _one_of(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    """A usage error unless `value` is None or one of `choices`."""
    if value is not None and value not in choices:
        fail(f"{option} must be {', '.join(choices[:-1])} or {choices[-1]}, not {value!r}", 2)


class _Bars:
    """Rich progress bars over documents and chunks (ingest's `Progress`), shown once there is
    work to show, so a run that fails while reading files prints only its error."""

    def __init__(self, transient: bool) -> None:
        self._transient = transient
        self._p: Progress | None = None
        self._docs = self._chunks = TaskID(0)

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
    """Clean, chunk, embed and index articles; unchanged files cost nothing.

    Files that cannot be indexed are listed with the reason at the end; the rest are indexed. The
    exit code is 1 only when files were given and none could be indexed."""
    targets = paths or [Path("seeds")]
    engine = _engine()
    bars = _Bars(transient=as_json)
    try:
        report = engine.ingest(targets, prune=prune, progress=bars)
    finally:
        bars.stop()
    if as_json:
        print(json.dumps(report.counts()))
    else:
        c = report.counts()
        out.print(
            f"{c['documents']} documents, {c['chunks']} chunks indexed: {c['added']} added, "
            f"{c['updated']} updated, "
            f"{c['removed']} removed, {c['unchanged']} unchanged; {report.embedded} chunks embedded "
            f"in {report.seconds:.1f}s",
            highlight=False,
        )
    for d in report.decoded:
        print(f"note: {d.path}: {d.reason}", file=sys.stderr)
    if report.skipped:
        # Plain print, one line per file: a long path must stay greppable.
        print(f"skipped {len(report.skipped)} (not indexed):", file=sys.stderr)
        for s in report.skipped:
            print(f"  {s.path}: {s.reason}", file=sys.stderr)
    if report.nothing_indexed:
        fail("none of the files could be indexed")


@app.command("search")
def search_cmd(
    question: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[
        int | None, typer.Option("-k", "--k", min=1, max=100, help="Passages to return (default RAG_TOP_K).")
    ] = None,
    outlet: Annotated[str | None, typer.Option(help="Only outlets containing this text.")] = None,
    author: Annotated[str | None, typer.Option(help="Only authors containing this text.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles dated on/before (YYYY[-MM[-DD]]).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print the passages as JSON.")] = False,
) -> None:
    """Hybrid (dense + BM25) search over the indexed articles."""
    question = _question(question)
    _one_of("--mode", mode, get_args(Mode))
    filters = _filters(outlet, since, until, author)
    search_mode: Mode = mode  # type: ignore[assignment]
    passages = _engine().search(question, k=k, filters=filters, mode=search_mode)
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
    k: Annotated[
        int | None,
        typer.Option(
            "-k", "--k", min=1, max=50, help="Passages to retrieve (3 more for a question with sides)."
        ),
    ] = None,
    outlet: Annotated[str | None, typer.Option(help="Only outlets containing this text.")] = None,
    author: Annotated[str | None, typer.Option(help="Only authors containing this text.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles dated on/before (YYYY[-MM[-DD]]).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verified answer as JSON.")] = False,
) -> None:
    """Answer from the articles, with every claim cited and checked against its source."""
    from rag.types import AnswerEvent, TokenEvent

    question = _question(question)
    _one_of("--backend", backend, get_args(Backend))
    filters = _filters(outlet, since, until, author)
    answer = None
    streamed = False
    for event in _engine().ask_stream(question, backend=backend, k=k, filters=filters):
        if isinstance(event, PassagesEvent) and not as_json:
            _print_evidence(event)
        elif isinstance(event, TokenEvent) and not as_json and sys.stdout.isatty():
            if not streamed:
                out.print("[dim]generating…[/]")
            streamed = True
            print(event.text, end="", flush=True)
        elif isinstance(event, AnswerEvent):
            answer = event.answer
    assert answer is not None
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if streamed:
        print("\n")
    _print_answer(answer)


def _print_evidence(event: PassagesEvent) -> None:
    if not event.evidence:
        return
    out.print("[bold]What each source says[/]")
    for e in event.evidence:
        side = {1: " (one side)", -1: " (the other side)"}.get(e.stance, "") if event.conflicts else ""
        out.print(f"  {e.outlet or 'unknown outlet'}, {e.date or 'undated'}{side}", highlight=False)
        for q in e.quotes:
            out.print(f"    [{q.n}] “{' '.join(q.text.split())}”", highlight=False, markup=False)
    out.print()


def _print_answer(answer: Answer) -> None:
    title = "No answer in the articles" if answer.abstained else "Answer"
    out.print(f"[bold]{title}[/] [dim]({answer.backend}, {answer.timings.total_ms:.0f} ms)[/]")
    out.print(textwrap.fill(answer.answer, 100), highlight=False, markup=False)
    for claim in answer.claims:
        if not claim.supported:
            out.print(
                f"  [yellow]removed, unsupported:[/] {claim.text} [dim]({'; '.join(claim.problems)})[/]",
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


@app.command("eval")
def eval_cmd(
    questions: Annotated[
        Path | None, typer.Option(help="Question file (YAML/JSON). Default: the built-in set over seeds/.")
    ] = None,
    backend: Annotated[str, typer.Option(help="local, openai or extractive.")] = "local",
    mode: Annotated[str, typer.Option(help="Retrieval mode of answers: hybrid, dense or bm25.")] = "hybrid",
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="Passages per question.")] = 5,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.md, results.json, plots.")] = Path(
        "eval-out"
    ),
    write_baseline: Annotated[
        bool, typer.Option("--write-baseline", help="Also write the CI gate's baseline (eval/baseline.json).")
    ] = False,
) -> None:
    """Evaluate retrieval (every mode) and answers (one backend) on a question set; write a report."""
    from eval import report, runner

    _one_of("--backend", backend, get_args(Backend))
    _one_of("--mode", mode, get_args(Mode))
    path = questions or runner.DEFAULT_QUESTIONS
    started = time.perf_counter()
    git = report.git_state(Path(__file__).resolve().parent.parent)  # the code the run imports
    engine = _engine(runner.EVAL_COLLECTION_SUFFIX if runner.declares_corpus(path) else "")
    with _Phases() as bar:
        bar.phase("indexing the articles", 1)
        qset = runner.prepare(engine, path)
        results = runner.run(engine, qset, backend=backend, mode=mode, k=k, reporter=bar)  # type: ignore[arg-type]
    results["meta"]["seconds_total"] = round(time.perf_counter() - started, 1)
    results["meta"]["machine"] = report.machine()
    results["meta"]["git"] = git
    files = report.write(results, out_dir)
    if write_baseline:
        files.append(runner.write_baseline(results["summary"], path))
    _print_eval_summary(results, backend, k, runner.MODES)
    for f in files:
        out.print(f"wrote {f}", highlight=False)


class _Phases:
    """One rich progress bar per phase of an evaluation (the runner's `reporter`)."""

    def __init__(self) -> None:
        from rich.progress import SpinnerColumn

        self._p = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:>28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> _Phases:
        self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.stop()

    def phase(self, name: str, total: int) -> None:
        if self._task is not None:
            self._p.update(self._task, completed=self._p.tasks[self._task].total)
        self._task = self._p.add_task(name, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self._p.advance(self._task)


def _print_eval_summary(results: dict[str, Any], backend: str, k: int, modes: Sequence[str]) -> None:
    s = results["summary"]
    a = s["answers"]
    for mo in modes:
        r = s["retrieval"][mo]
        out.print(f"{mo:>7}: doc hit@{k} {r['doc_hit']:.3f}  MRR {r['mrr']:.3f}", highlight=False)
    cp = a["citations"]["verifier"]["generated"]["precision"]
    kf = a["key_fact_recall"]
    out.print(
        f"{backend}: key-fact recall {kf if kf is None else round(kf, 3)}, citation precision (verifier) "
        f"{cp if cp is None else round(cp, 3)}, {results['meta']['seconds_total']:.0f} s",
        highlight=False,
    )


@app.command("prepare")
def prepare_cmd() -> None:
    """Assemble and verify the local LLM (once; later runs only check it)."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from rag import backends

    settings = _settings()
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err
    )
    task = bar.add_task(f"assembling {settings.local_model}", total=None)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        path = backends.local_model(settings, progress)
    finally:
        bar.stop()
    out.print(f"{settings.local_model}: {path} (sha256 verified)", highlight=False)


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback needs RAG_API_KEY.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 7860,
) -> None:
    """Serve the chat at /, the HTTP API under /v1/ (OpenAI-compatible too) and its docs at /docs."""
    import uvicorn

    from rag.wiring import build_engine
    from ui.server import check_bind, create_app, uvicorn_options

    settings = _settings()
    try:
        check_bind(host, settings)
    except ValueError as e:
        fail(str(e))
    engine = build_engine(settings)
    if not engine.lexical.records:
        err.print(
            "[yellow]nothing is indexed yet:[/] run `rag ingest` (answers will say so)", highlight=False
        )
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    out.print(f"newsrag: chat {url}/  API {url}/v1/  docs {url}/docs", highlight=False)
    app = create_app(engine, settings)
    uvicorn.run(app, host=host, port=port, log_level="info", **uvicorn_options(settings))


def main() -> None:
    """The `rag` entry point: an error a person can fix is one line on stderr and exit code 1."""
    try:
        app()
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)

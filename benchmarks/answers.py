"""Answer timings and output of the extractive backend and the local default on seeds/; writes
docs/benchmarks/answers.md.

Per backend: the PMF question (for the local model on a freshly loaded model, cold: the fixed
system + few-shot prefix is evaluated too), a different question next (the prefix is reused from
llama.cpp's KV cache, only the chosen sentences and question are evaluated), then the PMF
question again. Times are to the first verified sentence (the first token event: only verified
sentences are streamed) and to the full answer. Records the verbatim answers and citations, so
the issue notes quote what the product really says.

Run: `make bench` (or `.venv/bin/python benchmarks/answers.py`). Numbers are for this machine.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.settings import Settings  # noqa: E402
from rag.types import AnswerEvent, PassagesEvent, TokenEvent  # noqa: E402
from rag.wiring import build_engine  # noqa: E402

QUESTIONS = [
    "Did PMF leaders want US troops to stay?",
    "Who is Hadi al-Ameri?",
    "Did PMF leaders want US troops to stay?",
]
BACKENDS = ("extractive", "local")


def main() -> None:
    out = ROOT / "docs" / "benchmarks" / "answers.md"
    shared_models = Path(os.environ.get("RAG_DATA_DIR", ROOT / "data")).resolve() / "models"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", chroma_url=None, llm_backend="local")
        settings.data_dir.mkdir(parents=True)
        # the model is assembled there on first use when no run has done it yet (a fresh clone)
        shared_models.mkdir(parents=True, exist_ok=True)
        settings.models_dir.symlink_to(shared_models, target_is_directory=True)
        engine = build_engine(settings)
        engine.ingest([ROOT / "seeds"])
        t = time.perf_counter()
        engine.answerer("local")  # assemble/verify and load the GGUF
        load_s = time.perf_counter() - t
        rows, shown = [], []
        load_before = os.getloadavg()
        for i, (backend, q) in enumerate(((b, q) for b in BACKENDS for q in QUESTIONS), 1):
            t0 = time.perf_counter()
            first_passage = first_token = None
            raw = ""
            for ev in engine.ask_stream(q, backend=backend):
                now = (time.perf_counter() - t0) * 1000
                if isinstance(ev, PassagesEvent):
                    first_passage = now
                elif isinstance(ev, TokenEvent):
                    first_token = first_token if first_token is not None else now
                    raw += ev.text
                elif isinstance(ev, AnswerEvent):
                    a = ev.answer
            total = (time.perf_counter() - t0) * 1000
            rows.append(
                f"| {i} | {q} | {first_passage:,.0f} | {first_token:,.0f} | {total:,.0f} | "
                f"{len(raw.split())} | {a.backend} | {os.getloadavg()[0]:.1f} |"
            )
            cites = "\n".join(
                f"  - [{c.n}] {c.outlet or 'unknown outlet'}, {c.date or 'undated'}, `{c.doc_id}` "
                f"{c.start}:{c.end}, supported={c.supported}: “{c.quote}”"
                for c in a.citations
            )
            removed = "\n".join(
                f"  - removed: {c.text} ({'; '.join(c.problems)})" for c in a.claims if not c.supported
            )
            shown.append(
                f"### {i}. {q} ({backend})\n\nStreamed (verified sentences only):\n\n"
                f"> {raw.strip() or '(none)'}\n\n"
                f"Answer shown (verified):\n\n> {a.answer}\n\n- abstained: {a.abstained}; conflicts: "
                f"{[[(s.position, list(s.doc_ids)) for s in c.sides] for c in a.conflicts]}\n"
                f"- citations:\n{cites or '  - none'}\n{removed}\n- notes: {list(a.notes)}\n"
            )
    lines = [
        "# Answer benchmark: the local default on seeds/",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}. Model: {settings.local_model} (llama.cpp, Q4_K_M), "
        f"context budget {settings.context_budget} tokens, k={settings.top_k}.",
        f"Run: `make bench`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Model load (verify stamp + llama.cpp load): {load_s:.1f} s. Load average at the start: "
        f"{', '.join(f'{x:.1f}' for x in load_before)}; when done: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine slows every figure; "
        "the last column is the 1-minute load when each answer ended).",
        "",
        "Times in ms from the question, as the stream delivers them (the first passage event carries the",
        "retrieved passages and what each source says; the first token is the first verified sentence).",
        "",
        "| # | question | first passage | first verified sentence | full answer | words streamed | backend "
        "| load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "The first local question pays for the fixed system + few-shot prefix; the next reuses it from",
        "llama.cpp's KV cache (only the chosen sentences and the question are new); the third repeats",
        "the first after a different one, so again only the tail after the shared prefix is evaluated.",
        "",
        "## What was said",
        "",
        *shown,
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

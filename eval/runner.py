"""Run a question set through a built engine: answers on one backend, retrieval in every mode.

The result is one JSON-ready dict (`results.json`): per question the answer, its claims and
citations, the retrieved passages per mode and every metric input, plus the summaries — enough to
recompute every number in the report.

Where the articles come from: a question file with a `corpus` is evaluated on exactly those
articles, ingested (incrementally, with pruning) into the engine it is given — the CLI builds that
engine on a separate collection, `<RAG_COLLECTION>-eval`, so the user's own index is never
touched. A file without a `corpus` is evaluated on the engine's index as it is.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from eval import metrics as m
from eval.questions import Question, QuestionFileError, QuestionSet, corpus_paths, load_questions, parse_file
from rag.answer import Answerer, Conversation
from rag.citations import verify
from rag.types import Answer, AnswerEvent, Citation, Mode, Passage, PassagesEvent, Quote, TokenEvent
from rag.wiring import Engine

MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"
HELDOUT_QUESTIONS = Path(__file__).resolve().parent / "heldout.yaml"  # never used for tuning
BASELINE = Path(__file__).resolve().parent / "baseline.json"  # the CI gate's numbers (test_eval_gate.py)
EVAL_COLLECTION_SUFFIX = "-eval"


class Reporter(Protocol):
    """Progress of a run (the CLI shows a rich progress bar)."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


def declares_corpus(path: str | Path) -> bool:
    """Whether a question file names its own articles (then it gets an eval-only collection)."""
    p = Path(path)
    return bool(corpus_paths(p, parse_file(p)))


def prepare(engine: Engine, path: str | Path) -> QuestionSet:
    """Load and validate the question file and make sure the engine's index holds its articles.

    With a `corpus`, the quotes are checked against the files first, then the files are ingested
    with pruning (so the index holds exactly them). Without one, the quotes are checked against
    the indexed articles.
    """
    p = Path(path)
    if declares_corpus(p):
        qset = load_questions(p)
        engine.ingest(list(qset.corpus), prune=True)
    else:
        docs = {d.doc_id: engine.document(d.doc_id).text for d in engine.documents()}
        qset = load_questions(p, docs)
    indexed = {d.doc_id for d in engine.documents()}
    for q in qset.questions:
        missing = [d for d in q.docs if d not in indexed]
        if missing:
            raise QuestionFileError(f"question {q.id!r}: document(s) not in the index: {', '.join(missing)}")
    return qset


def _run_to_answer(
    answerer: Answerer, question: str, k: int, conversation: Conversation, mode: Mode
) -> Answer:
    final = None
    for event in answerer.stream(question, k=k, conversation=conversation, mode=mode):
        if isinstance(event, AnswerEvent):
            final = event.answer
    assert final is not None
    return final


def answer_question(
    engine: Engine, q: Question, *, backend: str, mode: Mode, k: int
) -> tuple[Answer, dict[str, Any]]:
    """Answer one question (after its history turns) and time the stream of the final turn.

    History turns are answered with the extractive backend: only their questions and passages
    feed the conversation, and it keeps a follow-up's cost that of one question.
    """
    conv = Conversation()
    if q.history:
        hist = engine.answerer("extractive")
        for turn in q.history:
            conv.turns.append(_run_to_answer(hist, turn, k, conv, mode))
    answerer = engine.answerer(backend)
    t0 = time.perf_counter()
    first_passage = first_token = None
    streamed = ""
    final = None
    for event in answerer.stream(q.question, k=k, conversation=conv, mode=mode):
        now = (time.perf_counter() - t0) * 1000
        if isinstance(event, PassagesEvent) and first_passage is None:
            first_passage = now
        elif isinstance(event, TokenEvent):
            if first_token is None:
                first_token = now
            streamed += event.text
        elif isinstance(event, AnswerEvent):
            final = event.answer
    total = (time.perf_counter() - t0) * 1000
    assert final is not None
    timing = {
        "retrieve_ms": final.timings.retrieve_ms,
        "first_passage_ms": round(first_passage, 1) if first_passage is not None else None,
        "first_token_ms": round(first_token, 1) if first_token is not None else None,
        "total_ms": round(total, 1),
    }
    return final, {"streamed": streamed, "timing": timing}


def _span(p: Passage | Citation | Quote) -> m.Span:
    return (p.doc_id, p.start, p.end)


def _gold_spans(q: Question) -> list[m.Span]:
    return [(g.doc_id, g.start, g.end) for g in q.evidence]


def citation_judgements(
    q: Question, answer: Answer, normalise: Callable[[str], str] = str
) -> dict[str, list[dict[str, Any]] | None]:
    """ALCE judgements of every generated sentence (claim) by the project's verifier (with the
    index's aliases, `normalise`, as the answer pipeline uses them) and by gold evidence overlap;
    `shown` marks the sentences the answer keeps (verified)."""
    statements = [list(c.citations) for c in answer.claims]
    by_n = {p.n: p for p in answer.passages}

    def verifier(i: int, ns: frozenset[int]) -> bool:
        sentence = answer.claims[i].text + " " + "".join(f"[{n}]" for n in sorted(ns))
        cited = [by_n[n] for n in ns if n in by_n]
        return verify(sentence, cited, normalise, question=answer.standalone_question or "")[0].supported

    shown = [c.supported for c in answer.claims]

    def as_dicts(js: list[m.StatementJudgement]) -> list[dict[str, Any]]:
        return [
            {
                "citations": list(j.citations),
                "supported": j.supported,
                "relevant": list(j.relevant),
                "shown": s,
            }
            for j, s in zip(js, shown, strict=True)
        ]

    out: dict[str, list[dict[str, Any]] | None] = {
        "verifier": as_dicts(m.judge_statements(statements, verifier))
    }
    gold = _gold_spans(q)
    if gold:
        cited = {c.n: _span(c) for c in answer.citations}
        own = [{q.n: _span(q) for q in c.quotes} for c in answer.claims]
        out["gold"] = as_dicts(m.judge_statements(statements, m.gold_judge(cited, gold, own)))
    else:
        out["gold"] = None
    return out


def _judgements(items: Sequence[dict[str, Any]], view: str) -> list[m.StatementJudgement]:
    return [
        m.StatementJudgement(tuple(d["citations"]), d["supported"], tuple(d["relevant"]))
        for d in items
        if view == "generated" or d["shown"]
    ]


def score_answer(
    q: Question, answer: Answer, streamed: str, normalise: Callable[[str], str] = str
) -> dict[str, Any]:
    """Every answer metric input of one question (`normalise`: the index's aliases)."""
    s: dict[str, Any] = {"abstained": answer.abstained}
    if q.key_facts:
        s["facts_stated"] = [(not answer.abstained) and m.states(answer.answer, alts) for alts in q.key_facts]
        s["key_fact_recall"] = m.key_fact_recall(answer.answer, q.key_facts, answer.abstained)
    if q.forbidden:
        s["injection_resisted"] = m.injection_resisted(answer.answer, q.forbidden)
        s["injection_resisted_stream"] = m.injection_resisted(streamed, q.forbidden)
    if q.kind == "conflict":
        conflicts = [[(side.position, side.doc_ids) for side in c.sides] for c in answer.conflicts]
        cited = {c.doc_id for c in answer.citations if c.supported}
        b = m.both_sides(q.sides(), conflicts, cited)
        s["both_sides"] = dataclasses.asdict(b)
    s["citations"] = citation_judgements(q, answer, normalise)
    s["generated_kept"] = keeps_generated(answer)
    return s


def keeps_generated(answer: Answer) -> bool | None:
    """Whether an answer of an LLM backend keeps a sentence the model wrote, rather than falling
    back to quotes (None: abstained, or the extractive backend, which writes nothing)."""
    if answer.abstained or answer.backend == "extractive":
        return None
    fallback = answer.backend.endswith("(fallback)") or any(
        "quotes the sources instead" in n for n in answer.notes
    )
    return not fallback


def _answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "text": answer.answer,
        "standalone_question": answer.standalone_question,
        "abstained": answer.abstained,
        "backend": answer.backend,
        "notes": list(answer.notes),
        "claims": [
            {
                "text": c.text,
                "citations": list(c.citations),
                "supported": c.supported,
                "problems": list(c.problems),
                "quotes": [{"n": q.n, "doc_id": q.doc_id, "start": q.start, "end": q.end} for q in c.quotes],
            }
            for c in answer.claims
        ],
        "citations": [
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "supported": c.supported,
            }
            for c in answer.citations
        ],
        "conflicts": [
            {"axis": c.axis, "sides": [{"position": s.position, "doc_ids": list(s.doc_ids)} for s in c.sides]}
            for c in answer.conflicts
        ],
        "evidence_docs": [e.doc_id for e in answer.evidence],
        "passages": [
            {"n": p.n, "doc_id": p.doc_id, "start": p.start, "end": p.end, "chunk_id": p.chunk_id}
            for p in answer.passages
        ],
    }


def retrieval_record(engine: Engine, q: Question, query: str, k: int, mode: Mode) -> dict[str, Any]:
    t0 = time.perf_counter()
    passages = engine.search(query, k=k, mode=mode)
    ms = round((time.perf_counter() - t0) * 1000, 1)
    ranked = [_span(p) for p in passages]
    rec: dict[str, Any] = {"passages": [list(s) for s in ranked], "ms": ms}
    if q.docs:
        rec["scores"] = dataclasses.asdict(m.retrieval_scores(ranked, q.docs, _gold_spans(q), k))
    return rec


def run(
    engine: Engine,
    qset: QuestionSet,
    *,
    backend: str,
    mode: Mode = "hybrid",
    k: int = 5,
    reporter: Reporter | None = None,
    crosscheck: bool = True,
) -> dict[str, Any]:
    """Evaluate: answers on `backend` (retrieving in `mode`), retrieval in every mode, llama-index
    cross-check of hit rate and MRR. Returns the results dict (see `summarise`)."""
    rep = reporter or _Silent()
    started = time.time()
    records: list[dict[str, Any]] = []
    rep.phase(f"answers ({backend})", len(qset.questions))
    for q in qset.questions:
        answer, extra = answer_question(engine, q, backend=backend, mode=mode, k=k)
        records.append(
            {
                "id": q.id,
                "kind": q.kind,
                "question": q.question,
                "history": list(q.history),
                "gold": {
                    "docs": list(q.docs),
                    "spans": [[g.doc_id, g.start, g.end] for g in q.evidence],
                    "sides": {s: list(d) for s, d in q.sides().items()},
                    "key_facts": [list(a) for a in q.key_facts],
                    "forbidden": list(q.forbidden),
                },
                "answer": _answer_record(answer),
                "streamed": extra["streamed"],
                "timing": extra["timing"],
                "scores": score_answer(q, answer, extra["streamed"], engine.aliases().normalise),
            }
        )
        rep.advance()
    rep.phase("retrieval (3 modes)", len(qset.questions) * len(MODES))
    for q, rec in zip(qset.questions, records, strict=True):
        rec["retrieval"] = {}
        for mo in MODES:
            rec["retrieval"][mo] = retrieval_record(engine, q, rec["answer"]["standalone_question"], k, mo)
            rep.advance()
    if crosscheck:
        from eval.llamaindex_check import llamaindex_scores

        graded = [(q, r) for q, r in zip(qset.questions, records, strict=True) if q.docs]
        rep.phase("llama-index cross-check", len(MODES))
        for mo in MODES:
            li = llamaindex_scores(
                engine.retriever, [(r["answer"]["standalone_question"], q.docs) for q, r in graded], k, mo
            )
            for (_, r), hit, rr in zip(graded, li["hit_rate"], li["mrr"], strict=True):
                r["retrieval"][mo]["llama_index"] = {"hit_rate": hit, "mrr": rr}
            rep.advance()
    results = {
        "meta": {
            "questions_file": str(qset.path),
            "questions": len(qset.questions),
            "backend": backend,
            "mode": mode,
            "k": k,
            "documents": sorted(qset.documents),
            "corpus": [str(c) for c in qset.corpus],
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "seconds": round(time.time() - started, 1),
            "settings": {
                "collection": engine.settings.collection,
                "chunk_max_words": engine.settings.chunk_max_words,
                "chunk_min_words": engine.settings.chunk_min_words,
                "candidates": engine.settings.candidates,
                "rrf_k": engine.settings.rrf_k,
                "context_budget": engine.settings.context_budget,
                "local_model": engine.settings.local_model,
            },
        },
        "questions": records,
    }
    results["summary"] = summarise(records, k)
    return results


# ----------------------------------------------------------------------------- summaries


def _citation_summary(records: Sequence[dict[str, Any]], judge: str, view: str) -> dict[str, Any]:
    per = []
    for r in records:
        items = r["scores"]["citations"].get(judge)
        if items is None:
            continue
        cs = m.citation_scores(_judgements(items, view))
        if cs.statements:
            per.append(cs)
    return {
        "recall": m.mean(c.recall for c in per),
        "precision": m.mean(c.precision for c in per),
        "answers": len(per),
        "statements": sum(c.statements for c in per),
        "citations": sum(c.citations for c in per),
    }


def _answer_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ab = m.abstention((r["kind"] == "unanswerable", r["scores"]["abstained"]) for r in records)
    answerable = [r for r in records if r["kind"] != "unanswerable"]
    conflict = [r["scores"]["both_sides"] for r in records if "both_sides" in r["scores"]]
    inj = [r["scores"] for r in records if "injection_resisted" in r["scores"]]
    return {
        "n": len(records),
        "key_fact_recall": m.mean(r["scores"].get("key_fact_recall") for r in records),
        "all_key_facts": m.mean(
            float(all(r["scores"]["facts_stated"])) for r in records if "facts_stated" in r["scores"]
        ),
        "abstention_precision": ab.precision,
        "abstention_recall": ab.recall,
        "false_abstentions": ab.false_positives,
        "answerable": len(answerable),
        "both_sides": m.mean(float(b["both"]) for b in conflict),
        "both_sides_stated": m.mean(float(b["stated"]) for b in conflict),
        "both_sides_cited": m.mean(float(b["cited"]) for b in conflict),
        "injection_resistance": m.mean(float(s["injection_resisted"]) for s in inj),
        "injection_resistance_stream": m.mean(float(s["injection_resisted_stream"]) for s in inj),
        "generated_kept": m.mean(
            float(r["scores"]["generated_kept"])
            for r in records
            if r["scores"].get("generated_kept") is not None
        ),
        "citations": {
            judge: {view: _citation_summary(records, judge, view) for view in ("generated", "shown")}
            for judge in ("verifier", "gold")
        },
    }


def _retrieval_summary(records: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    scored = [r["retrieval"][mode] for r in records if "scores" in r["retrieval"][mode]]
    out: dict[str, Any] = {"n": len(scored)}
    for key, name in (
        ("doc_hit", "doc_hit"),
        ("doc_recall", "doc_recall"),
        ("span_hit", "span_hit"),
        ("span_recall", "span_recall"),
        ("rr", "mrr"),
    ):
        out[name] = m.mean(s["scores"][key] for s in scored)
    li = [s["llama_index"] for s in scored if "llama_index" in s]
    if li:
        out["llama_index_hit_rate"] = m.mean(x["hit_rate"] for x in li)
        out["llama_index_mrr"] = m.mean(x["mrr"] for x in li)
    out["latency_ms"] = m.latency_summary([r["retrieval"][mode]["ms"] for r in records])
    return out


def summarise(records: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """Every summary number, from the per-question records alone."""
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    by_kind = {}
    for kind in kinds:
        rs = [r for r in records if r["kind"] == kind]
        s = _answer_summary(rs)
        hyb = _retrieval_summary(rs, "hybrid")
        by_kind[kind] = {
            "n": len(rs),
            "key_fact_recall": s["key_fact_recall"],
            "abstained": m.mean(float(r["scores"]["abstained"]) for r in rs),
            "doc_hit": hyb["doc_hit"],
            "citation_precision_verifier": s["citations"]["verifier"]["generated"]["precision"],
            "citation_precision_gold": s["citations"]["gold"]["generated"]["precision"],
            "both_sides": s["both_sides"],
            "injection_resistance": s["injection_resistance"],
        }
    timings = [r["timing"] for r in records]
    return {
        "k": k,
        "answers": _answer_summary(records),
        "latency_ms": {
            name: m.latency_summary([t[f"{name}_ms"] for t in timings])
            for name in ("retrieve", "first_passage", "first_token", "total")
        },
        "retrieval": {mode: _retrieval_summary(records, mode) for mode in MODES},
        "by_kind": by_kind,
    }


# ----------------------------------------------------------------------------- baseline (CI gate)


def baseline_from(summary: dict[str, Any]) -> dict[str, Any]:
    """The numbers the CI gate holds the line on: hit@k of gold documents per mode, citation
    precision (verifier and gold judges, generated sentences), and the answers' key-fact recall,
    abstention recall, both sides stated and false abstentions, of the extractive backend."""
    cites = summary["answers"]["citations"]
    a = summary["answers"]
    return {
        "k": summary["k"],
        "doc_hit": {mode: summary["retrieval"][mode]["doc_hit"] for mode in MODES},
        "citation_precision": {
            "verifier": cites["verifier"]["generated"]["precision"],
            "gold": cites["gold"]["generated"]["precision"],
        },
        "answers": {key: a[key] for key in ("key_fact_recall", "abstention_recall", "both_sides")},
        "most": {"false_abstentions": a["false_abstentions"]},
    }


def write_baseline(summary: dict[str, Any], questions: str | Path) -> Path:
    """Write the gate's numbers for a question set into eval/baseline.json: the development set's
    at the top level, any other set's under its file name's stem ("heldout")."""
    base = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    numbers = baseline_from(summary)
    if Path(questions).resolve() == DEFAULT_QUESTIONS:
        base.update(numbers)
    else:
        base[Path(questions).stem] = numbers
    BASELINE.write_text(json.dumps(base, indent=2) + "\n", encoding="utf-8")
    return BASELINE


def below_baseline(summary: dict[str, Any], baseline: dict[str, Any], tolerance: float = 1e-9) -> list[str]:
    """What dropped below the baseline (or rose above it, for `most`), in words (empty: the gate
    passes). Numbers the baseline does not hold are not checked."""
    now = baseline_from(summary)
    if now["k"] != baseline["k"]:
        return [f"k differs from the baseline's ({now['k']} vs {baseline['k']})"]
    out = []
    for group in ("doc_hit", "citation_precision", "answers"):
        for key, base in baseline.get(group, {}).items():
            value = now[group].get(key)
            if base is not None and (value is None or value < base - tolerance):
                out.append(f"{group}[{key}] = {value} is below the baseline {base}")
    for key, base in baseline.get("most", {}).items():
        value = now["most"].get(key)
        if base is not None and (value is None or value > base + tolerance):
            out.append(f"{key} = {value} is above the baseline {base}")
    return out

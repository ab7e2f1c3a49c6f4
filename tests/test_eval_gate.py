"""The evaluation as a CI gate: the extractive backend over the whole question set and retrieval in
every mode, with the real embedded embedding model, must not fall below eval/baseline.json.

Also: our hit rate and MRR agree with llama-index's own RetrieverEvaluator; every summary number
is recomputable from the per-question records; `rag eval` works on a user's own question file;
and no question text or id appears in the core (questions measure, they never steer code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eval import runner
from eval.questions import QuestionSet, load_questions, normalise
from rag.settings import Settings
from rag.wiring import Engine, build_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def eval_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The embedded default embedding model on a fresh store (like `real_engine`); `prepare`
    ingests the question set's corpus: the seeds and the injection fixture."""
    data = tmp_path_factory.mktemp("eval") / "data"
    return build_engine(Settings(data_dir=data, chroma_url=None, collection="articles-eval"))


@pytest.fixture(scope="module")
def extractive_run(eval_engine: Engine) -> tuple[QuestionSet, dict[str, Any]]:
    qset = runner.prepare(eval_engine, runner.DEFAULT_QUESTIONS)
    return qset, runner.run(eval_engine, qset, backend="extractive", k=5)


@pytest.mark.slow
def test_extractive_run_stays_above_the_committed_baseline(
    extractive_run: tuple[QuestionSet, dict[str, Any]], eval_engine: Engine
) -> None:
    qset, results = extractive_run
    assert "injection_article" in {d.doc_id for d in eval_engine.documents()}
    assert len(results["questions"]) == len(qset) >= 40
    baseline = json.loads(runner.BASELINE.read_text(encoding="utf-8"))
    failures = runner.below_baseline(results["summary"], baseline)
    assert not failures, (
        "; ".join(failures)
        + " — if the drop is intended, rerun `make baseline` and commit eval/baseline.json"
    )


@pytest.mark.slow
def test_extractive_run_on_the_held_out_set_stays_above_its_baseline(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The held-out questions (never used to tune) gate the extractive backend too."""
    assert runner.HELDOUT_QUESTIONS.exists(), "eval/heldout.yaml is the held-out set the gate reads"
    data = tmp_path_factory.mktemp("heldout") / "data"
    engine = build_engine(Settings(data_dir=data, chroma_url=None, collection="articles-heldout"))
    qset = runner.prepare(engine, runner.HELDOUT_QUESTIONS)
    assert len(qset) >= 30
    results = runner.run(engine, qset, backend="extractive", k=5, crosscheck=False)
    baseline = json.loads(runner.BASELINE.read_text(encoding="utf-8"))
    assert "heldout" in baseline, "write it: rag eval --questions eval/heldout.yaml --write-baseline"
    failures = runner.below_baseline(results["summary"], baseline["heldout"])
    assert not failures, "; ".join(failures)


@pytest.mark.slow
def test_hit_rate_and_mrr_agree_with_llama_index(extractive_run: tuple[QuestionSet, dict[str, Any]]) -> None:
    _, results = extractive_run
    for mode in runner.MODES:
        r = results["summary"]["retrieval"][mode]
        assert r["n"] >= 40
        assert r["llama_index_hit_rate"] == pytest.approx(r["doc_hit"], abs=1e-12), mode
        assert r["llama_index_mrr"] == pytest.approx(r["mrr"], abs=1e-12), mode
        for q in results["questions"]:
            rec = q["retrieval"][mode]
            if "scores" in rec:
                assert rec["llama_index"]["hit_rate"] == rec["scores"]["doc_hit"], (mode, q["id"])
                assert rec["llama_index"]["mrr"] == pytest.approx(rec["scores"]["rr"]), (mode, q["id"])


@pytest.mark.slow
def test_every_summary_number_is_recomputable_from_results_json(
    extractive_run: tuple[QuestionSet, dict[str, Any]],
) -> None:
    _, results = extractive_run
    stored = json.loads(json.dumps(results))
    assert runner.summarise(stored["questions"], stored["summary"]["k"]) == stored["summary"]


@pytest.mark.slow
def test_extractive_answers_are_grounded(extractive_run: tuple[QuestionSet, dict[str, Any]]) -> None:
    """Properties that hold whatever the numbers: the extractive backend quotes, so every sentence
    it shows is verified, and an injected instruction never reaches its answer."""
    _, results = extractive_run
    a = results["summary"]["answers"]
    assert a["citations"]["verifier"]["shown"]["recall"] in (None, 1.0)
    assert a["injection_resistance"] == 1.0


def test_no_question_text_id_or_quote_appears_in_the_core() -> None:
    qset = load_questions(runner.DEFAULT_QUESTIONS)
    needles = []
    for q in qset.questions:
        needles.append(("id", q.id.casefold()))
        needles.append(("question", normalise(q.question)))
        needles += [("history", normalise(h)) for h in q.history]
        needles += [("quote", normalise(g.quote)) for g in q.evidence if len(g.quote.split()) >= 6]
    sources = [p for folder in ("rag", "index") for p in sorted((ROOT / folder).rglob("*")) if p.is_file()]
    assert sources
    for path in sources:
        if path.suffix not in (".py", ".txt", ".md", ".json", ".yaml", ".toml", ""):
            continue
        text = normalise(path.read_text(encoding="utf-8", errors="replace"))
        for what, needle in needles:
            assert needle not in text, (
                f"{what} {needle!r} of the eval set appears in {path.relative_to(ROOT)}"
            )


@pytest.mark.slow
def test_rag_eval_on_a_users_own_question_file(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(
        "Harbour reopens\n\nThe Northport harbour reopened on Monday after a storm closed it for nine days. "
        "Fishing boats returned at dawn, the harbour master said.\n",
        encoding="utf-8",
    )
    (corpus / "bridge.txt").write_text(
        "Bridge vote\n\nThe council voted 7 to 2 to repair the old bridge. Work starts in June and "
        "costs four million euros, officials said.\n",
        encoding="utf-8",
    )
    qfile = tmp_path / "questions.yaml"
    qfile.write_text(
        """corpus: [news]
questions:
  - id: harbour-days
    kind: fact
    question: For how many days was the Northport harbour closed?
    evidence: [{doc: harbour, quote: "closed it for nine days"}]
    key_facts: [[nine, "9"]]
  - id: bridge-vote
    kind: fact
    question: How did the council vote on repairing the old bridge?
    evidence: [{doc: bridge, quote: "The council voted 7 to 2 to repair the old bridge."}]
    key_facts: ["7 to 2"]
  - id: no-answer
    kind: unanswerable
    question: Who won the football cup final in Northport?
""",
        encoding="utf-8",
    )
    out = tmp_path / "report"
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data")}
    env.pop("RAG_CHROMA_URL", None)
    rag = Path(sys.executable).parent / "rag"
    cmd = [str(rag), "eval", "--questions", str(qfile), "--backend", "extractive", "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for name in ("report.md", "results.json", "per_kind.png", "latency.png", "retrieval_by_mode.png"):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["settings"]["collection"] == "articles-eval"  # the user's index is untouched
    assert results["summary"]["retrieval"]["hybrid"]["doc_hit"] == 1.0
    assert "hybrid: doc hit@5 1.000" in done.stdout
    assert "# Evaluation: extractive backend" in (out / "report.md").read_text(encoding="utf-8")

    # A bad quote is a clear one-line error naming the question.
    qfile.write_text(qfile.read_text(encoding="utf-8").replace("nine days", "ten days"), encoding="utf-8")
    bad = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1
    assert "question 'harbour-days': quote not found in harbour" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_gate_holds_answers_up_and_false_abstentions_down() -> None:
    def summary(recall: float, false_abstentions: int) -> dict[str, Any]:
        cites = {"generated": {"precision": 1.0}}
        return {
            "k": 5,
            "retrieval": {mode: {"doc_hit": 1.0} for mode in runner.MODES},
            "answers": {
                "citations": {"verifier": cites, "gold": cites},
                "key_fact_recall": recall,
                "abstention_recall": 0.5,
                "both_sides": 0.5,
                "false_abstentions": false_abstentions,
            },
        }

    base = runner.baseline_from(summary(0.8, 1))
    assert runner.below_baseline(summary(0.8, 1), base) == []
    assert runner.below_baseline(summary(0.9, 0), base) == []
    assert runner.below_baseline(summary(0.7, 1), base) == [
        "answers[key_fact_recall] = 0.7 is below the baseline 0.8"
    ]
    assert runner.below_baseline(summary(0.8, 2), base) == ["false_abstentions = 2 is above the baseline 1"]
    old = {k: v for k, v in base.items() if k in ("k", "doc_hit", "citation_precision")}
    assert runner.below_baseline(summary(0.1, 9), old) == []  # a baseline without them checks neither

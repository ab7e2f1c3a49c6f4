"""The evaluation metrics on hand-made cases, and the question-file loader's validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.metrics import (
    StatementJudgement,
    abstention,
    answer_text,
    both_sides,
    citation_scores,
    gold_judge,
    injection_resisted,
    judge_statements,
    key_fact_recall,
    mean,
    overlaps,
    percentile,
    retrieval_scores,
    states,
)
from eval.questions import QuestionFileError, find_span, load_questions

# ----------------------------------------------------------------------------- retrieval


def test_overlap_is_half_open_and_per_document() -> None:
    assert overlaps(("a", 0, 10), ("a", 9, 20))
    assert not overlaps(("a", 0, 10), ("a", 10, 20))  # touching is not overlapping
    assert overlaps(("a", 0, 100), ("a", 40, 50))  # containment
    assert not overlaps(("a", 0, 10), ("b", 0, 10))


def test_retrieval_scores_by_hand() -> None:
    ranked = [("x", 0, 50), ("b", 100, 200), ("a", 0, 80), ("b", 300, 400)]
    gold_spans = [("a", 10, 20), ("b", 350, 360), ("b", 500, 520)]
    s = retrieval_scores(ranked, {"a", "b"}, gold_spans, k=4)
    assert s.doc_hit == 1.0
    assert s.doc_recall == 1.0
    assert s.rr == 0.5  # first gold document at rank 2
    assert s.span_recall == pytest.approx(2 / 3)  # the span at 500 is in no passage
    assert s.span_hit == 1.0
    s2 = retrieval_scores(ranked, {"a", "b"}, gold_spans, k=2)
    assert s2.doc_recall == 0.5 and s2.rr == 0.5
    assert s2.span_recall == 0.0 and s2.span_hit == 0.0  # b 100:200 misses both b spans
    s1 = retrieval_scores(ranked, {"a"}, [], k=1)
    assert (s1.doc_hit, s1.rr, s1.span_recall) == (0.0, 0.0, None)


def test_rr_ranks_distinct_documents() -> None:
    # Two passages of one wrong document are one document: the gold one ranks 2nd, not 3rd
    # (as llama-index's MRR sees it: its retrievers drop repeated node ids).
    s = retrieval_scores([("x", 0, 5), ("x", 5, 9), ("g", 0, 5)], {"g"}, [], k=5)
    assert s.rr == pytest.approx(1 / 2)


def test_retrieval_scores_refuse_no_gold() -> None:
    with pytest.raises(ValueError):
        retrieval_scores([("a", 0, 1)], set(), [], k=5)


# ----------------------------------------------------------------------------- answers


def test_key_facts_match_alternatives_on_word_boundaries() -> None:
    text = "Six died and 31 were injured [2]. Experts count 80,000 to 100,000 fighters [3]."
    assert key_fact_recall(text, [["six", "6"], ["31"]]) == 1.0
    assert key_fact_recall(text, [["80000"], ["100 000", "100000"]]) == 1.0  # separators dropped
    assert not states("It happened in 2016 [1].", ["6"])  # "6" is not inside "2016"
    assert not states("See passage [31].", ["31"])  # citation markers are not facts
    assert key_fact_recall(text, [["six"], ["Qarachokh"]]) == 0.5
    assert key_fact_recall(text, [["six"]], abstained=True) == 0.0


def test_key_facts_normalise_quotes_and_entities() -> None:
    assert states("He said “We do not need America’s support” [4].", ["do not need America's support"])
    assert states("The heading read & # 39;Iraq needs the USA& # 39; [1].", ["'iraq needs the usa'"])
    assert answer_text("A  [1, 2]  B") == "a b"


def test_abstention_precision_and_recall() -> None:
    a = abstention([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert (a.true_positives, a.false_positives, a.false_negatives) == (2, 1, 1)
    assert a.precision == pytest.approx(2 / 3)
    assert a.recall == pytest.approx(2 / 3)
    none = abstention([(False, False)])
    assert none.precision is None and none.recall is None


def test_injection_resistance() -> None:
    assert injection_resisted("The leaders met in Baghdad [1].", ["PWNED"])
    assert not injection_resisted("pwned", ["PWNED"])
    assert not injection_resisted("Reply: P W N E D? no: PWNED.", ["pwned"])


STAY_LEAVE = {"stay": {"001"}, "leave": {"002"}}


def test_both_sides_needs_each_side_stated_and_cited() -> None:
    conflict = [("stay", ["001"]), ("leave", ["002", "004"])]
    ok = both_sides(STAY_LEAVE, [conflict], cited_docs={"001", "002"})
    assert ok.both and ok.stated and ok.cited
    one_cited = both_sides(STAY_LEAVE, [conflict], cited_docs={"002"})
    assert one_cited.stated and not one_cited.cited and not one_cited.both
    no_conflict = both_sides(STAY_LEAVE, [], cited_docs={"001", "002"})
    assert not no_conflict.stated and no_conflict.cited and not no_conflict.both


def test_both_sides_catches_a_swapped_or_merged_verdict() -> None:
    swapped = [("stay", ["002"]), ("leave", ["001"])]
    assert not both_sides(STAY_LEAVE, [swapped], {"001", "002"}).stated
    merged = [("stay", ["001", "002"]), ("leave", ["004"])]  # both gold documents on one side
    assert not both_sides(STAY_LEAVE, [merged], {"001", "002"}).stated
    # Free-text gold positions match any sides, one to one.
    free = {"need": {"001"}, "do not need": {"004"}}
    assert both_sides(free, [[("support", ["004"]), ("oppose", ["001"])]], {"001", "004"}).both
    with pytest.raises(ValueError):
        both_sides({"only": {"001"}}, [], set())


def _judge_from(table: dict[tuple[int, frozenset[int]], bool]):  # type: ignore[no-untyped-def]
    return lambda i, ns: table.get((i, ns), False)


def test_alce_recall_and_precision_by_hand() -> None:
    # s0 cites [1]: supported. s1 cites [1][2]: supported jointly only -> both citations needed.
    # s2 cites [1][3]: [1] alone supports, [3] alone does not and is not needed -> [3] irrelevant.
    # s3 cites nothing: unsupported. s4 cites [2]: unsupported.
    table = {
        (0, frozenset({1})): True,
        (1, frozenset({1, 2})): True,
        (2, frozenset({1, 3})): True,
        (2, frozenset({1})): True,
    }
    js = judge_statements([[1], [1, 2], [1, 3], [], [2]], _judge_from(table))
    assert [j.supported for j in js] == [True, True, True, False, False]
    assert js[1].relevant == (True, True)
    assert js[2].relevant == (True, False)
    scores = citation_scores(js)
    assert scores.recall == pytest.approx(3 / 5)
    assert scores.precision == pytest.approx(4 / 6)  # 1 + 2 + 1 relevant of 6 citations
    assert (scores.statements, scores.citations) == (5, 6)


def test_alce_edge_cases() -> None:
    assert citation_scores([]).recall is None
    uncited = citation_scores([StatementJudgement((), False, ())])
    assert (uncited.recall, uncited.precision) == (0.0, 0.0)
    dup = judge_statements([[2, 2]], lambda i, ns: ns == frozenset({2}))
    assert dup[0].citations == (2,) and dup[0].relevant == (True,)


def test_gold_judge_uses_the_shown_quote_spans() -> None:
    judge = gold_judge({1: ("a", 0, 40), 2: ("b", 100, 140)}, [("a", 30, 60)])
    assert judge(0, frozenset({1}))
    assert not judge(0, frozenset({2}))
    assert judge(0, frozenset({1, 2}))
    assert not judge(0, frozenset({9}))  # a citation with no shown quote supports nothing
    # a sentence's own quote in a passage is what its citation opens
    own = gold_judge({1: ("a", 0, 20)}, [("a", 30, 60)], [{1: ("a", 35, 50)}, {}])
    assert own(0, frozenset({1})) and not own(1, frozenset({1}))


def test_percentile_interpolates_like_numpy() -> None:
    vs = [10.0, 20.0, 30.0, 40.0]
    assert percentile(vs, 50) == 25.0
    assert percentile(vs, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert mean([1.0, None, 3.0]) == 2.0 and mean([None]) is None


# ----------------------------------------------------------------------------- question files


def test_find_span_normalises_space_quotes_and_entities() -> None:
    raw = "He said:\n“It&#39;s   a\nmiracle,” & # 39;Iraq& # 39; — done"
    start, end = find_span(raw, '"It\'s a miracle,"')  # type: ignore[misc]
    assert raw[start:end] == "“It&#39;s   a\nmiracle,”"
    s2 = find_span(raw, "'iraq' - done")
    assert s2 is not None and raw[s2[0] : s2[1]] == "& # 39;Iraq& # 39; — done"
    assert find_span(raw, "not there") is None


def _write(tmp: Path, body: str) -> Path:
    (tmp / "arts").mkdir(exist_ok=True)
    (tmp / "arts" / "doc1.txt").write_text("Title\n\nThe army said six soldiers died on Monday.\n")
    (tmp / "arts" / "doc2.txt").write_text("Other\n\nThe militia wants the troops to go home.\n")
    p = tmp / "q.yaml"
    p.write_text("corpus: [arts]\nquestions:\n" + body)
    return p


GOOD = """
  - id: ok-1
    kind: fact
    question: How many died?
    evidence: [{doc: doc1, quote: "six  soldiers died"}]
    key_facts: [[six, "6"]]
"""


def test_loader_accepts_a_good_file_and_locates_spans(tmp_path: Path) -> None:
    qs = load_questions(_write(tmp_path, GOOD))
    (q,) = qs.questions
    assert q.docs == ("doc1",) and q.key_facts == (("six", "6"),)
    g = q.evidence[0]
    assert qs.documents["doc1"][g.start : g.end] == "six soldiers died"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD.replace("six  soldiers died", "seven soldiers died"), "'ok-1': quote not found in doc1"),
        (GOOD.replace("doc: doc1", "doc: doc9"), "'ok-1': unknown document id 'doc9'"),
        (GOOD.replace("kind: fact", "kind: trivia"), "'ok-1': unknown kind 'trivia'"),
        (GOOD.replace("key_facts", "keyfacts"), "'ok-1': unknown field(s) keyfacts"),
        (GOOD.replace("kind: fact", "kind: follow_up"), "'ok-1': a follow_up needs `history`"),
        (GOOD.replace("kind: fact", "kind: injection"), "'ok-1': an injection question needs `forbidden`"),
        (GOOD.replace("kind: fact", "kind: conflict"), "'ok-1': a conflict needs a `side`"),
        (GOOD.replace("kind: fact", "kind: unanswerable"), "'ok-1': an unanswerable question has no gold"),
        (GOOD + GOOD, "'ok-1': duplicate id"),
    ],
)
def test_loader_errors_name_the_question(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(QuestionFileError) as e:
        load_questions(_write(tmp_path, body))
    assert message in str(e.value)


def test_loader_uses_given_documents_without_a_corpus(tmp_path: Path) -> None:
    p = tmp_path / "q.json"
    p.write_text(
        '{"questions": [{"id": "j1", "kind": "fact", "question": "Who?", '
        '"evidence": [{"doc": "d", "quote": "Ameri"}], "key_facts": ["Ameri"]}]}'
    )
    qs = load_questions(p, {"d": "Hadi al-Ameri leads Badr."})
    assert qs.questions[0].evidence[0].start == 8 and not qs.corpus
    with pytest.raises(QuestionFileError, match="unknown document id 'd'"):
        load_questions(p, {})


def test_the_committed_question_set_is_valid_and_complete() -> None:
    from eval.questions import KINDS

    qs = load_questions(Path(__file__).resolve().parent.parent / "eval" / "questions.yaml")
    assert len(qs) >= 40
    assert {q.kind for q in qs.questions} == set(KINDS)
    seeds = {d for d in qs.documents if d != "injection_article"}
    assert seeds == {d for q in qs.questions for d in q.docs} - {"injection_article"}  # every article
    assert sum(q.kind == "conflict" for q in qs.questions) >= 3

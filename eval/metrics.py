"""Evaluation metrics: pure functions of plain data (ids, offsets, texts, booleans). No I/O, no engine.

Definitions (also in docs/eval/README.md):

- Retrieval, per question with gold documents, over the top `k` passages in rank order:
  `doc_hit` 1 if a passage comes from a gold document; `doc_recall` share of the gold documents
  retrieved; `span_recall` share of the gold evidence spans overlapped by a passage of the same
  document (raw `[start, end)` offsets; any overlap counts); `span_hit` 1 if any is; `rr` the
  reciprocal rank of the first gold document among the distinct retrieved documents in rank
  order (0 if none) — averaged, MRR. These are llama-index's `HitRate` and `MRR` on nodes whose
  id is the document id (its retrievers drop repeated node ids: ranks count documents).
- Key-fact recall: share of the key facts the answer states (any alternative, case-insensitive,
  on word boundaries, after normalisation); 0 for an abstention.
- Abstention: precision and recall of `abstained` against "the question is unanswerable".
- Both sides (conflict questions): see `both_sides`.
- Injection resistance: none of the forbidden strings appears in the text.
- Citations, ALCE (Gao et al. 2023, "Enabling Large Language Models to Generate Text with
  Citations"): see `judge_statements` and `citation_scores`; the support judge is a parameter.
- Latency: `percentile` with linear interpolation (numpy's default).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from eval.questions import normalise

Span = tuple[str, int, int]  # doc id, raw start, raw end


def overlaps(a: Span, b: Span) -> bool:
    """Same document and the `[start, end)` ranges share at least one character."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    vs = [v for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


# ----------------------------------------------------------------------------- retrieval


@dataclass(frozen=True)
class RetrievalScores:
    doc_hit: float
    doc_recall: float
    span_hit: float | None  # None when the question has no gold spans
    span_recall: float | None
    rr: float


def retrieval_scores(
    retrieved: Sequence[Span], gold_docs: Collection[str], gold_spans: Sequence[Span], k: int
) -> RetrievalScores:
    """Scores of one ranked list of passages (best first) against the gold, at cut-off `k`."""
    if not gold_docs:
        raise ValueError("retrieval scores need at least one gold document")
    if k < 1:
        raise ValueError("k must be at least 1")
    top = list(retrieved[:k])
    docs = [d for d, _, _ in top]
    gold = set(gold_docs)
    found = [any(overlaps(p, g) for p in top) for g in gold_spans]
    distinct = list(dict.fromkeys(docs))  # a document ranks where it first appears
    rr = next((1.0 / i for i, d in enumerate(distinct, start=1) if d in gold), 0.0)
    return RetrievalScores(
        doc_hit=float(any(d in gold for d in docs)),
        doc_recall=len(set(docs) & gold) / len(gold),
        span_hit=float(any(found)) if found else None,
        span_recall=sum(found) / len(found) if found else None,
        rr=rr,
    )


# ----------------------------------------------------------------------------- answers

_CITATION_MARK = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def answer_text(text: str) -> str:
    """An answer normalised for matching: no `[n]` markers, no thousands separators, lower case."""
    return normalise(_THOUSANDS.sub("", _CITATION_MARK.sub(" ", text)))


def states(text: str, alternatives: Iterable[str]) -> bool:
    """Whether the (normalised) answer states any of the alternatives, on word boundaries."""
    hay = answer_text(text)
    for alt in alternatives:
        needle = answer_text(alt)
        if needle and re.search(rf"(?<![0-9a-z]){re.escape(needle)}(?![0-9a-z])", hay):
            return True
    return False


def key_fact_recall(text: str, key_facts: Sequence[Sequence[str]], abstained: bool = False) -> float:
    """Share of the key facts stated (each fact: alternatives, any one suffices); 0 if abstained."""
    if not key_facts:
        raise ValueError("no key facts to recall")
    if abstained:
        return 0.0
    return sum(states(text, alts) for alts in key_facts) / len(key_facts)


@dataclass(frozen=True)
class Abstention:
    precision: float | None  # None when nothing was abstained on
    recall: float | None  # None when no question was unanswerable
    true_positives: int
    false_positives: int
    false_negatives: int


def abstention(decisions: Iterable[tuple[bool, bool]]) -> Abstention:
    """Precision and recall of abstaining; `decisions` are (should abstain, did abstain) pairs."""
    tp = fp = fn = 0
    for should, did in decisions:
        tp += should and did
        fp += did and not should
        fn += should and not did
    return Abstention(
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / (tp + fn) if tp + fn else None,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def injection_resisted(text: str, forbidden: Iterable[str]) -> bool:
    """True when none of the forbidden strings appears in the text (case-insensitive)."""
    hay = normalise(text)
    return not any(normalise(f) and normalise(f) in hay for f in forbidden)


@dataclass(frozen=True)
class BothSides:
    stated: bool  # the answer reports a conflict with every gold side on a side of its own
    cited: bool  # every gold side has a supported citation of one of its documents
    both: bool  # stated and cited: the both-sides score


def both_sides(
    gold_sides: Mapping[str, Collection[str]],
    conflicts: Sequence[Sequence[tuple[str, Collection[str]]]],
    cited_docs: Collection[str],
) -> BothSides:
    """Does the answer give each side of a contested question, and cite it?

    `gold_sides`: position → its gold documents. `conflicts`: the answer's conflicts, each a list
    of its sides as (position, document ids). `cited_docs`: documents of the answer's supported
    citations.

    *Stated*: some conflict of the answer admits a one-to-one assignment of gold sides to its
    sides such that each gold side shares a document with its assigned side; when a gold
    position has the same name as a side of that conflict (case-insensitive), it must be
    assigned to that side — so a swapped verdict fails. *Cited*: each gold side has a document
    among `cited_docs`. The score is 1 when both hold.
    """
    if len(gold_sides) < 2:
        raise ValueError("a conflict needs two gold sides at least")
    gold = [(pos.casefold(), set(docs)) for pos, docs in gold_sides.items()]
    cited = set(cited_docs)
    cited_ok = all(docs & cited for _, docs in gold)
    stated = False
    for conflict in conflicts:
        sides = [(pos.casefold(), set(docs)) for pos, docs in conflict]
        if len(sides) < len(gold):
            continue
        for chosen in itertools.permutations(range(len(sides)), len(gold)):
            if all(
                docs & sides[j][1] and (pos == sides[j][0] or pos not in {p for p, _ in sides})
                for (pos, docs), j in zip(gold, chosen, strict=True)
            ):
                stated = True
                break
        if stated:
            break
    return BothSides(stated=stated, cited=cited_ok, both=stated and cited_ok)


# ----------------------------------------------------------------------------- citations (ALCE)

# judge(statement index, cited passage numbers) -> do those passages support that statement?
Judge = Callable[[int, frozenset[int]], bool]


@dataclass(frozen=True)
class StatementJudgement:
    """One answer sentence: what it cites, whether all of it supports it, and per citation whether
    it is relevant (ALCE precision)."""

    citations: tuple[int, ...]
    supported: bool
    relevant: tuple[bool, ...]


def judge_statements(statements: Sequence[Sequence[int]], judge: Judge) -> list[StatementJudgement]:
    """ALCE's per-sentence judgements.

    A sentence is supported (recall) when its citations together support it; one without
    citations is not. A citation is relevant (precision) when its sentence is supported and either
    it supports the sentence alone or the other citations without it do not (it is needed);
    a single citation is relevant exactly when its sentence is supported.
    """
    out = []
    for i, cites in enumerate(statements):
        ns = tuple(dict.fromkeys(cites))
        supported = bool(ns) and judge(i, frozenset(ns))
        if not supported:
            relevant = tuple(False for _ in ns)
        elif len(ns) == 1:
            relevant = (True,)
        else:
            relevant = tuple(judge(i, frozenset({n})) or not judge(i, frozenset(ns) - {n}) for n in ns)
        out.append(StatementJudgement(ns, supported, relevant))
    return out


@dataclass(frozen=True)
class CitationScores:
    recall: float | None  # share of sentences supported by their citations (None: no sentences)
    precision: float | None  # share of citations that are relevant (0 when no citations)
    statements: int
    citations: int


def citation_scores(judgements: Sequence[StatementJudgement]) -> CitationScores:
    """ALCE citation recall and precision of one answer from its sentence judgements."""
    n_cites = sum(len(j.citations) for j in judgements)
    if not judgements:
        return CitationScores(None, None, 0, 0)
    return CitationScores(
        recall=sum(j.supported for j in judgements) / len(judgements),
        precision=sum(sum(j.relevant) for j in judgements) / n_cites if n_cites else 0.0,
        statements=len(judgements),
        citations=n_cites,
    )


def gold_judge(
    cited_spans: Mapping[int, Span], gold_spans: Sequence[Span], own: Sequence[Mapping[int, Span]] = ()
) -> Judge:
    """Support by gold evidence: cited passages support a sentence when the quote shown for at
    least one of them overlaps a gold evidence span: the sentence's own quote in that passage
    (`own`, per sentence, by passage number: what its citation opens), else the answer's quote
    for the passage (`cited_spans`). A proxy: it looks at what is cited, not at what the sentence
    says."""

    def judge(i: int, ns: frozenset[int]) -> bool:
        spans = {**cited_spans, **(own[i] if i < len(own) else {})}
        return any(n in spans and any(overlaps(spans[n], g) for g in gold_spans) for n in ns)

    return judge


# ----------------------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between order statistics."""
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    vs = sorted(v for v in values if v is not None and not math.isnan(v))
    if not vs:
        return None
    pos = (len(vs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return vs[lo] + (vs[hi] - vs[lo]) * (pos - lo)


def latency_summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """p50 and p95 of the values present, and how many there were."""
    vs = [v for v in values if v is not None]
    return {"p50": percentile(vs, 50), "p95": percentile(vs, 95), "n": len(vs)}

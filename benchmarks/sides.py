"""Which side a sentence takes on a yes/no question: the packaged 1.5B model as a classifier
against the lexical rule (`rag.matching.claim_stance`); writes docs/benchmarks/sides.md.

The last two rows run the reader the product ships (`rag.answer.says_yes`, greedy under a
grammar) alone and combined the way `rag.evidence.detect_conflicts` uses it.

The cases are sentences of seeds/ paired with contested questions of the development set's kind
(never the held-out set), each labelled by hand: yes, no, or "-" (it does not answer). The model
reads one sentence and the question and is scored on its next-token probabilities for
Yes/No/Neither (upper and lower case summed), so no decoding choice hides what it prefers; three
prompt wordings. The lexical rule is run with unit term weights (in the product it weighs terms by
their rarity in the index, which only makes it stricter).

Run: `.venv/bin/python benchmarks/sides.py` (about a minute on 2 cores; needs the packaged GGUF,
assembled by `make run` or the first local answer).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.backends import local_model  # noqa: E402
from rag.matching import claim_stance  # noqa: E402
from rag.settings import Settings  # noqa: E402

NEED = "Do Iraq's Shiite militia fighters say they need America's help against the Islamic State?"
STAY = "Did the leaders of the Iran-backed militias want US troops to stay in Iraq?"
SUPPORT = "Has the United States supported the Shiite militias fighting the Islamic State?"
ACCUSE = "Are militia leaders still accusing the US of helping the Islamic State?"
ARMY = "Are the Shiite volunteer militias part of Iraq's official army?"
MOSUL = "Is Washington assisting the offensive to retake Mosul?"
CASES: tuple[tuple[str, str, str], ...] = (
    (STAY, "He had a startling message: he and other former Shiites wanted the Americans to stay.", "yes"),
    (STAY, "Iraqi media outlets have reported numerous calls from the militias for the U.S. to leave.", "no"),
    (
        STAY,
        "Like many of Iraq's Kurds, Col. Barzanji thinks the U.S. military should stay in the country.",
        "-",
    ),
    (STAY, "Leaders of the Popular Mobilization Forces (PMF) met in Baghdad this week.", "-"),
    (NEED, "'We do not need America's support,' one fighter says.", "no"),
    (NEED, "Now we need their help, we can not turn our country into a playground for other powers.", "yes"),
    (NEED, "Members of the PMF are also said to be spreading conspiracy theories.", "-"),
    (
        SUPPORT,
        "U.S.-led forces in Iraq have started arming and training hundreds of fighters of Shiite militias.",
        "yes",
    ),
    (
        SUPPORT,
        "The United States Air Force refused to provide air cover for the group during the battle.",
        "no",
    ),
    (
        SUPPORT,
        "The senior leadership of the Shiite forces includes individuals deemed terrorists by the US.",
        "-",
    ),
    (ACCUSE, "They had even accused the US of aiding the Islamic State, or IS, group.", "yes"),
    (ACCUSE, "The militias have stopped criticising the US' role through their various media outlets.", "no"),
    (ARMY, "The PMF is now officially affiliated with the Iraqi army.", "yes"),
    (ARMY, "The militias are mostly made up of volunteers and not part of the official Iraqi army.", "no"),
    (ARMY, "The PMF is a collection of Shiite volunteer militias backed by Iran.", "-"),
    (MOSUL, "Iraq is set to launch an offensive to retake Mosul without the assistance of Washington.", "no"),
    (MOSUL, "Mosul is Iraq's second-largest city, with more than a million people.", "-"),
)
SYSTEM = "You check what a sentence from a news article says about a yes/no question."
PROMPTS = {
    "a": "Question: {q}\nSentence: {s}\n"
    "Does the sentence answer the question with yes or no? Write yes, no or neither.",
    "b": "Sentence: {s}\nQuestion: {q}\nAccording to this sentence only, what is the answer? "
    "Write yes, no, or neither if the sentence does not say.",
    "c": "Sentence from a news article: {s}\n\nQuestion: {q}\n\nDoes this sentence say yes, say no, or not "
    "answer the question? Reply with one word: Yes, No or Neither.",
}
LABELS = {"yes": "yes", "no": "no", "neither": "-"}


def model_labels(path: Path, wording: str) -> tuple[list[str], float]:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=1024, verbose=False)
    ids = {w: [llm.tokenize(v.encode(), add_bos=False)[0] for v in (w, w.capitalize())] for w in LABELS}
    out, t0 = [], time.perf_counter()
    for q, s, _ in CASES:
        user = PROMPTS[wording].format(q=q, s=s)
        prompt = (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
        )
        llm.reset()
        llm.eval(llm.tokenize(prompt.encode(), add_bos=False, special=True))
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(llm.ctx), shape=(llm.n_vocab(),)).copy()
        logp = logits - np.logaddexp.reduce(logits)
        score = {w: float(np.logaddexp(logp[a], logp[b])) for w, (a, b) in ids.items()}
        out.append(LABELS[max(score, key=score.__getitem__)])
    return out, (time.perf_counter() - t0) / len(CASES)


def product_labels(settings: Settings) -> tuple[list[str], list[str], float]:
    """The reader the product uses (`rag.answer.says_yes`: the answer prompt's prefix, sentence
    first, a yes/no/neither grammar) alone, and combined as `detect_conflicts` combines it: "no"
    from the lexical rule's denials, "yes" from the reader on the rest."""
    from rag.answer import says_yes
    from rag.backends import llm as make_llm

    reader = make_llm(settings, "local")
    assert reader is not None
    alone, combined, t0 = [], [], time.perf_counter()
    for q, s, _ in CASES:
        yes = says_yes(reader, q, s)
        alone.append("yes" if yes else "-")
        combined.append("no" if claim_stance(q, s) == -1 else "yes" if yes else "-")
    return alone, combined, (time.perf_counter() - t0) / len(CASES)


def right(labels: list[str], only: str | None = None) -> int:
    gold = [g for _, _, g in CASES]
    return sum(a == b for a, b in zip(labels, gold, strict=True) if only is None or b == only)


def table(name: str, labels: list[str], per_case_s: float | None) -> str:
    gold = [g for _, _, g in CASES]
    right = sum(a == b for a, b in zip(labels, gold, strict=True))
    by = {g: sum(a == b for a, b in zip(labels, gold, strict=True) if b == g) for g in ("yes", "no", "-")}
    n = {g: gold.count(g) for g in ("yes", "no", "-")}
    secs = f"{per_case_s:.1f}" if per_case_s is not None else "< 0.001"
    return (
        f"| {name} | {right}/{len(CASES)} | {by['yes']}/{n['yes']} | {by['no']}/{n['no']} | "
        f"{by['-']}/{n['-']} | {secs} |"
    )


def main() -> None:
    settings = Settings(data_dir=Path(os.environ.get("RAG_DATA_DIR", ROOT / "data")))
    path = local_model(settings)
    lexical = [{1: "yes", -1: "no", 0: "-"}[claim_stance(q, s)] for q, s, _ in CASES]
    rows = [table("lexical rule (`claim_stance`)", lexical, None)]
    best_model = (0, 0)  # (right, right on "no")
    for wording in PROMPTS:
        labels, secs = model_labels(path, wording)
        rows.append(table(f"Qwen2.5-Coder-1.5B, wording {wording}", labels, secs))
        best_model = max(best_model, (right(labels), right(labels, "no")))
    alone, combined, secs = product_labels(settings)
    rows.append(table("the product's reader (`says_yes`; yes or not)", alone, secs))
    rows.append(table("lexical denials + the product's reader for yes", combined, secs))
    verdict = (
        f"Best model wording: {best_model[0]}/{len(CASES)} right, {best_model[1]} of the denials; "
        f"the lexical rule: {right(lexical)}/{len(CASES)}, {right(lexical, 'no')} of the denials; "
        f"lexical denials with the reader for yes: {right(combined)}/{len(CASES)}, "
        f"{right(combined, 'yes')} of the yeses, {right(combined, '-')} of the sentences that do not "
        "answer. The product takes the "
        "no side from the lexical rule always, and the yes side from the reader with the local "
        "backend (the lexical rule without a model)."
    )
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# Sides: the 1.5B model as a classifier against the lexical rule",
            "",
            "Written by `benchmarks/sides.py` (see its docstring for the method and the cases). "
            f"2-core VM, load average {load:.1f} at the end.",
            "",
            "| judge | right | yes | no | does not answer | s per sentence |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            verdict,
            "",
            "Prompt wordings:",
            "",
            *[f"- {k}: `{v.format(q='<question>', s='<sentence>')!r}`" for k, v in PROMPTS.items()],
            "",
        ]
    )
    out = ROOT / "docs" / "benchmarks" / "sides.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

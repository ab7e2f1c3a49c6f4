"""The answer pipeline end to end on the seeds, with the real embedding model and a scripted LLM."""

from __future__ import annotations

from rag.answer import Conversation
from rag.errors import BackendUnavailable
from rag.types import Answer, AnswerEvent, PassagesEvent, TokenEvent
from rag.wiring import Engine
from tests.conftest import SEEDS
from tests.fakes import ScriptedLLM

PMF = "did PMF leaders want US troops to stay?"


def _cited(answer: Answer, seed: str) -> int:
    """The citation number `answer` gives the seed article whose file name starts with `seed`."""
    return next(c.n for c in answer.citations if c.doc_id.startswith(seed))


def _raw(doc_id: str) -> str:
    return (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")


def test_extractive_pmf_answer_shows_both_sides_with_exact_spans(real_engine: Engine) -> None:
    a = real_engine.ask(PMF, backend="extractive")
    assert not a.abstained and a.backend == "extractive"
    assert a.answer.startswith("The sources disagree.")
    cited_docs = {c.doc_id[:3] for c in a.citations}
    assert {"001", "002"} <= cited_docs
    assert a.conflicts and {s.position for s in a.conflicts[0].sides} == {"stay", "leave"}
    for c in a.citations:
        assert c.supported
        assert _raw(c.doc_id)[c.start : c.end] == c.quote  # the span is the quote, letter for letter
    assert "wanted the Americans to stay" in a.answer
    assert "expel U.S. forces" in a.answer or "go home" in a.answer
    assert {e.doc_id[:3] for e in a.evidence} >= {"001", "002"}


def test_events_come_in_order(real_engine: Engine) -> None:
    events = list(real_engine.ask_stream(PMF, backend="extractive"))
    assert isinstance(events[0], PassagesEvent) and events[0].passages
    assert isinstance(events[-1], AnswerEvent)
    assert any(isinstance(e, TokenEvent) for e in events[1:-1])


def test_scripted_answer_is_verified_sentence_by_sentence(real_engine: Engine, scripted: ScriptedLLM) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    stay = _cited(first, "001")
    leave = next(p.n for p in first.passages if p.doc_id.startswith("002") and "quest to expel" in p.text)
    scripted.enqueue(
        f"Yes, PMF leaders wanted US troops to stay in the country [{leave}]. "
        f"Former Shiites wanted the Americans to stay [{stay}]. "
        f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}]. "
        "They also received 300 tanks from China [9]."
    )
    a = real_engine.ask(PMF, backend="scripted")
    assert a.backend == "scripted" and not a.abstained
    supported = [c.text for c in a.claims if c.supported]
    unsupported = {c.text: c.problems for c in a.claims if not c.supported}
    verdict = "PMF leaders wanted US troops to stay in the country."  # the measured failure, less "Yes,"
    assert verdict in unsupported
    assert any("opposite side" in p for p in unsupported[verdict])
    assert "They also received 300 tanks from China." in unsupported
    assert "Yes, PMF leaders" not in a.answer and "China" not in a.answer
    assert any("Former Shiites" in s for s in supported) and any("expel" in s for s in supported)
    assert any("removed" in n for n in a.notes)
    # The prompt carried numbered passages with outlet and date, and the worked examples.
    prompt = scripted.prompts[-1]
    assert "I don't know." in [m.content for m in prompt]
    assert "Washington Times, 2020-01-03:" in (prompt[-1].content or "")


def test_one_sided_model_answer_gets_the_other_side_added(real_engine: Engine, scripted: ScriptedLLM) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    leave = _cited(first, "002")
    scripted.enqueue(f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}].")
    a = real_engine.ask(PMF, backend="scripted")
    assert a.answer.startswith("The sources disagree.")
    assert {c.doc_id[:3] for c in a.citations if c.supported} >= {"001", "002"}


def test_on_a_dispute_the_model_s_restated_claim_gives_way_to_the_sources(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    stay = _cited(first, "001")
    # a verdict in the question's own words, true of one source: not how a dispute is shown
    scripted.enqueue(f"PMF leaders wanted US troops to stay [{stay}].")
    a = real_engine.ask(PMF, backend="scripted")
    assert "PMF leaders wanted US troops to stay [" not in a.answer, a.answer
    assert a.answer.startswith("The sources disagree.")
    assert {c.doc_id[:3] for c in a.citations if c.supported} >= {"001", "002"}  # each side quoted


def test_the_summary_and_the_model_do_not_both_say_the_sources_disagree(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    leave = _cited(first, "002")
    scripted.enqueue(
        "The sources disagree. "
        f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}]."
    )
    a = real_engine.ask(PMF, backend="scripted")
    assert a.answer.count("The sources disagree.") == 1, a.answer


def test_a_copied_the_sources_disagree_is_dropped_when_nothing_conflicts(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = "Who is Hadi al-Ameri?"
    first = real_engine.ask(q, backend="extractive")
    assert not first.conflicts
    n = _cited(first, "003")
    scripted.enqueue(f"The sources disagree. Hadi Ameri is the head of the Badr Organization [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith(f"Hadi Ameri is the head of the Badr Organization [{n}].")
    assert "The sources disagree" not in a.answer, a.answer
    assert "\nQuestion: Who is Hadi al-Ameri?\nAnswer in one to three sentences." in str(
        scripted.prompts[-1][-1].content
    )


def test_a_model_that_does_not_know_gives_way_to_the_quotes(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    # Grounding found sentences on it (or it would have abstained): a 1.5B model's "I don't know"
    # is not trusted over them.
    scripted.enqueue("I don't know.")
    a = real_engine.ask("Who commands the Badr Organization?", backend="scripted")
    assert not a.abstained and "reports: “" in a.answer
    assert all(c.supported for c in a.citations)
    assert any("found no answer" in n for n in a.notes)


def test_unanswerable_questions_abstain_without_calling_the_model(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    for q in ("What is the capital of France?", "How many US soldiers died in Iraq in 2019?"):
        a = real_engine.ask(q, backend="scripted")
        assert a.abstained, q
        assert a.passages and not a.citations
    assert scripted.prompts == []


def test_backend_failure_falls_back_to_extractive(real_engine: Engine, scripted: ScriptedLLM) -> None:
    scripted.enqueue(BackendUnavailable("cannot reach the OpenAI-compatible server at http://127.0.0.1:9"))
    a = real_engine.ask(PMF, backend="scripted")
    assert a.backend == "extractive (fallback)"
    assert "cannot reach" in a.notes[0]
    assert a.citations and all(c.supported for c in a.citations)


def test_injected_instruction_in_a_reply_is_not_shown(real_engine: Engine, scripted: ScriptedLLM) -> None:
    scripted.enqueue("PWNED")
    a = real_engine.ask(PMF, backend="scripted")
    assert "PWNED" not in a.answer
    assert a.citations and all(c.supported for c in a.citations)


def test_follow_up_keeps_citation_numbers_stable(real_engine: Engine) -> None:
    conv = Conversation()
    first = real_engine.ask(
        "What did the PMF militias say about US forces?", backend="extractive", conversation=conv
    )
    conv.turns.append(first)
    second = real_engine.ask("Did they want them to stay?", backend="extractive", conversation=conv)
    assert "follow-up to" in second.standalone_question
    before = {p.chunk_id: p.n for p in first.passages}
    for p in second.passages:
        if p.chunk_id in before:
            assert p.n == before[p.chunk_id]
        else:
            assert p.n > max(before.values())
    assert len({p.n for p in second.passages}) == len(second.passages)


def test_filters_apply_to_answers(real_engine: Engine) -> None:
    from rag.types import Filters

    a = real_engine.ask(PMF, backend="extractive", filters=Filters(outlet="NJ Times"))
    assert {p.doc_id[:3] for p in a.passages} == {"001"}
    assert not a.conflicts


def test_only_verified_sentences_are_streamed(real_engine: Engine, scripted: ScriptedLLM) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    leave = _cited(first, "002")
    stay = _cited(first, "001")
    scripted.enqueue(
        f"PWNED: the PMF wants US troops to stay [{leave}]. "
        f"Former Shiites wanted the Americans to stay [{stay}]. "
        f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}]."
    )
    events = list(real_engine.ask_stream(PMF, backend="scripted"))
    streamed = "".join(e.text for e in events if isinstance(e, TokenEvent))
    final = events[-1]
    assert isinstance(final, AnswerEvent)
    assert "PWNED" not in streamed
    assert streamed == final.answer.answer  # what was streamed is the answer, sentence for sentence
    tokens = [e.text.strip() for e in events if isinstance(e, TokenEvent)]
    assert tokens[0].startswith("The sources disagree. ")  # said with the first verified sentence
    assert all(t in final.answer.answer for t in tokens)
    assert any("Former Shiites" in t for t in tokens) and any("expel" in t for t in tokens)


def test_the_evaluation_tells_a_model_s_answer_from_the_quote_fallback(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    from eval.runner import keeps_generated

    first = real_engine.ask(PMF, backend="extractive")
    assert keeps_generated(first) is None  # the extractive backend writes nothing
    leave = _cited(first, "002")
    scripted.enqueue(f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}].")
    assert keeps_generated(real_engine.ask(PMF, backend="scripted")) is True
    scripted.enqueue("They also received 300 tanks from China [9].")  # nothing verifiable: quotes instead
    assert keeps_generated(real_engine.ask(PMF, backend="scripted")) is False


def test_a_count_the_model_left_out_is_quoted_after_it(real_engine: Engine, scripted: ScriptedLLM) -> None:
    q = "How many people were killed when Islamic State militants attacked the PMF convoy near Makhmour?"
    first = real_engine.ask(q, backend="extractive")
    assert "Six died" in first.answer
    n = _cited(first, "002")
    # true, no count
    scripted.enqueue(f"Islamic State militants attacked their convoy on its way from Mosul to Kirkuk [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith("Islamic State militants attacked their convoy on its way")
    assert "Six died" in a.answer and all(c.supported for c in a.claims)
    scripted.enqueue(f"Six died and 31 people were injured [{n}].")  # the count itself: nothing added
    assert real_engine.ask(q, backend="scripted").answer == f"Six died and 31 people were injured [{n}]."


def test_the_sentence_grounding_ranked_first_is_quoted_when_the_model_left_it_out(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = "What did Michael Pregent serve as in the Army before he became an Iraq expert?"
    first = real_engine.ask(q, backend="extractive")
    assert "paratrooper" in first.answer, first.answer
    n = _cited(first, "003")
    # true, from another sentence of the passage: the one that answers is quoted after it
    said = "Hadi Ameri is the head of the Badr Organization"
    scripted.enqueue(f"{said} [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith(said) and "paratrooper" in a.answer, a.answer
    assert all(c.supported for c in a.claims) and len(a.claims) == 2, a.answer
    # the model resting on that sentence: nothing added (it would repeat the model)
    said = "Michael Pregent is a former Army paratrooper who served in Iraq"
    scripted.enqueue(f"{said} [{n}].")
    assert real_engine.ask(q, backend="scripted").answer == f"{said} [{n}]."
    # a question whose kind the model's answer holds (a year): nothing added either
    q = "In what year were the PMF militias formed to fight the Islamic State?"
    n = _cited(real_engine.ask(q, backend="extractive"), "002")
    scripted.enqueue(f"The PMF militias formed in 2014 [{n}].")
    assert real_engine.ask(q, backend="scripted").answer == f"The PMF militias formed in 2014 [{n}]."


def test_a_model_sentence_that_only_repeats_the_question_does_not_stand_for_the_evidence(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = (
        "Did special forces begin training the recruits before or after the parliament passed the law "
        "legalizing the militias?"
    )
    first = real_engine.ask(q, backend="extractive")
    assert "Dec. 4" in first.answer, first.answer
    n = _cited(first, "003")
    # true and resting on the sentence that answers, but it says nothing the question did not
    said = "The parliament passed the law legalizing the militias"
    scripted.enqueue(f"{said} [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith(said) and "Dec. 4" in a.answer, a.answer


def test_a_compound_question_gets_the_article_the_model_left_out(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = (
        "When did the PMF formally become part of the Iraqi national security forces, and what did "
        "the United States Air Force refuse to provide?"
    )
    first = real_engine.ask(q, backend="extractive")
    n = _cited(first, "002")
    other = {e.doc_id[:3] for e in first.evidence} - {"002"}
    assert other, first.evidence  # another article holds evidence
    said = "The PMF formally became part of the Iraqi national security forces in late 2016"
    scripted.enqueue(f"{said} [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith("The PMF formally became part of the Iraqi national security forces")
    assert all(c.supported for c in a.claims) and len(a.claims) == 2, a.answer
    # the best sentence of the next article the model did not cite is quoted after it
    assert {c.doc_id[:3] for c in a.citations if c.supported} == {"002", first.evidence[1].doc_id[:3]}
    # a question of one part is left as the model answered it
    q1 = "When did the PMF formally become part of the Iraqi national security forces?"
    n = _cited(real_engine.ask(q1, backend="extractive"), "002")
    said = "The PMF formally became part of the Iraqi national security forces in late 2016"
    scripted.enqueue(f"{said} [{n}].")
    assert real_engine.ask(q1, backend="scripted").answer.count("[") == 1


def test_a_model_sentence_that_only_restates_the_question_is_not_shown(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = "How many people were killed when Islamic State militants attacked the PMF convoy near Makhmour?"
    n = _cited(real_engine.ask(q, backend="extractive"), "002")
    # true and cited, but every word of it is the question's: it answers nothing
    scripted.enqueue(f"Islamic State militants attacked their convoy near Makhmour [{n}].")
    a = real_engine.ask(q, backend="scripted")
    assert "attacked their convoy near Makhmour [" not in a.answer and "Six died" in a.answer
    # a yes/no question is answered by restating it: verified as any sentence
    q2 = "Did Islamic State militants attack the PMF convoy near Makhmour?"
    scripted.enqueue(f"Islamic State militants attacked their convoy near Makhmour [{n}].")
    assert real_engine.ask(q2, backend="scripted").answer.startswith("Islamic State militants attacked")


def test_the_model_s_yes_or_no_is_not_shown() -> None:
    from rag.answer import without_verdict

    assert without_verdict("Yes, the group has never been supported by the U.S. [2].") == (
        "The group has never been supported by the U.S. [2]."
    )
    assert without_verdict("No. they left [1].") == "They left [1]."
    assert without_verdict("No one was hurt [1].") == "No one was hurt [1]."  # not a verdict


def test_the_model_s_verdict_on_whether_the_sources_agree_is_not_shown(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    from rag.answer import judges_sources

    assert judges_sources("The articles agree that the council paid them [1].")
    assert judges_sources("Both reports differ on the date [2].")
    assert not judges_sources("The reports say the council paid them [1].")  # an attribution
    assert not judges_sources("Articles of the law were amended [1].")
    q = "Do the articles agree on whether the PMF formed in 2014?"
    n = _cited(real_engine.ask(q, backend="extractive"), "002")
    said = f"The PMF militias formed in 2014 [{n}]."
    scripted.enqueue(f"The articles agree that the PMF militias formed in 2014 [{n}]. {said}")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith(said) and "agree" not in a.answer, a.answer


def test_a_question_with_sides_reads_a_few_more_passages(real_engine: Engine) -> None:
    from rag.answer import SIDE_PASSAGES

    contested = real_engine.ask(
        "Did the PMF leaders want American forces to leave Iraq?", backend="extractive", k=5
    )
    # k + SIDE_PASSAGES for the question, and at most SIDE_PASSAGES more for the question asked of
    # the other side ("… want American forces to stay in Iraq?")
    assert 5 + SIDE_PASSAGES < len(contested.passages) <= 5 + 2 * SIDE_PASSAGES
    sides = {s.position: s.citations for s in contested.conflicts[0].sides}
    assert min(sides["stay"]) > 5  # found only in the passages past k
    assert max(sides["stay"]) > 5 + SIDE_PASSAGES  # and in one only the other side's question found
    plain = real_engine.ask("Where is the unit of Captain Amir al-Saadi based?", backend="extractive", k=5)
    assert len(plain.passages) == 5
    # a question asking for a place is not asked of the other side: it asks for no side
    where = real_engine.ask(
        "Which country did Baghdad tell to withdraw its troops before the Mosul offensive?",
        backend="extractive",
        k=5,
    )
    assert len(where.passages) == 5 + SIDE_PASSAGES


def test_the_extractive_answer_shows_an_article_s_second_sentence_and_splits_at_each_quote() -> None:
    from rag.answer import compose_extractive
    from rag.citations import split_sentences
    from rag.types import Evidence, Quote

    first = Quote(1, "a", 0, 30, "“It's a miracle,” the captain said.")
    second = Quote(1, "a", 31, 80, "“Finally we got anti-tank weapons.")  # its quotation ends later
    other = Quote(2, "b", 0, 20, "The army got no heavy weapons.")
    evidence = [
        Evidence("a", "t", "Daily Planet", "2020-01-03", (1,), (first, second), 0.6),
        Evidence("b", "t", "Metro Herald", None, (2,), (other,), 0.5),
    ]
    text = compose_extractive(evidence, [], [])
    sentences = split_sentences(text)
    assert len(sentences) == 3
    assert "anti-tank" in sentences[1] and sentences[1].endswith("[1].")
    assert sentences[2].startswith("Metro Herald (undated) reports:")
    assert len(split_sentences(compose_extractive(evidence, [], [], limit=2))) == 2


def test_a_model_sentence_under_the_wrong_number_cites_the_passage_that_supports_it(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = "How many people were killed when Islamic State militants attacked the PMF convoy near Makhmour?"
    first = real_engine.ask(q, backend="extractive")
    right = _cited(first, "002")
    wrong = next(p.n for p in first.passages if p.n != right)
    scripted.enqueue(f"Six died and 31 people were injured [{wrong}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer == f"Six died and 31 people were injured [{right}]."
    assert any("wrong passage" in n for n in a.notes)
    scripted.enqueue(f"Six hundred died [{wrong}].")  # no passage says it: removed, not re-cited
    a = real_engine.ask(q, backend="scripted")
    assert "Six hundred" not in a.answer and any("removed" in n for n in a.notes)


def test_a_person_described_by_title_is_answered_of_the_one_named_with_it(real_engine: Engine) -> None:
    q = "Where is the Iraqi army captain who was promised US anti-tank weapons stationed with his unit?"
    assert "Habbaniyah" in real_engine.ask(q, backend="extractive").answer
    q = "What kind of weapons was the army captain finally getting?"
    assert "anti-tank" in real_engine.ask(q, backend="extractive").answer  # not "heavy weapons"


def test_a_quote_far_below_the_best_does_not_answer_which_member(
    real_engine: Engine, scripted: ScriptedLLM
) -> None:
    q = "Which NATO member did Baghdad tell to pull its troops out ahead of the Mosul offensive?"
    first = real_engine.ask(q, backend="extractive")
    assert first.answer.startswith("Anti-Media") and "Turkey" in first.answer
    colonel = next(p.n for p in first.passages if "Barzanji" in p.text)
    # a true sentence naming a person, from far down the ranking: the best sentence is quoted after it
    scripted.enqueue(f"The coalition bombed later that night, said Col. Srud Barzanji [{colonel}].")
    a = real_engine.ask(q, backend="scripted")
    assert a.answer.startswith("The coalition bombed later that night") and "Turkey" in a.answer

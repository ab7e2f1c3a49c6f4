"""Per-source evidence and conflict detection on hand-made scored sentences (no model)."""

from __future__ import annotations

import dataclasses

from rag.evidence import (
    CLAIM_AXIS,
    CONFIRM_MOST,
    ScoredQuote,
    about_subject,
    antecedent,
    axes,
    detect_conflicts,
    relevant,
    select_evidence,
    side_scores,
    someone_else,
)
from rag.matching import other_pole, stance_on
from rag.types import Passage, Quote

Q = "Did the militia leaders want the troops to stay?"


def _passage(n: int, doc: str, text: str) -> Passage:
    return Passage(n, doc, f"title {doc}", f"outlet {doc}", None, f"c{n}", 0, len(text), text, 1.0)


def _scored(n: int, doc: str, text: str, score: float) -> ScoredQuote:
    return ScoredQuote(Quote(n, doc, 0, len(text), text), score, score, score)


ON_TOPIC = _scored(1, "a", "Militia leaders met to discuss the future of the troops.", 0.60)
STAY = _scored(2, "b", "He said the militia leaders wanted the Americans to stay.", 0.50)
GO = _scored(3, "c", "The group is the loudest voice arguing it is time for the Americans to go home.", 0.38)
NEUTRAL = _scored(3, "c", "The group has members in the parliament.", 0.38)
PASSAGES = [_passage(1, "a", ON_TOPIC.quote.text), _passage(2, "b", STAY.quote.text)]
PASSAGES.append(_passage(3, "c", GO.quote.text + " " + NEUTRAL.quote.text))


def STAY_OR_LEAVE(text: str) -> int:
    return stance_on(text, "stay or leave")


def test_a_sentence_taking_a_side_needs_only_the_floor() -> None:
    cutoff = 0.75 * ON_TOPIC.score  # 0.45: the relative cutoff
    kept = relevant([ON_TOPIC, STAY, GO, NEUTRAL], [STAY_OR_LEAVE], cutoff, 0.3)
    assert kept == [ON_TOPIC, STAY, GO]  # NEUTRAL scores the same as GO but takes no side
    assert relevant([GO], [STAY_OR_LEAVE], cutoff, 0.4) == []  # below the floor too
    assert relevant([GO], [STAY_OR_LEAVE], cutoff, None) == []  # without a floor: the cutoff


def test_the_other_side_of_a_dispute_is_not_crowded_out() -> None:
    scored = [ON_TOPIC, STAY, GO, NEUTRAL]
    conflicts = detect_conflicts(Q, scored, min_score=0.45, side_min_score=0.3)
    assert len(conflicts) == 1
    sides = {s.position: s.doc_ids for s in conflicts[0].sides}
    assert sides == {"stay": ("b",), "leave": ("c",)}
    assert detect_conflicts(Q, scored, min_score=0.45) == []  # what the relative cutoff alone did

    evidence = select_evidence(Q, PASSAGES, scored, min_score=0.45, side_min_score=0.3)
    # "the militia leaders wanted the Americans to stay" answers the yes/no question outright
    assert [(e.doc_id, e.stance) for e in evidence] == [("b", 1), ("a", 0), ("c", -1)]


# A yes/no question on a predicate no opposite pair covers: its own claim is the axis.
BRIDGE_Q = "Did the council agree to repair the harbour bridge?"
DENIES = _scored(1, "a", "The council did not agree to repair the bridge, its chairman said.", 0.62)
AFFIRMS = _scored(2, "b", "A week later the council agreed to repair the bridge before winter.", 0.48)
TOPICAL = _scored(3, "c", "The council met on Monday to discuss the harbour and its bridge.", 0.55)


def test_a_yes_no_question_on_any_predicate_gets_both_sides() -> None:
    conflicts = detect_conflicts(BRIDGE_Q, [DENIES, TOPICAL, AFFIRMS], min_score=0.46, side_min_score=0.3)
    assert len(conflicts) == 1
    sides = {s.position: s.doc_ids for s in conflicts[0].sides}
    assert sides == {"yes": ("b",), "no": ("a",)}


def test_a_topical_sentence_is_not_the_other_side_of_a_denial() -> None:
    # TOPICAL shares the question's words ("council", "bridge") but not what DENIES denies ("agree").
    assert detect_conflicts(BRIDGE_Q, [DENIES, TOPICAL], min_score=0.46, side_min_score=0.3) == []


def test_the_claim_is_tried_only_when_no_opposite_pair_gives_a_conflict() -> None:
    conflicts = detect_conflicts(Q, [ON_TOPIC, STAY, GO], min_score=0.45, side_min_score=0.3)
    assert [c.axis for c in conflicts] == ["stay or leave"]


def test_a_named_someone_else_s_view_takes_no_side_on_what_a_group_wants() -> None:
    colonel = _scored(4, "d", "Like many farmers, Col. Ortega thinks the troops should stay.", 0.55)
    conflicts = detect_conflicts(Q, [ON_TOPIC, colonel, GO], min_score=0.45, side_min_score=0.3)
    assert conflicts == []  # the colonel is not the militia leaders the question asks about
    assert someone_else(Q, colonel.quote.text)
    assert not someone_else(Q, "The troops should stay, said Omar Aziz, a militia leader.")
    assert not someone_else(Q, "He said the leaders wanted the troops to stay.")  # a pronoun: unknown
    assert not someone_else("Did the troops stay?", colonel.quote.text)  # not a question of views


def test_a_sentence_holding_what_is_asked_for_comes_first() -> None:
    scene = _scored(1, "a", "The convoy was attacked near the city at night.", 0.70)
    count = ScoredQuote(Quote(2, "b", 0, 40, "Six died and 31 people were injured."), 0.35, 0.35, 0.35, True)
    passages = [_passage(1, "a", scene.quote.text), _passage(2, "b", count.quote.text)]
    evidence = select_evidence("How many died?", passages, [scene, count], min_score=0.5, side_min_score=0.3)
    assert [e.doc_id for e in evidence] == ["b", "a"]  # below the cutoff, but it answers


def test_a_name_far_below_the_best_sentence_does_not_put_its_article_first() -> None:
    q = "Which NATO member did the city tell to pull its troops out?"
    best = _scored(1, "a", "The city told Turkey to withdraw its troops before the offensive.", 0.50)
    name = ScoredQuote(Quote(2, "b", 0, 40, "Col. John Dorn, a spokesman, spoke."), 0.35, 0.35, 0.35, True)
    passages = [_passage(1, "a", best.quote.text), _passage(2, "b", name.quote.text)]
    evidence = select_evidence(q, passages, [best, name], min_score=0.3, side_min_score=0.3)
    assert [e.doc_id for e in evidence] == ["a", "b"]
    near = ScoredQuote(name.quote, 0.45, 0.45, 0.45, True)  # near the best: the name comes first
    evidence = select_evidence(q, passages, [best, near], min_score=0.3, side_min_score=0.3)
    assert [e.doc_id for e in evidence] == ["b", "a"]


def test_the_model_reads_statements_not_headlines_but_never_nothing() -> None:
    from rag.answer import Grounding, prompt_sources

    headline = _scored(1, "a", "Council Votes On The Old Bridge", 0.8)
    asking = _scored(1, "a", "Will the old bridge close?", 0.7)
    fact = _scored(2, "b", "The council voted 7 to 2 to close the old bridge.", 0.5)
    passages = (_passage(1, "a", "Council Votes On The Old Bridge"), _passage(2, "b", fact.quote.text))

    def grounding(scored: tuple[ScoredQuote, ...]) -> Grounding:
        return Grounding("q", "q", passages, scored, (), (), None, 0.0)

    read = prompt_sources(grounding((headline, asking, fact)), budget=1000)
    assert [(p.n, texts) for p, texts in read] == [(2, [fact.quote.text])]
    only_headlines = prompt_sources(grounding((headline,)), budget=1000)
    assert [(p.n, texts) for p, texts in only_headlines] == [(1, [headline.quote.text])]


def test_a_reader_finds_the_yes_side_in_other_words_but_only_against_a_denial() -> None:
    # It says yes in none of the question's words, so the lexical rule alone misses it.
    repairs = _scored(2, "b", "Crews began work on the old crossing in March.", 0.50)
    asked: list[str] = []

    def reader(question: str, sentence: str) -> bool:
        assert question == BRIDGE_Q
        asked.append(sentence)
        return sentence == repairs.quote.text

    found = detect_conflicts(BRIDGE_Q, [DENIES, repairs, TOPICAL], min_score=0.46, says_yes=reader)
    assert {s.position: s.doc_ids for s in found[0].sides} == {"yes": ("b",), "no": ("a",)}
    assert detect_conflicts(BRIDGE_Q, [DENIES, repairs, TOPICAL], min_score=0.46) == []  # no reader
    asked.clear()  # no denial: nothing to answer, and the reader is never asked
    assert detect_conflicts(BRIDGE_Q, [repairs, TOPICAL], min_score=0.46, says_yes=reader) == []
    assert asked == []


def test_the_reader_is_asked_about_a_few_sentences_at_most() -> None:
    painted = [f"The old bridge was painted in spring number {i}." for i in range(CONFIRM_MOST + 3)]
    others = [_scored(2, "b", text, 0.5) for text in painted]
    asked: list[str] = []
    detect_conflicts(
        BRIDGE_Q, [DENIES, *others], min_score=0.46, says_yes=lambda q, s: asked.append(s) or False
    )
    assert len(asked) == CONFIRM_MOST


def test_a_pronoun_brings_the_sentence_it_refers_to() -> None:
    q = "Which cabinet member once commanded a militia?"
    name = ScoredQuote(
        Quote(1, "a", 0, 44, "Interior Minister Qassim Araji has a history."), 0.2, 0.2, 0.2, True
    )
    his = _scored(1, "a", "As a former militia commander, his loyalties are in question.", 0.6)
    his = ScoredQuote(Quote(1, "a", 45, 106, his.quote.text), 0.6, 0.6, 0.6)
    passages = [_passage(1, "a", name.quote.text + " " + his.quote.text)]
    evidence = select_evidence(q, passages, [his, name], min_score=0.5, side_min_score=0.3)
    assert [q.text for q in evidence[0].quotes] == [name.quote.text, his.quote.text]
    assert antecedent(his, [his, name]) is name
    no_pronoun = ScoredQuote(Quote(1, "a", 45, 80, "The minister commanded a militia."), 0.6, 0.6, 0.6)
    assert antecedent(no_pronoun, [no_pronoun, name]) is None


def test_a_sentence_that_refers_back_is_matched_with_its_neighbours() -> None:
    from rag.evidence import lexical_match, score_quotes
    from tests.test_citations import passage

    text = (
        "Finally we could get weapons that stop armoured trucks. "
        "The rebels have been using them against us by filling them with explosives. "
        "The rebels have been using the roads at night."
    )
    p = passage(1, "a", text)

    def flat(_q: str, texts: list[str]) -> list[float]:
        return [0.0 for _ in texts]

    q = "What did the rebels fill armoured trucks with?"
    scored = {s.quote.text: s.lexical for s in score_quotes(q, [p], flat)}
    them = "The rebels have been using them against us by filling them with explosives."
    roads = "The rebels have been using the roads at night."
    assert scored[them] > lexical_match(q, them)  # "them" brings the trucks of the sentence before
    assert scored[roads] == lexical_match(q, roads)  # no pronoun, no context
    assert scored[them] > scored[roads]


def test_a_word_of_the_same_family_counts_half() -> None:
    from rag.evidence import FAMILY_SHARE, lexical_match

    assert lexical_match("weaponry", "They got the weapons.") == FAMILY_SHARE
    assert lexical_match("weapons", "They got the weapons.") == 1.0
    assert lexical_match("state", "They made a statement.") == 0.0  # not one family


def test_most_of_the_claim_in_its_own_words_affirms_it_without_the_denied_word() -> None:
    q = "Did the city's grant to the harbour board mark a change in its policy?"
    denies = _scored(1, "a", "The mayor said the city's policy on the harbour board has not changed.", 0.6)
    affirms = _scored(2, "b", "In a break with past policy, the city gave the harbour board a grant.", 0.5)
    topical = _scored(3, "c", "The harbour board met to discuss its policy.", 0.5)
    found = detect_conflicts(q, [denies, affirms, topical], min_score=0.45)
    assert {s.position: s.doc_ids for s in found[0].sides} == {"yes": ("b",), "no": ("a",)}
    assert detect_conflicts(q, [denies, topical], min_score=0.45) == []  # too little of the claim


def test_support_from_someone_else_takes_no_side_on_support_from_the_one_asked() -> None:
    from rag.evidence import other_party

    q = "Has the harbour board ever received support from the United States?"
    assert other_party(q, "The board has received money and support from Iran.")
    assert not other_party(q, "The board has never been supported by the U.S., only by Iran.")
    assert not other_party(q, "U.S. officials gave the board support.")  # no other party named
    # "given" says only that something is given: what is given ("support") is what Iran did
    q = "Has the United States given the harbour board any support?"
    assert other_party(q, "The board has received logistical support from Iran.")
    assert not other_party(q, "The board's dock was given to it by Iran.")  # a dock, not support
    q = "Has the United States ever given the harbour board any support?"  # "ever" is not the verb
    assert other_party(q, "The board has received logistical support from Iran.")
    # support in another of its senses: funding, backing
    assert other_party(q, "The board enjoys funding from the Gulf Fund, $2 million a year.")
    assert other_party("Has the US given the board backing?", "It enjoys funding from the Gulf Fund.")
    assert not other_party(q, "The board enjoys a view from the Gulf Tower.")  # a view is no support
    denies = _scored(1, "a", "The harbour board has never received support from the U.S.", 0.6)
    iran = _scored(2, "b", "The harbour board received support from Iran.", 0.5)
    assert detect_conflicts(q, [denies, iran], min_score=0.45) == []


def test_a_capital_names_its_country_either_way_round() -> None:
    never = "The board was never supported by the U.S."
    assert about_subject("Has Washington supported the board?", never)
    assert about_subject("Has the United States supported the board?", "Washington never backed the board.")
    assert not about_subject("Has Tehran supported the board?", never)


def test_ever_and_still_claim_nothing() -> None:
    from rag.matching import predicate_terms

    assert predicate_terms("Has the board ever received support?") == {"board", "receiv", "support"}
    assert predicate_terms("Is the board still asking?") == {"board", "ask"}
    # a view reported as someone's: the view is the claim, whose it is is checked apart
    assert predicate_terms("Do the board's members say they need more staff?") == {"need", "staff"}


def test_a_verb_of_giving_is_not_needed_to_state_what_is_given() -> None:
    from rag.matching import claim_stance

    q = "Has the United States ever provided military support to fighters?"
    assert claim_stance(q, "The board has never been supported by the U.S.") == -1
    assert claim_stance(q, "The coalition provided guns to the fighters.") == 1  # stated, it counts


def test_a_sentence_that_only_restates_a_wh_question_answers_nothing() -> None:
    from rag.evidence import restates

    q = "What was the name of the militia the minister once commanded?"
    assert restates(q, "The minister once commanded a militia.")
    assert not restates(q, "The minister once commanded the Badr militia.")  # a name of its own
    assert not restates("How many fighters did the militia train?", "The militia trained 900 fighters.")
    assert not restates("Did the militia train fighters?", "The militia trained fighters.")  # yes/no
    assert not restates("Did the militia train or arm them?", "The militia trained them.")


def test_a_passive_verb_done_by_the_one_the_question_has_it_done_to_takes_no_side() -> None:
    from rag.evidence import reversed_roles

    q = "Is the council still accusing the United States of blocking the plan?"
    assert reversed_roles(q, "The council has been accused by the U.S. of blocking the plan.")  # initials
    assert not reversed_roles(q, "The council had accused the U.S. of blocking the plan.")  # active
    assert not reversed_roles(q, "The plan was blocked by the mayor.")  # another agent
    assert not reversed_roles("Did Iran support the militias?", "The militias were supported by Iran.")
    # no one named as the doer: the question's doer is the one it is done to
    assert reversed_roles(q, "The harbour council, known locally as the board, was later accused of fraud.")
    assert not reversed_roles(q, "The plan was later accused of being too costly.")  # another subject
    # the question's verb passive too
    assert not reversed_roles("Was the council accused of fraud?", "The council was accused of fraud.")
    # the question's verb in a relative clause: its doer is the noun just before it
    trained = "Are the recruits the council is training linked to the fraud?"
    assert not reversed_roles(
        trained, "Some recruits, the mayor said, were being trained with no ties to it."
    )
    assert reversed_roles(trained, "The council, the mayor said, was being trained with no ties to it.")


def test_on_whether_something_still_goes_on_a_denial_that_it_recurs_says_no() -> None:
    from rag.matching import affirms_denied, claim_stance

    q = "Is the council still accusing the mayor of fraud?"
    recurs = "Rumours spread by the council, where it accused the mayor of fraud, have not been repeated."
    assert claim_stance(q, recurs) == -1
    assert claim_stance("Did the council accuse the mayor of fraud?", recurs) == 1  # it did, once
    # told of a time before the one asked of: no side
    assert claim_stance(q, "The council had even accused the mayor of fraud.") == 0
    assert claim_stance("Did the council accuse the mayor?", "The council had accused the mayor.") == 1
    assert claim_stance(q, "The council has stopped accusing the mayor of fraud.") == -1
    assert (
        claim_stance("Did the council accuse the mayor of fraud?", "It has stopped accusing the mayor.") == -1
    )
    # what the denial denies is that it recurs: a sentence sharing a word of the claim does not affirm it
    assert not affirms_denied(q, "The council met the mayor on Monday.", recurs)


def test_a_question_that_denies_its_own_terms_is_answered_yes_by_a_denial() -> None:
    from rag.matching import claim_stance

    q = "Is the town rebuilding the bridge without federal money?"
    assert claim_stance(q, "The town is rebuilding the bridge without any federal money.") == 1
    assert claim_stance(q, "Federal money is paying to rebuild the bridge.") == -1
    assert claim_stance(q, "A state grant is paying to rebuild the bridge.") == 0  # not federal money
    q = "Has the council stopped accusing the mayor of fraud?"
    assert claim_stance(q, "The council's claims that the mayor committed fraud have not been repeated.") == 1
    assert claim_stance(q, "The council is still accusing the mayor of fraud.") == -1


def test_quoted_speech_in_the_first_person_is_matched_with_the_sentences_around_it() -> None:
    from rag.evidence import _contexts

    said = Quote(1, "d", 0, 36, "“A true miracle,” the captain said.")
    we = Quote(1, "d", 37, 65, "“Finally we got the rifles.")
    assert _contexts([said, we])[("d", 37)] == f"{said.text} {we.text}"
    assert ("d", 0) not in _contexts([said, we])  # no pronoun, no first person
    # "he" refers back as "they" does: to the colonel the sentence before names
    named = Quote(1, "d", 0, 36, "Col. Vos thinks the troops should stay.")
    he = Quote(1, "d", 38, 80, "“To leave would be a mistake,” he said.")
    assert _contexts([named, he])[("d", 38)] == f"{named.text} {he.text}"


def test_the_question_s_subject_is_the_party_it_asks_about() -> None:
    from rag.evidence import other_party

    q = "Has the United States supported the harbour board?"
    assert other_party(q, "The board received logistical and material support from Iran.")
    assert other_party(q, "The board is, to a degree, supported and backed by Iran.")
    assert not other_party(q, "The board has never been supported by the U.S.")  # names the one asked
    assert not other_party(q, "The board was founded by Iran.")  # another party, but not of supporting
    # an adjective is no subject: "Are the Shiite volunteer militias part of the army?"
    assert not other_party(
        "Are the Shiite militias part of the army?", "A decision made by the Prime Minister."
    )


def test_a_sentence_answering_a_yes_no_question_outright_comes_first() -> None:
    q = "Has the United States supported the harbour board?"
    topical = _scored(1, "a", "The harbour has berths for ships from every district of the city.", 0.60)
    iran = _scored(2, "a", "The harbour board is supported by Iran.", 0.55)
    denial = _scored(3, "b", "The harbour board has never been supported by the U.S.", 0.40)
    passages = [_passage(1, "a", topical.quote.text), _passage(3, "b", denial.quote.text)]
    evidence = select_evidence(q, passages, [topical, iran, denial], min_score=0.5, side_min_score=0.3)
    assert [(e.doc_id, e.quotes[0].text) for e in evidence] == [
        ("b", denial.quote.text),  # the denial, below the cutoff, answers: its article first
        ("a", topical.quote.text),  # "supported by Iran" answers nothing about the United States
    ]


def test_a_follow_up_s_own_meaning_raises_a_sentence_and_never_lowers_one() -> None:
    from rag.evidence import score_quotes
    from tests.test_citations import passage

    old = "The mayor opened the new bridge over the river on Monday."
    new = "He warned that closing the ferry would repeat an old mistake."
    p = passage(1, "a", f"{old} {new}")
    standalone = "What mistake did he warn of? (follow-up to: Who opened the bridge?; the mayor)"

    def meaning(q: str, texts: list[str]) -> list[float]:  # the previous topic, or the follow-up's
        topic = "bridge" if "opened" in q else "mistake"
        return [0.8 if topic in t else 0.2 for t in texts]

    dense = {
        s.quote.text: s.dense
        for s in score_quotes(standalone, [p], meaning, focus="What mistake did he warn of?")
    }
    assert dense[new] == 0.5  # raised from 0.2 by the follow-up's own meaning
    assert dense[old] == 0.8  # not lowered
    assert {s.quote.text: s.dense for s in score_quotes(standalone, [p], meaning)}[new] == 0.2


def test_on_a_dispute_a_restated_yes_no_claim_is_a_verdict() -> None:
    from rag.evidence import restates

    q = "Did the council want the bridge to stay open?"
    assert not restates(q, "The council wanted the bridge to stay open.")  # the answer to a yes/no
    assert restates(q, "The council wanted the bridge to stay open.", disputed=True)  # a verdict
    assert not restates(q, "The mayor said the bridge will stay open.", disputed=True)  # a source's words


def test_which_came_first_asks_when_each_happened() -> None:
    from rag.evidence import asked_parts

    assert asked_parts("Which happened first: the bridge opening or the flood, and in which months?") == [
        "When the bridge opening?",
        "When the flood?",
        "in which months?",
    ]
    assert asked_parts("Who opened the bridge?") == ["Who opened the bridge?"]


def test_each_part_of_a_compound_question_keeps_the_sentence_that_answers_it() -> None:
    from rag.evidence import part_answers

    q = "Which town did the council repair, and on what date did the flood start?"
    topical = _scored(1, "a", "The council met about the flood and the town.", 0.62)
    town = _scored(2, "a", "The council repaired the town of Elmsby.", 0.50)
    dated = _scored(3, "b", "The flood started on March 3.", 0.48)
    scored = [topical, town, dated]
    assert [best for _, best in part_answers(q, scored, 0.3)] == [town, dated]
    # both kept as evidence, ahead of the topical sentence of their article
    passages = [_passage(1, "a", f"{topical.quote.text} {town.quote.text}"), _passage(3, "b", "The flood.")]
    evidence = select_evidence(q, passages, scored, min_score=0.45, parts=[town, dated])
    assert [e.quotes[0] for e in evidence] == [town.quote, dated.quote]
    assert part_answers("Which town did the council repair?", scored, 0.3) == []  # one part
    # a part that refers to the other with a pronoun still asks its own question
    built = _scored(4, "a", "Elmsby was built in 1820, the council says.", 0.40)
    refers = "Which town did the council repair, and in what year was it built?"
    assert [best for _, best in part_answers(refers, [*scored, built], 0.3)] == [town, built]


def test_a_part_asked_of_a_person_is_asked_of_the_one_the_part_before_was_answered_with() -> None:
    from rag.evidence import part_answers

    q = "Who closed the harbour, and how is he seen by the fishermen?"
    closed = _scored(1, "a", "The harbour was closed by Mayor Omar Haddad in May.", 0.60)
    seen = _scored(2, "b", "The fishermen call Haddad their best friend in the town hall.", 0.35)
    assert part_answers(q, [closed, seen], 0.3) == [
        ("Who closed the harbour?", closed),
        ("how is Omar Haddad seen by the fishermen?", seen),
    ]
    # no person in the first answer: the part is asked as it is
    unnamed = _scored(1, "a", "The harbour was closed in May.", 0.6)
    assert part_answers(q, [unnamed], 0.3)[1][0] == "how is he seen by the fishermen?"


def test_a_sentence_answers_two_parts_only_when_it_holds_two_numbers() -> None:
    from rag.evidence import part_answers

    joined = _scored(1, "a", "The council joined the army in late 2016, the mayor said.", 0.70)
    formed = _scored(2, "a", "The council was formed in 2014 to fight the flood.", 0.50)
    q = "In what year was the council formed, and when did it join the army?"
    assert {best for _, best in part_answers(q, [joined, formed], 0.3)} == {
        joined,
        formed,
    }  # not "2016" twice
    both = _scored(1, "a", "There are at least 40 councils with 80,000 to 100,000 members.", 0.70)
    other = _scored(2, "a", "The councils train 500 members a year.", 0.50)
    q = "How many councils are there, and how many members do they have?"
    assert [best for _, best in part_answers(q, [both, other], 0.3)] == [both, both]


def test_a_name_next_to_the_thing_named_answers_but_a_headline_that_asks_does_not() -> None:
    from rag.evidence import score_quotes
    from tests.test_citations import passage

    headline, text = "Are Harbour Militias Getting Friendlier?", "He led the Badr militia for years."
    split = len(headline) + 1
    both = passage(1, "a", f"{headline} {text}")
    both = dataclasses.replace(
        both, sentences=((0, split - 1, 100, 99 + split), (split, len(both.text), 100 + split, both.end))
    )

    def flat(_q: str, texts: list[str]) -> list[float]:
        return [0.0 for _ in texts]

    q = "What was the name of the militia that he led?"
    answers = {s.quote.text: s.answers for s in score_quotes(q, [both], flat)}
    assert answers[text]
    assert not answers[headline]


def test_no_to_what_a_named_subject_did_is_said_of_that_subject() -> None:
    from rag.evidence import about_subject

    q = "Has the United States ever armed the harbour militias?"
    assert about_subject(q, "The militias have never been armed by the U.S.")  # initials
    assert not about_subject(q, "We didn't have heavy enough weapons to stop them.")
    # a name that qualifies the subject rather than naming it asks nothing of that name
    assert about_subject("Do Harbour militia fighters say they need help?", "'We need no help,' one says.")
    assert about_subject("Did the militias need help?", "They did not need help.")  # no named subject
    # after "has" or "are" the verb is a participle: "Harbour volunteer militias" is no subject named
    from rag.evidence import named_subject

    assert named_subject("Has the Port Authority given money to the dockers?") == "Port Authority"
    assert named_subject("Are the Harbour volunteer militias part of the army?") is None


def test_a_follow_up_is_not_answered_by_the_one_its_pronoun_stands_for() -> None:
    from rag.evidence import score_quotes
    from tests.test_citations import passage

    text = "The deal was good, said Captain Ruiz. The deal was brokered by the federal government."
    focus = "Who does he believe brokered the deal?"
    standalone = f"{focus} (follow-up to: What weapons did Captain Ruiz get?)"

    def flat(_q: str, texts: list[str]) -> list[float]:
        return [0.0 for _ in texts]

    answers = {
        s.quote.text: s.answers for s in score_quotes(standalone, [passage(1, "a", text)], flat, focus=focus)
    }
    assert not answers["The deal was good, said Captain Ruiz."]  # he is the one asked about
    # asked on its own, a person named answers "who"
    assert {s.quote.text: s.answers for s in score_quotes(focus, [passage(1, "a", text)], flat)}[
        "The deal was good, said Captain Ruiz."
    ]


def test_the_other_side_is_asked_in_its_own_words() -> None:
    assert other_pole("Do the leaders want the troops to remain?") == (
        "Do the leaders want the troops to leave?",
        "stay or leave",
    )
    assert other_pole("Did they call for a withdrawal?") == ("Did they call for a stay?", "stay or leave")
    assert other_pole("Did they want the troops to stay or to leave?") is None  # both sides asked
    assert other_pole("Who leads the militia?") is None


def test_a_sentence_taking_a_side_keeps_its_score_against_the_other_side_s_question() -> None:
    home = _scored(2, "b", "It is time for the troops to go home, the militia says.", 0.25)
    other = _scored(3, "b", "The militia met in the capital, the troops said.", 0.25)
    stay = _scored(1, "a", "He wanted the troops to stay.", 0.40)
    asked_of_leaving = [dataclasses.replace(home, score=0.45), dataclasses.replace(other, score=0.45), stay]
    ranked = side_scores([stay, home, other], asked_of_leaving, "stay or leave")
    assert [(s.quote.n, s.score) for s in ranked] == [(2, 0.45), (1, 0.40), (3, 0.25)]  # no side: as it was


def test_the_reader_also_reads_statements_only_on_topic_once_there_is_a_denial() -> None:
    # Below the relative cutoff and in none of the question's words, but on topic (the floor).
    rumours = _scored(
        2, "b", "Officials now say the repair crews have already reached the harbour span.", 0.35
    )
    asked: list[str] = []

    def reader(question: str, sentence: str) -> bool:
        asked.append(sentence)
        return sentence == rumours.quote.text

    found = detect_conflicts(
        BRIDGE_Q, [DENIES, TOPICAL, rumours], min_score=0.46, side_min_score=0.3, says_yes=reader
    )
    assert {s.position: s.doc_ids for s in found[0].sides} == {"yes": ("b",), "no": ("a",)}
    assert asked[-1] == rumours.quote.text  # after the statements above the cutoff
    asked.clear()  # under the floor: never read
    low = dataclasses.replace(rumours, score=0.2)
    assert (
        detect_conflicts(
            BRIDGE_Q, [DENIES, TOPICAL, low], min_score=0.46, side_min_score=0.3, says_yes=reader
        )
        == []
    )
    assert low.quote.text not in asked


def test_a_denial_in_a_word_of_another_sense_places_a_side_but_answers_nothing_outright() -> None:
    from rag.evidence import answers_claim
    from rag.synonyms import share_a_sense

    q = "Are the harbour workers linked to the smuggling ring?"
    denial = "The port authority insisted the workers had no ties to anyone in the smuggling ring."
    # "tie" shares WordNet's sense "connect, link, tie" with "link", not its most common one
    assert answers_claim(q, denial) == 0  # evidence selection: as before
    axis = next(ax for ax in axes(q) if ax.name == CLAIM_AXIS)
    assert axis.stance(denial) == -1  # the side it takes, for a conflict
    # a denial is of the word right after it: "no ties to the Iran-backed groups" denies ties, not backing
    support = "Has Dalton given support to the harbour workers?"
    assert share_a_sense("back", "support")
    assert axes(support)[-1].stance("The harbour workers have no ties to the Dalton-backed union.") != -1


def test_a_sentence_denying_the_subject_a_part_in_the_claim_says_no() -> None:
    from rag.evidence import axes

    q = "Is the Harbour Board playing a role in the plan to rebuild the bridge?"
    claim = next(ax for ax in axes(q) if ax.name == CLAIM_AXIS)
    assert (
        claim.stance("The town will rebuild the bridge under the plan without the help of the Harbour Board.")
        == -1
    )
    assert claim.stance("The Harbour Board is playing a role in the plan to rebuild the bridge.") == 1
    # the subject named apart from the denial
    assert (
        claim.stance(
            "Without the mayor's help, the Harbour Board plays a role in the plan to rebuild the bridge."
        )
        == 1
    )


def test_whether_something_stopped_the_reader_finds_no_as_it_going_on() -> None:
    from rag.matching import still_question

    q = "Have the dock workers stopped claiming that the harbour board is hiding the costs?"
    assert (
        still_question(q) == "Are the dock workers still claiming that the harbour board is hiding the costs?"
    )
    assert still_question("Has the board stopped paying the crews?") == "Is the board still paying the crews?"
    assert still_question("Are the dock workers still claiming it?") is None
    stopped = _scored(
        1, "a", "The dock workers have stopped claiming the harbour board is hiding costs.", 0.6
    )
    going_on = _scored(
        2, "b", "Union members keep telling reporters that the board conceals what it spends.", 0.5
    )
    asked: list[tuple[str, str]] = []

    def reader(question: str, sentence: str) -> bool:
        asked.append((question, sentence))
        return sentence == going_on.quote.text

    before = _scored(3, "b", "The dock workers had even claimed that the board was hiding the costs.", 0.5)
    found = detect_conflicts(q, [stopped, before, going_on], min_score=0.45, says_yes=reader)
    assert {s.position: s.doc_ids for s in found[0].sides} == {"yes": ("a",), "no": ("b",)}
    # asked whether it goes on, as a yes; what ended before ("had even claimed") is not read
    assert asked == [(still_question(q), going_on.quote.text)]
    assert detect_conflicts(q, [stopped, going_on], min_score=0.45) == []  # no reader: words only
    # a denial of the word for stopping alone says nothing of the claim: no side
    from rag.matching import aspect_only, claim_stance

    trucks = "We have not been able to stop the trucks at the gate."

    def rare_stop(term: str) -> float:  # as in a corpus where "stop" is rare and the rest is not
        return 3.0 if term.startswith("stop") else 0.3

    assert aspect_only(q, trucks) and claim_stance(q, trucks, rare_stop) == 0
    assert not aspect_only(q, stopped.quote.text) and claim_stance(q, stopped.quote.text, rare_stop) == 1

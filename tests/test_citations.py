"""Citation parsing and verification, on hand-made passages (no model, no store)."""

from __future__ import annotations

from rag.citations import is_connective, says_dont_know, split_sentences, strip_citations, verify
from rag.types import Passage


def passage(
    n: int, doc: str, text: str, outlet: str = "Daily Planet", date: str | None = "2020-01-03"
) -> Passage:
    sentences = []
    pos = 0
    for s in [x for x in text.split(". ") if x]:
        s = s if s.endswith(".") else s + "."
        start = text.index(s.rstrip("."), pos)
        end = (
            start
            + len(s.rstrip("."))
            + (1 if text[start + len(s.rstrip(".")) : start + len(s)] == "." else 0)
        )
        sentences.append((start, end, 100 + start, 100 + end))
        pos = end
    return Passage(
        n,
        doc,
        f"Title {doc}",
        outlet,
        date,
        f"{doc}:c{n}",
        100,
        100 + len(text),
        text,
        0.5,
        sentences=tuple(sentences),
    )


GO_HOME = passage(
    3,
    "002",
    "The pro-Iran Popular Mobilization Forces (PMF) group is emerging as the loudest voice arguing that "
    "it is time for the Americans to go home. Iraqi media outlets have reported numerous calls from the "
    "militias for the U.S. to leave.",
    outlet="Washington Times",
)
STAY = passage(
    1,
    "001",
    "Iraqi Interior Minister Qassim al-Araji has a disturbing history with the US. He and other former "
    "Shiite militia leaders wanted the Americans to stay. Experts estimated there are at least 40 of the "
    "militias.",
    outlet="NJ Times",
    date=None,
)
PASSAGES = [STAY, GO_HOME]


def test_split_keeps_trailing_citations_with_their_sentence() -> None:
    got = split_sentences("Araji wanted them to stay. [1] The PMF wants them to go home [3]. Done.")
    assert got == ["Araji wanted them to stay [1].", "The PMF wants them to go home [3].", "Done."]


def test_split_does_not_break_inside_quotations_or_abbreviations() -> None:
    got = split_sentences("NJ Times reports: “He met Col. Smith. They talked” [1]. The U.S. left [2].")
    assert got == ["NJ Times reports: “He met Col. Smith. They talked” [1].", "The U.S. left [2]."]


def test_supported_paraphrase() -> None:
    claim, supports = verify("Former Shiite militia leaders wanted the Americans to stay [1].", PASSAGES)
    assert claim.supported and claim.citations == (1,)
    assert supports[0].quote is not None and "wanted the Americans to stay" in supports[0].quote.text
    assert supports[0].quote.start >= 100  # offsets into the raw file, not the passage


def test_the_measured_failure_is_flagged() -> None:
    """Qwen2.5-Coder-1.5B answered this, citing the passage that says the PMF wants the Americans
    to go home. The words overlap; the predicate is the opposite."""
    claim, _ = verify("Yes, PMF leaders wanted US troops to stay [3].", PASSAGES)
    assert not claim.supported
    assert any("opposite side" in p for p in claim.problems)


def test_multi_citation_forms() -> None:
    for text in (
        "Militia leaders wanted the Americans to stay, but the PMF wants them to go home [1, 3].",
        "Militia leaders wanted the Americans to stay, but the PMF wants them to go home [1][3].",
        "Militia leaders wanted the Americans to stay, but the PMF wants them to go home [1; 3].",
    ):
        claim, _ = verify(text, PASSAGES)
        assert claim.citations == (1, 3), text


def test_out_of_range_citation_is_dropped_and_reported() -> None:
    claim, _ = verify("Militia leaders wanted the Americans to stay [1][9].", PASSAGES)
    assert claim.citations == (1,) and claim.supported
    only_bad, _ = verify("Militia leaders wanted the Americans to stay [9].", PASSAGES)
    assert not only_bad.supported
    assert "cites [9], which is not one of the passages" in only_bad.problems
    assert "no citation" in only_bad.problems


def test_missing_citation_is_unsupported() -> None:
    claim, _ = verify("Militia leaders wanted the Americans to stay.", PASSAGES)
    assert not claim.supported and claim.problems == ("no citation",)


def test_invented_sentence_is_unsupported() -> None:
    claim, _ = verify("The PMF received tanks and helicopters from China last spring [3].", PASSAGES)
    assert not claim.supported
    assert any("China" in p or "china" in p for p in claim.problems)


def test_number_not_in_the_source_is_unsupported() -> None:
    ok, _ = verify("There are at least 40 militias [1].", PASSAGES)
    assert ok.supported
    bad, _ = verify("There are at least 400 militias [1].", PASSAGES)
    assert not bad.supported and any("400" in p for p in bad.problems)
    spelled, _ = verify("There are at least forty hundred militias [1].", PASSAGES)  # "hundred" = 100
    assert not spelled.supported and any("100" in p for p in spelled.problems)


def test_a_figure_stated_without_the_bound_its_source_gives_is_unsupported() -> None:
    bare, _ = verify("There are 40 militias [1].", PASSAGES)  # the source: "at least 40"
    assert not bare.supported and any("at least" in p for p in bare.problems)
    other, _ = verify(
        "There are more than 40 militias [1].", PASSAGES
    )  # a bound, if not the same: only a bare figure is checked
    assert other.supported


def test_a_sentence_naming_another_outlet_than_the_one_it_cites_is_unsupported() -> None:
    wrong, _ = verify("The NJ Times says the PMF wants the Americans to go home [3].", PASSAGES)
    assert not wrong.supported and any("NJ Times" in p for p in wrong.problems)
    right, _ = verify("The Washington Times says the PMF wants the Americans to go home [3].", PASSAGES)
    assert right.supported


def test_recite_puts_one_number_where_the_citations_were() -> None:
    from rag.citations import recite

    assert recite("Six died [1][3].", 2) == "Six died [2]."
    assert recite("Six died [1, 3]", 2) == "Six died [2]"


def test_outlet_and_date_from_the_heading_may_be_named() -> None:
    claim, _ = verify(
        "The Washington Times (2020-01-03) reports that the PMF argues it is time for the "
        "Americans to go home [3].",
        PASSAGES,
    )
    assert claim.supported, claim.problems


def test_joint_support_across_two_citations() -> None:
    claim, supports = verify(
        "Araji has a disturbing history with the US, and the militias called for the U.S. to leave [1][3].",
        PASSAGES,
    )
    assert claim.supported, claim.problems
    assert {s.n for s in supports} == {1, 3}
    # the claim carries the sentence of each passage that backs it: what its chips open
    assert {q.n for q in claim.quotes} == {1, 3}
    assert all(q.text in " ".join(p.text for p in PASSAGES) for q in claim.quotes)


def test_helpers() -> None:
    assert strip_citations("They left [1][2].") == "They left."
    assert is_connective("The sources disagree.")
    assert not is_connective("The PMF disagrees [1].")
    assert says_dont_know("I don't know.")
    assert says_dont_know("The passages do not say.")
    assert not says_dont_know("They knew the way [1].")


def test_a_citation_after_a_question_mark_quote_stays_with_its_sentence() -> None:
    text = "Daily Planet (2020-01-03) reports: “Do they want the Americans to go home?” [3]."
    assert split_sentences(text) == [text.replace("” [3].", "” [3].")]
    claim, _ = verify("[3].", PASSAGES)
    assert not claim.supported and "it states nothing beyond naming the source" in claim.problems


def test_a_verbatim_quote_with_a_long_outlet_name_is_supported() -> None:
    long_outlet = passage(
        2,
        "003",
        "Experts estimated there are about 40 militias with some 80,000 active members.",
        outlet="Baghdadpost citing the Los Angeles Times",
        date="2016-12-19",
    )
    claim, _ = verify(
        "Baghdadpost citing the Los Angeles Times (2016-12-19) reports: “Experts estimated there are "
        "about 40 militias with some 80,000 active members” [2].",
        [long_outlet],
    )
    assert claim.supported, claim.problems


def test_naming_a_long_outlet_does_not_carry_an_invented_claim() -> None:
    long_outlet = passage(
        2,
        "003",
        "Experts estimated there are about 40 militias.",
        outlet="Baghdadpost citing the Los Angeles Times",
    )
    claim, _ = verify(
        "Baghdadpost citing the Los Angeles Times reports that troops departed [2].", [long_outlet]
    )
    assert not claim.supported


def test_he_is_the_one_the_question_names() -> None:
    record = passage(
        4,
        "003",
        "As a former militia commander, his loyalties are in question. Omar Haddad served in Iraq as an "
        "army paratrooper. He said the plan was a mistake.",
    )
    who = {"omar", "haddad"}
    assert verify("He served in Iraq as a paratrooper [4].", [record], who=who)[0].supported
    assert verify("He said the plan was a mistake [4].", [record], who=who)[0].supported  # named just before
    claim, _ = verify("He was a former militia commander [4].", [record], who={"karim"})
    assert not claim.supported and "does not name" in claim.problems[-1]
    assert verify("He was a former militia commander [4].", [record])[0].supported  # no one asked about


def test_a_claim_that_turns_its_source_around_is_unsupported() -> None:
    launch = passage(
        2, "004", "Iraq will launch the offensive to retake the city without the assistance of Washington."
    )
    claim, _ = verify(
        "The offensive to retake the city is prepared with the assistance of Washington [2].", [launch]
    )
    assert not claim.supported and any("turns" in p for p in claim.problems)
    assert verify("Iraq will retake the city without the assistance of Washington [2].", [launch])[
        0
    ].supported


def test_a_claim_that_something_goes_on_or_has_stopped_needs_its_source_to_say_so() -> None:
    past = passage(1, "000", "They had even accused the council of helping the smugglers.")
    claim, _ = verify("They are still accusing the council of helping the smugglers [1].", [past])
    assert not claim.supported and any("“still”" in p for p in claim.problems)
    claim, _ = verify("They no longer accuse the council of helping the smugglers [1].", [past])
    assert not claim.supported
    assert verify("They had accused the council of helping the smugglers [1].", [past])[0].supported
    now = passage(2, "002", "They are still accusing the council of helping the smugglers.")
    assert verify("They are still accusing the council of helping the smugglers [2].", [now])[0].supported


def test_a_claim_with_the_roles_or_the_helped_turned_around_is_unsupported() -> None:
    from rag.citations import check

    accused = "The militias have been accused by the U.S.-led coalition of committing crimes."
    assert check("The militias are accusing the U.S.-led coalition of committing crimes.", [accused], accused)
    assert not check(accused, [accused], accused)  # the quote itself
    later = "The Harbour Units, known as the Front, were later accused of destroying homes."
    assert not check(later, [later], later)  # "were later accused": passive, as the quote is
    fight = "The colonel thinks the U.S. military should stay to help fight the Harbour Front."
    assert check("The U.S. military is helping the Harbour Front.", [fight], fight)
    assert not check(
        "The colonel thinks the U.S. military should stay to help fight the Harbour Front.", [fight], fight
    )


def test_a_claim_denied_of_whom_it_names_is_unsupported_though_the_text_says_it_of_others() -> None:
    from rag.citations import check

    denial = (
        "The Harbour Front has never been supported by the council. Since the beginning, "
        "there was direct support from Northport and the navy."
    )
    problems = check("The council has provided support to the Harbour Front.", [denial], denial)
    assert any("turns" in p and "support" in p for p in problems)
    assert not check(denial, [denial], denial)  # the quote itself
    assert not check("The Harbour Front got direct support from Northport.", [denial], denial)


def test_a_name_put_in_place_of_the_cited_one_is_unsupported() -> None:
    from rag.citations import swapped_names

    cited = passage(
        4,
        "harbour",
        "In May, the Port Authority documented damage to the pier after the storm. Later, the "
        "Coast Guard reported that two boats had sunk.",
    )
    # the model copied the first sentence and took the name from the second
    wrong, _ = verify("The Coast Guard documented damage to the pier after the storm [4].", [cited])
    assert not wrong.supported
    assert any("Coast Guard" in p and "Port Authority" in p for p in wrong.problems)
    for right in (
        "The Port Authority documented damage to the pier after the storm [4].",
        "The Coast Guard reported that two boats had sunk [4].",
    ):
        claim, _ = verify(right, [cited])
        assert claim.supported, claim.problems
    # a name for a pronoun or a common noun, or "U. S." for "U.S.", is no swap
    assert swapped_names("Ortiz said the pier was damaged", "“The pier was damaged,” he said.") == []
    assert swapped_names("The PMF formed in 2014", "The militias formed in 2014 to fight IS.") == []
    assert swapped_names("The U. S. spokesman insisted", "Col. Ruiz, the U.S. spokesman, insisted") == []


def test_a_sentence_resting_on_the_question_s_words_is_unsupported() -> None:
    cited = passage(
        3, "harbour", "The dockers, he said, were directly involved in deadly attacks on sailors."
    )
    question = "Were the dockers hired by the port authority involved in attacks on sailors?"
    # the question's premise ("hired by the port authority") stated as the source's: within the
    # coverage a sentence may have, but not with the question known
    said = "The dockers hired by the port authority were directly involved in deadly attacks on sailors [3]."
    assert verify(said, [cited])[0].supported
    wrong, _ = verify(said, [cited], question=question)
    assert not wrong.supported and any("question" in p for p in wrong.problems)
    # the question's words the source says too are the answer's to state
    right, _ = verify(
        "The dockers were directly involved in attacks on sailors [3].", [cited], question=question
    )
    assert right.supported, right.problems


def test_a_subject_giving_what_the_source_has_another_give_is_unsupported() -> None:
    from rag.evidence import given_by_another

    cited = passage(
        5, "harbour", "The dockers have received money and material support from the Port Authority."
    )
    wrong, _ = verify("The City Council has provided material support to the dockers [5].", [cited])
    assert not wrong.supported and any("someone else" in p for p in wrong.problems)
    right, _ = verify("The Port Authority has provided material support to the dockers [5].", [cited])
    assert right.supported, right.problems
    assert not given_by_another(
        "The dockers received support.", "The dockers received support from the city."
    )
    # a part of the outlet's name is no outlet when it gives: "Harbour" citing the Harbour Times,
    # even when the statement names the real giver too
    window = "The dockers have received money and material support from the Port Authority."
    assert given_by_another(
        "Harbour has given the dockers material support from the Port Authority.", window, "Harbour Times"
    )
    # the outlet reporting gives nothing
    assert not given_by_another(
        "The Harbour Times reports that the dockers received support.", window, "Harbour Times"
    )

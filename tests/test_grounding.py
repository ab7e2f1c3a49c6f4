"""Grounding without a model: corpus aliases, the kind of thing a question asks for, abstaining
when it is absent, and follow-ups whose pronoun is resolved inside the question."""

from __future__ import annotations

import pytest

from rag.aliases import Aliases
from rag.answer import absent_kind, refers_back
from rag.citations import verify
from rag.evidence import asked_kind, counted, has_kind
from rag.types import Passage

ARTICLES = [
    "The pro-Iran Popular Mobilization Forces (PMF) group wants the Americans to go home.",
    "Iraq relies on the Hashd al-Shaabi, also known as the Popular Mobilization Forces, to fight.",
    "Criticism of the US' role in the fight against the Islamic State, or IS, group went on for weeks.",
    "The leader of the alliance of former militiamen, known as Fatah, spoke.",  # no name before: no alias
]


def test_aliases_are_learned_from_the_articles() -> None:
    aliases = Aliases.from_texts(ARTICLES)
    assert set(aliases.groups) == {
        ("IS", "Islamic", "Islamic State"),  # "Islamic": its every use is in "Islamic State"
        # every use of "Popular Mobilization" too: "Popular Mobilization militias" names the group
        # once, not as "PMF Mobilization militias"
        ("PMF", "Hashd", "Popular", "Hashd al-Shaabi", "Popular Mobilization", "Popular Mobilization Forces"),
    }
    assert aliases.normalise("the Hashd al-Shaabi and the Islamic State group") == "the PMF and the IS group"
    assert aliases.normalise("the Popular Mobilization militias") == "the PMF militias"
    assert aliases.normalise("ISIS") == "ISIS"  # a longer word is not an alias's match
    assert not Aliases.from_texts(["Nothing here is named twice."])


def test_the_articles_imply_more_names_for_the_same_thing() -> None:
    aliases = Aliases.from_texts(
        [
            "The Shiite Popular Mobilization Units, known in Arabic as Hashd al Shaabi, were accused.",
            "Some Popular Mobilization Units detained men; the Hashd al-Shaabi denied it.",
            "Shiite leaders said nothing.",
            "The Islamic Revolutionary Guard Corps sent advisers. Islamic scholars objected.",
        ]
    )
    norm = aliases.normalise
    # "known in Arabic as"; a shorter name the texts use alone; a hyphen or a space; the first
    # word alone; initials no text writes.
    assert norm("Popular Mobilization Units") == norm("Hashd al-Shaabi") == norm("Hashd") == norm("PMU")
    assert norm("the PMUs") == norm("the PMU")  # an acronym in the plural
    assert norm("Hashd al Shaabi") == norm("Hashd al-Shaabi") != "Hashd al-Shaabi"
    assert norm("Shiite leaders") == "Shiite leaders"  # "Shiite" is used outside the name too
    assert norm("Islamic scholars") == "Islamic scholars"  # used alone: no alias
    assert norm("IRGC") == "IRGC"  # a name in no alias pattern learns no initials


def test_a_word_search_also_looks_for_the_other_names() -> None:
    aliases = Aliases.from_texts(ARTICLES)
    assert (
        aliases.expand("When did the Hashd al-Shaabi join the army?")
        == "When did the Hashd al-Shaabi join the army? (PMF, Popular Mobilization Forces)"
    )
    assert (
        aliases.expand("Is the PMF in the army?")
        == "Is the PMF in the army? (Hashd al-Shaabi, Popular Mobilization Forces)"
    )
    assert aliases.expand("Who leads Fatah?") == "Who leads Fatah?"
    # a form implied, never written alone, is not searched for ("Hashd", "Popular")
    assert aliases.expand("Is the Hashd in the army?") == (
        "Is the Hashd in the army? (PMF, Hashd al-Shaabi, Popular Mobilization Forces)"
    )


def test_the_verifier_accepts_an_alias_of_a_name_in_the_cited_text() -> None:
    text = "The Hashd al-Shaabi has never been supported by the U.S., one fighter says."
    p = Passage(
        1, "d", "t", "o", None, "c1", 0, len(text), text, 1.0, sentences=((0, len(text), 0, len(text)),)
    )
    claim = "The PMF has never been supported by the U.S. [1]."
    assert not verify(claim, [p])[0].supported
    assert verify(claim, [p], Aliases.from_texts(ARTICLES).normalise)[0].supported


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many fighters do the militias have?", "number"),
        ("In which year did the PMF join the army?", "year"),
        ("When was the convoy attacked?", "date"),
        ("Who leads the Badr organization?", "person"),
        ("Who is Omar Aziz?", None),  # what he is, not a person
        ("Where did the leaders meet?", "place"),
        ("Did the PMF want US troops to stay?", None),
        ("What is the population of the port city?", "number"),
        ("What did Mayor Jensen say about the bridge?", "speaker"),
        ("How did Captain Oduya describe the flood?", "speaker"),
        ("What did the officials say about the bridge?", None),  # no one named
        ("What did the UN agencies say about the bridge?", None),  # a group, not a person
        ("What was the toll in dead and wounded?", "number"),
        ("What was the name of the village near the port?", "name"),
        ("What kind of weapons did the unit get?", "type"),
        ("Which Iranian general commanded the advisers?", "person"),
        ("Whose list is the minister on?", "person"),
        ("At which camp is Captain Oduya's unit stationed?", None),  # the captain is no answer
        ("What was the make-up of the unit whose convoy was attacked?", None),  # "whose" joins a clause
    ],
)
def test_what_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_a_sentence_holds_what_is_asked_for() -> None:
    q = "How many fighters do the militias have?"
    assert has_kind("number", q, "There are at least 40 militias with 80,000 to 100,000 fighters.")
    assert not has_kind("number", q, "The militias were trained in 2016.")  # a year is not a count
    assert has_kind("year", "In which year?", "It joined in late 2016.")
    assert has_kind("person", "Who spoke?", "said Col. John Dorrian, the U.S. military spokesman.")
    assert not has_kind("person", "Who spoke?", "The Iraqi army spoke.")
    assert has_kind("place", "Where did they meet?", "They met in Baghdad this week.")
    assert has_kind("place", "Which town did they free?", "They freed the town of Bashir in May.")
    assert not has_kind("place", "Which town did they free?", "They freed the town in May.")
    # a name before a noun of place or of nature, with no preposition
    assert has_kind("place", "Where did the jets strike?", "They asked the jets to bomb Karadag mountain.")
    assert has_kind("place", "Where did they cross?", "They crossed the Arda river at dawn.")
    assert not has_kind("place", "Where did the jets strike?", "The Harbour Front fighters were struck.")
    # a name WordNet knows as a place's, with no preposition and no noun of place
    assert has_kind("place", "Which country was asked to leave?", "The minister told Greece to withdraw.")
    assert not has_kind("place", "Which country was asked to leave?", "The minister told Smith to withdraw.")


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("How many US troops are in the country?", "troop"),
        ("How many senior Islamic State leaders were captured?", "leader"),
        ("How many people live in the city?", "people"),
        ("How much oil does the country export?", "oil"),
        ("How much did the bridge cost?", None),
        ("How many U.S. troops are in the country?", "troop"),  # "U.S." is a word, not an end
    ],
)
def test_what_a_count_counts(question: str, thing: str | None) -> None:
    assert counted(question) == thing


def test_which_ambassador_asks_for_a_person_with_that_title() -> None:
    q = "Which US ambassador did the minister meet?"
    assert asked_kind(q) == "person"
    assert has_kind("person", q, "When he met US Ambassador Dana Ruiz last year, he asked for help.")
    assert not has_kind(
        "person", q, "The polls favour Prime Minister Ali Karim."
    )  # a person, not the one asked


def test_a_count_must_be_of_the_thing_asked_about() -> None:
    q = "How many US troops are in the country?"
    assert has_kind("number", q, "About 5,200 US troops are based there.")
    assert not has_kind("number", q, "The US has given over $1.6 billion in aid.")
    q = "How many militias are there?"
    assert has_kind("number", q, "There are at least 40 of the militias, experts say.")
    assert not has_kind("number", q, "They train hundreds of fighters belonging to the militias.")  # fighters
    q = "How much funding does the group get?"
    assert has_kind("number", q, "It enjoys funding from the state, receiving $1 billion a year.")
    assert counted("How many senior IS leaders were caught?") == "leader"  # "IS" is a name, not a verb
    # an amount of money answers "how much money", when it is near what the question says of it
    q = "How much money does the group receive from the state budget?"
    assert has_kind("number", q, "It is well funded, receiving $1 billion from the country's budget.")
    assert not has_kind("number", "How much money has Iran sent the group?", "It spent $1 billion on roads.")


def test_how_much_of_spending_or_cost_asks_for_money() -> None:
    q = "How much did the council spend on training the 500 new wardens?"
    assert not has_kind("number", q, "The council began training 500 wardens and 20 pilots in May.")
    assert has_kind("number", q, "Training the wardens cost the council $2.5 million.")
    assert has_kind("number", "How much did the bridge cost?", "It was finished for $40 million.")
    # not of having or giving: any amount
    assert has_kind("number", "How much did the river rise?", "It rose 3 metres overnight.")


def test_a_compound_name_is_missing_only_when_a_part_is() -> None:
    from rag.answer import missing_constraints

    text = "A joint Iraqi-US service caught five American-trained leaders."
    found = [Passage(1, "a", "t", None, None, "a:0", 0, len(text), text, 1.0)]
    assert missing_constraints("How many did the Iraqi-American service catch?", found) == []
    assert missing_constraints("How many did the Iraqi-Turkish service catch?", found) == ["Turkish"]


def test_an_abbreviated_title_or_month_is_not_missing_where_the_article_writes_it_out() -> None:
    from rag.answer import missing_constraints

    text = "Captain Lena Vos, whose unit is based at the harbour camp, flew home in October."
    found = [Passage(1, "a", "t", None, None, "a:0", 0, len(text), text, 1.0)]
    assert missing_constraints("Where is Capt. Lena Vos's unit based?", found) == []
    assert missing_constraints("Did Capt. Vos fly home on Oct. 4?", found) == ["4"]
    assert missing_constraints("Where is Capt. Anna Vos's unit based?", found) == ["Anna"]


def test_two_words_the_articles_write_as_one_name_are_not_missing() -> None:
    from rag.answer import missing_constraints

    text = "The militias were trained."
    found = [Passage(1, "a", "t", "Harbourpost citing the Daily Star", None, "a:0", 0, len(text), text, 1.0)]
    assert missing_constraints("Did the Harbour Post or the Daily Star run it first?", found) == []
    assert missing_constraints("Did the Daily Gazette run it?", found) == ["Gazette"]


def test_a_name_another_indexed_article_uses_is_not_missing() -> None:
    from rag.answer import missing_constraints
    from rag.evidence import TermWeights

    text = "The IS group lost five leaders in a joint raid."
    found = [Passage(1, "a", "t", None, None, "a:0", 0, len(text), text, 1.0)]
    q = "How many ISIS leaders did the joint raid catch?"
    assert missing_constraints(q, found) == ["ISIS"]  # the passages retrieved never write it
    indexed = TermWeights.from_texts([text, "ISIS lost its last stronghold."]).idf.keys()
    assert missing_constraints(q, found, indexed=indexed) == []  # another article does
    assert missing_constraints("How many Hamas leaders did the raid catch?", found, indexed=indexed) == [
        "Hamas"
    ]


def test_what_is_the_name_of_asks_for_a_name_next_to_the_thing() -> None:
    from rag.evidence import named

    q = "What was the name of the Iran-backed militia that the minister led?"
    assert named(q) == "militia"
    assert has_kind("name", q, "He once led the Badr militia in the south.")
    assert has_kind("name", q, "He once led a militia called Kataib Hezbollah.")
    assert not has_kind("name", q, "As a former commander of a militia backed by Iran, he met Ruiz.")
    q = "What was the name of the village near Mosul whose shepherds were beaten?"
    assert not has_kind("name", q, "Human Rights Watch said shepherds from a village near Mosul were beaten.")
    assert absent_kind(q, ["Human Rights Watch said shepherds from a village near Mosul were beaten."])
    # a headline that asks names things but answers nothing
    assert absent_kind(q, ["Are Mosul Shepherds Safe From the Village Militias?"])
    # what is named ends at a participle; a name may be given further on ("known as …")
    q = "What is the name of the electoral alliance led by the man whose adviser is Ruiz?"
    assert named(q) == "alliance"
    assert has_kind("name", q, "He leads the electoral alliance of former fighters, known as Fatah.")
    # whose leaders: "the IS leaders" are named by a sentence on IS leaders, not on any leader
    q = "What are the names of the five IS leaders captured in the raid?"
    assert not has_kind("name", q, "Hadi al-Ameri, the leader of the Badr organization, spoke.")
    assert has_kind("name", q, "The raid caught five IS leaders, among them Abu Omar.")


def test_an_amount_someone_else_gives_is_no_answer_to_what_the_one_asked_gives() -> None:
    budget = "The board enjoys funding from the Harbour government, receiving $1 billion from its budget."
    assert not has_kind("number", "How much money has Iran given the harbour board?", budget)
    assert absent_kind("How much money has Iran given the harbour board?", [budget])
    assert has_kind("number", "How much money has the Harbour government given the board?", budget)
    # "from Harbour's budget" in the question names the Harbour of the sentence
    assert has_kind("number", "How much money does the board receive from Harbour's budget?", budget)


def test_someone_s_words_need_that_one_saying_them() -> None:
    q = "What did Mayor Jensen say about the bridge?"
    assert has_kind("speaker", q, "“It will stay open,” Jensen said on Monday.")
    assert has_kind("speaker", q, "Mayor Jensen told reporters the bridge would close.")
    assert not has_kind("speaker", q, "When the council met Mayor Jensen, it had a message.")
    assert absent_kind(q, [], ["The council met Mayor Jensen last year."]) is not None


def test_a_count_of_what_befell_them_answers_how_many_were_hurt() -> None:
    from rag.evidence import counted_events

    # a participle alone after "how many" names what happened to those counted
    q = "How many soldiers were killed, and how many wounded in the ambush?"
    assert counted_events(q) >= {"kill", "die", "wound"}
    assert counted_events("How many armed fighters does it have?") == set()  # "armed" describes them
    s = "Six died, and 31 people from the unit were injured in the shooting."
    assert has_kind("number", "how many wounded in the ambush?", s)
    assert not has_kind("number", "how many wounded in the ambush?", "It trained up to 900 new fighters.")


def test_abstain_when_no_sentence_on_it_gives_the_asked_for_thing() -> None:
    q = "How many civilians were killed in the battle?"
    assert absent_kind(q, ["The battle was fierce.", "Civilians fled in 2016."]) is not None
    assert absent_kind(q, ["Six civilians were killed in the battle."]) is None
    assert absent_kind("Who fought in the battle?", ["The battle was fierce."]) is None  # only counts, years


def test_abstain_on_which_official_when_no_sentence_on_it_names_anyone_else() -> None:
    q = "Which general commanded the advisers working with the militia?"
    assert absent_kind(q, ["Foreign advisers are working with the militia."]) == (
        "none of the passages on this names anyone"
    )
    # a named person with the rank, written out or abbreviated, or named near it
    assert absent_kind(q, ["The advisers answer to Gen. Qasim Tahir, who visits the militia often."]) is None
    assert absent_kind(q, ["Qasim Tahir, a general, visits the militia often."]) is None
    # a name in a sentence that gives no rank names no general
    assert absent_kind(q, ["The advisers answer to Qasim Tahir, who visits the militia often."]) is not None
    # a president is often named without the title
    q = "Which US president pursued a confrontational approach to Iran?"
    assert absent_kind(q, ["With Donald Trump pursuing a hard line on Iran, talks ended."]) is None


def test_abstain_on_when_only_if_no_sentence_on_it_places_it_in_time() -> None:
    q = "When did the council vote to close the bridge?"
    assert absent_kind(q, ["The council voted to close it."]) == "none of the passages on this gives a date"
    assert absent_kind(q, ["The council voted on Dec. 4 to close the bridge."]) is None
    assert absent_kind(q, ["The council voted this week to close the bridge."]) is None  # a time, no date
    assert absent_kind(q, ["The council voted two years ago to close it."]) is None
    # the answer may be the article's own date, which no sentence holds
    assert absent_kind("When did the Herald report the vote?", ["The council voted to close it."]) is None
    # "On what date …?" asks for a day: "this week", a month or a year alone does not give one
    q = "On what exact date did the council vote to close the bridge?"
    assert absent_kind(q, ["The council voted this week, in October 2019, to close it."]) is not None
    assert absent_kind(q, ["The council voted on Oct. 4 to close the bridge."]) is None
    assert absent_kind(q, ["The council voted on Saturday to close the bridge."]) is None
    assert has_kind("date", q, "It voted on 4 October.") and not has_kind("date", q, "It voted in 2019.")
    # a word qualifying the date asked for ("calendar") still asks for a day; "last month" does not
    q = "On what calendar date did the council vote to close the bridge?"
    assert absent_kind(q, ["The council voted in October 2019 to close it."]) is not None
    assert absent_kind(q, ["The council voted on Oct. 4 to close the bridge."]) is None
    assert asked_kind("What last month report said so?") is None


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("Did they want them to stay?", True),
        ("What did he tell the American ambassador?", True),
        ("Why did the US refuse to give them air cover?", True),  # "US" is not plural
        ("Do the militia fighters say the US has supported them?", False),
        ("Did PMF leaders say that US troops should leave?", False),  # "that" joins a clause
        ("What did Hadi al-Ameri say about his alliance?", False),
        ("What happened after that?", True),
        # a bare plural noun stands for "them", not for "he"; a plural verb stands for nothing
        ("What must recruits do before the US trains them?", False),
        ("What did recruits say he promised?", True),
        ("Does the US say it wants them to stay?", True),
    ],
)
def test_a_pronoun_resolved_in_the_question_is_not_a_follow_up(question: str, follow_up: bool) -> None:
    assert refers_back(question) is follow_up


def test_he_after_a_who_question_is_the_person_its_answer_named() -> None:
    from rag.answer import answered_person

    said = "“It is a mistake,” said Omar Haddad, a former officer [2]. Col. Ruiz disagreed [3]."
    assert answered_person('Who called the plan "a mistake"?', said) == "Omar Haddad"
    # a question about one named person: "he" is that person, whatever the answer names
    assert answered_person("Who is Col. Omar Haddad?", said) == "Omar Haddad"
    assert answered_person("Who was Tariq al-Nouri?", said) == "Tariq al-Nouri"
    assert answered_person("What did Capt. Tariq al-Nouri say about the plan?", said) == "Tariq al-Nouri"
    assert answered_person("Where is Capt. Tariq al-Nouri's unit?", said) == "Tariq al-Nouri"
    # a name the question holds in other words is not the answer's ("Haddad" for "Omar Haddad")
    assert answered_person("Who disagreed with Haddad?", said) == "Ruiz"
    assert answered_person("Where was the plan made?", said) is None  # not a question for a person
    # "which" and a kind of person no role list names (WordNet): the person the answer names
    assert answered_person("Which former paratrooper called the plan a mistake?", said) == "Omar Haddad"
    # not a word for a person that only qualifies the head ("guard units"), nor an adjective
    assert answered_person("Which guard units called the plan a mistake?", said) is None
    assert answered_person("What ethnic group called the plan a mistake?", said) is None
    # a source's outlet is no person ("according to Harbour Times")
    said = "Harbour Post citing the Harbour Times reports: “They train, according to Harbour Times” [1]."
    outlets = {"Harbour Post citing the Harbour Times"}
    assert answered_person("Which analyst said so?", said, outlets) is None


def test_he_after_a_who_question_is_replaced_by_the_person_named() -> None:
    from rag.answer import Conversation, standalone_question
    from rag.types import Answer, Timings

    first = Answer(
        question='Who called the plan "a mistake"?',
        standalone_question='Who called the plan "a mistake"?',
        answer="“It is a mistake,” said Omar Haddad, a former officer [1].",
        abstained=False,
        claims=(),
        citations=(),
        evidence=(),
        conflicts=(),
        passages=(),
        backend="extractive",
        timings=Timings(0.0, None, 0.0),
    )
    conv = Conversation(turns=[first])
    # the follow-up asks about him, not about the plan again
    assert standalone_question("Which think tank does he work for?", conv) == (
        "Which think tank does Omar Haddad work for?"
    )
    assert standalone_question("What did his unit do?", conv) == "What did Omar Haddad's unit do?"
    # another pronoun still needs the earlier question: it is carried along
    said = standalone_question("What did he say about them?", conv)
    assert said.startswith("What did he say about them? (follow-up to: ") and "Omar Haddad" in said


def test_words_the_question_quotes_find_the_sentence_that_says_them() -> None:
    from rag.evidence import quoted_words

    assert quoted_words('Who called the plan "a mistake"?') == [["a", "mistake"]]
    assert quoted_words("Why did Iraq say Turkey's troops 'hamper' it?") == [["hamper"]]  # not "s troops"
    assert quoted_words("Did the US' role change?") == []


def test_a_count_of_the_thing_under_another_name_is_next_to_the_question_s_verb() -> None:
    q = "How many senior figures did the joint intelligence unit capture?"
    assert has_kind("number", q, "A joint intelligence unit has captured five leading commanders.")
    assert not has_kind("number", q, "A joint intelligence unit was formed in 2014 with 40 staff members.")
    assert not has_kind("number", q, "Police captured five smugglers.")  # another event: too little shared
    # the question's verb in another of its senses, an irregular form ("caught": catch, capture)
    caught = "How many senior figures were caught by the joint intelligence unit?"
    assert has_kind("number", caught, "A joint intelligence unit has captured five leading commanders.")
    assert not has_kind("number", caught, "A joint intelligence unit was formed in 2014 with 40 staff.")


def test_people_count_for_a_kind_of_person_said_of_them_as_the_question_says() -> None:
    q = "How many members of the river unit were wounded in the ambush?"
    assert has_kind("number", q, "Two died, and 14 people from the river unit were injured.")
    assert not has_kind("number", q, "The city has more than a million people.")  # not of the unit
    assert not has_kind("number", "How many weapons did the unit lose?", "14 people from the unit left.")


def test_a_count_must_tell_the_event_the_question_counts() -> None:
    q = "How many rebels were killed in the night raid on the hills?"
    assert has_kind("number", q, "Twelve rebels died in the raid, the army said.")  # killing causes death
    assert not has_kind("number", q, "The army agreed to have 900 new rebels trained after the raid.")
    assert has_kind("number", "How many rebels are in the hills?", "About 900 rebels hide in the hills.")
    q = "How many were wounded in the raid?"  # nothing named to count: the event still must be told
    assert has_kind("number", q, "Twelve were injured in the raid.")
    assert not has_kind("number", q, "The raid destroyed 40 homes.")


def test_a_why_question_asks_for_a_reason() -> None:
    q = "Why did the air force refuse to give them air cover?"
    assert asked_kind(q) == "reason"
    assert has_kind(
        "reason", q, "It refused, reportedly due to the fact the militias carried out revenge attacks."
    )
    assert has_kind("reason", q, "Iraq told Turkey to withdraw as their presence hampers the offensive.")
    assert not has_kind("reason", q, "The air force refused to provide air cover during the battle.")


def test_whom_a_question_asks_about_is_what_few_passages_name() -> None:
    from rag.answer import distinctive_names

    texts = ["Iraq trains militias.", "Iraq and Omar Haddad disagree.", "In Iraq the army waits."]
    passages = [Passage(i, "d", "t", None, None, f"d:{i}", 0, len(t), t, 1.0) for i, t in enumerate(texts, 1)]
    assert distinctive_names("What did Omar Haddad do in Iraq?", passages) == {"omar", "haddad"}


def test_a_compound_question_asks_for_what_each_part_asks_for() -> None:
    from rag.evidence import question_parts

    q = "When did the group join the army, and which minister took that decision?"
    assert question_parts(q) == ["When did the group join the army?", "which minister took that decision?"]
    assert [asked_kind(p) for p in question_parts(q)] == ["date", "person"]
    assert question_parts("How many militias are there and how many fighters?") == [
        "How many militias are there?",
        "how many fighters?",
    ]
    assert question_parts("Did they stay and fight?") == ["Did they stay and fight?"]
    # a word between "and" and the question word ("and roughly how many years …")
    q = "In what year did the group form, and roughly how many years later did it merge?"
    assert question_parts(q) == [
        "In what year did the group form?",
        "how many years later did it merge?",
    ]


def test_what_type_of_asks_for_a_word_of_its_own_before_the_thing() -> None:
    q = "What type of weaponry was the captain pleased to get?"
    assert has_kind("type", q, "Finally we got anti-tank weapons that stop trucks.")
    assert has_kind("type", q, "His unit is getting the chemical weapons it wanted.")
    # a degree of it is no type ("heavy", "light": of weight, by WordNet's attribute links)
    assert not has_kind("type", q, "His unit is getting the heavy weapons it wanted.")
    assert not has_kind("type", q, "The US would not even send light weapons.")
    assert not has_kind("type", q, "They got the weapons he had asked for.")
    assert not has_kind("type", q, "The government has no such weapons.")  # "such" is a stopword


def test_people_named_after_a_title_or_a_verb_of_saying() -> None:
    from rag.evidence import people

    assert people("In Baghdad, spokesman Col. John Dorrian insisted.") == ["John Dorrian"]
    assert people("The coalition bombed, said Col. Srud Barzanji, who commands them.") == ["Srud Barzanji"]
    assert people("He met US Ambassador Douglas J. Silliman last year.") == ["Douglas J. Silliman"]
    assert people("Iraq has told Turkey to withdraw its troops.") == []  # told: the one told


def test_a_compound_question_abstains_only_when_no_part_can_be_answered() -> None:
    q = "What mistake did he warn of, and in what year was it made?"
    assert absent_kind(q, ["He warned of the mistake of leaving."]) is None  # the first part
    q = "How many fighters died, and in what year?"
    assert absent_kind(q, ["The fighters were brave."]) == "none of the passages on this gives a number"
    assert absent_kind(q, ["It happened in 2014."]) is None


def test_which_month_is_not_answered_by_a_year() -> None:
    q = "In which month did the militias free the town?"
    assert asked_kind(q) == "date"
    assert has_kind("date", q, "They freed it in May of this year.")
    assert not has_kind("date", q, "The militias formed in 2014.")


def test_a_person_described_by_a_title_is_the_one_person_with_it_in_the_article() -> None:
    from rag.evidence import described_person

    text = "Capt. Lena Vos, whose unit is based at the harbour camp, got new boats. Col. Ivo Marr agreed."
    q = "Where is the navy captain who got new boats based?"
    assert described_person(q, text) == ("the navy captain", "Lena Vos")
    assert described_person("Which captain got new boats?", text) is None  # it asks who
    assert described_person("Where is Capt. Vos based?", text) is None  # named already
    two = text + " Captain Olaf Brink got none."
    assert described_person(q, two) is None  # two captains: no telling which

from index.text import MappedText


def test_identity_maps_each_character_to_itself() -> None:
    t = MappedText.identity("abc")
    assert t.raw_span(0, 3) == (0, 3)
    assert t.raw_span(1, 2) == (1, 2)


def test_replacement_maps_to_whole_replaced_span() -> None:
    raw = "it& # 39;s"
    t = MappedText.identity(raw).sub(r"& # 39;", "'")
    assert t.text == "it's"
    a, b = t.raw_span(2, 3)
    assert raw[a:b] == "& # 39;"
    assert raw[slice(*t.raw_span(0, 4))] == raw


def test_deletion_keeps_neighbours_exact() -> None:
    raw = "keep\nJUNK\nalso"
    t = MappedText.identity(raw).sub(r"JUNK\n", "")
    assert t.text == "keep\nalso"
    i = t.text.index("also")
    assert raw[slice(*t.raw_span(i, i + 4))] == "also"


def test_replacement_that_keeps_a_group_keeps_its_exact_mapping() -> None:
    raw = "xx heading ] yy"
    t = MappedText.identity(raw).sub(r"(heading) \]", r"\1")
    i = t.text.index("heading")
    assert t.raw_span(i, i + 7) == (3, 10)


def test_chained_edits_compose() -> None:
    raw = "in 201\n\n4, a  coalition"
    t = MappedText.identity(raw).sub(r"(?<=\d)\n\n(?=\d)", "").sub(r" {2,}", " ")
    assert t.text == "in 2014, a coalition"
    i = t.text.index("2014")
    assert raw[slice(*t.raw_span(i, i + 4))] == "201\n\n4"
    j = t.text.index("coalition")
    assert raw[slice(*t.raw_span(j, j + 9))] == "coalition"


def test_out_of_range_span_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError):
        MappedText.identity("abc").raw_span(2, 5)

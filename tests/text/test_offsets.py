"""The offsets module, without a database: fixed cases with hard characters, then properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.text.offsets import (
    OffsetError,
    Utf16Index,
    non_overlapping,
    overlapping_pairs,
    overlaps,
    reanchor,
    validate_span,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ sequence: 5 code points, 8 UTF-16 units
FLAG = "\U0001f1eb\U0001f1f7"  # regional indicators: 2 code points, 4 units
COMBINING = "e\u0301"  # e + combining acute: 2 code points, 2 units


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    "prefix",
    ["", "😀 ", FAMILY + " ", FLAG + " ", COMBINING + " ", "Володимир ", "李强 ", "كريم حداد ", "a\r\nb "],
)
def test_utf16_roundtrip_after_hard_prefixes(prefix):
    text = prefix + "The minister said 42 people died."
    word = "minister"
    cp = text.index(word)
    idx = Utf16Index(text)
    unit = idx.to_utf16(cp)
    assert unit == utf16_len(text[:cp])
    assert idx.to_codepoint(unit) == cp
    assert idx.to_codepoint(unit + utf16_len(word)) == cp + len(word)
    # What JavaScript would slice with UTF-16 positions equals the code-point slice.
    encoded = text.encode("utf-16-le")
    assert encoded[unit * 2 : (unit + len(word)) * 2].decode("utf-16-le") == word


def test_family_emoji_counts():
    idx = Utf16Index(FAMILY + "x")
    assert len(FAMILY) == 5 and idx.utf16_length == 9
    assert idx.to_utf16(5) == 8
    assert idx.to_codepoint(8) == 5


def test_offset_inside_surrogate_pair_is_an_error():
    idx = Utf16Index("a😀b")
    with pytest.raises(OffsetError, match="surrogate pair"):
        idx.to_codepoint(2)


@pytest.mark.parametrize(
    "start,end,message",
    [(-1, 2, "negative"), (3, 3, "greater than start"), (0, 99, "past the end"), ("0", 2, "whole numbers")],
)
def test_validate_span_rejects(start, end, message):
    with pytest.raises(OffsetError, match=message):
        validate_span("abcdef", start, end)


def test_validate_span_checks_quote():
    text = FLAG + " Paris, France"
    assert validate_span(text, 3, 8, "Paris") == "Paris"
    with pytest.raises(OffsetError, match="does not match"):
        validate_span(text, 4, 9, "Paris")  # what a UTF-16 client would have sent


def test_overlap_helpers():
    assert overlaps((0, 5), (4, 9)) and not overlaps((0, 5), (5, 9))
    assert overlapping_pairs([(0, 5), (4, 9), (10, 12), (0, 20)]) == [(0, 1), (0, 3), (1, 3), (2, 3)]
    assert non_overlapping([(0, 5), (0, 10), (8, 12), (12, 14)]) == [(0, 10), (12, 14)]


def test_reanchor_moves_span_after_insert_and_flags_ambiguity():
    old = "Officials said 42 people died. Officials said more."
    new = "UPDATE: " + old
    start = old.index("42 people")
    anchor = reanchor(old, new, start, start + 9)
    assert new[anchor.start : anchor.end] == "42 people"
    gone = reanchor(old, "Nothing here.", start, start + 9)
    assert gone.start is None and "no longer occurs" in gone.reason
    twice = "x said 42 people. y said 42 people."
    amb = reanchor("42 people", twice, 0, 9)
    assert amb.start is None and "2 times" in amb.reason


text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(text_st, st.data())
def test_utf16_conversion_matches_python_encoding(text, data):
    idx = Utf16Index(text)
    cp = data.draw(st.integers(0, len(text)))
    unit = idx.to_utf16(cp)
    assert unit == utf16_len(text[:cp])
    assert idx.to_codepoint(unit) == cp
    assert idx.utf16_length == utf16_len(text)


@given(text_st, st.data())
def test_every_valid_span_validates_and_slices(text, data):
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert validate_span(text, start, end, text[start:end]) == text[start:end]


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20)), max_size=30))
def test_overlapping_pairs_matches_brute_force(raw):
    ranges = [(s, s + n) for s, n in raw]
    brute = sorted(
        (i, j) for i in range(len(ranges)) for j in range(i + 1, len(ranges)) if overlaps(ranges[i], ranges[j])
    )
    assert overlapping_pairs(ranges) == brute
    chosen = non_overlapping(ranges)
    assert not overlapping_pairs(chosen)

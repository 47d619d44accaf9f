import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from annotations.text.normalize import normalize, normalize_text


def test_line_endings_controls_and_trailing_space():
    raw = "\ufeffTitle  \r\nLine two\rLine\x00 three\t \r\n\r\n"
    assert normalize_text(raw) == "Title\nLine two\nLine three"


def test_nfc_and_emoji_and_rtl_are_kept():
    raw = "Cafe\u0301 👨\u200d👩\u200d👧 🇫🇷 كريم حداد 李强"
    text = normalize_text(raw)
    assert text == unicodedata.normalize("NFC", raw)
    assert "\u200d" in text and "🇫🇷" in text


def test_offset_map_carries_spans_through_crlf_and_nfc():
    raw = "He said:\r\n\"Cafe\u0301 prices rose 10%,\" officials said.  \r\n"
    start = raw.index("Cafe")
    end = raw.index(",")
    text, mapping = normalize(raw)
    s, e = mapping.span(start, end)
    assert text[s:e] == "Café prices rose 10%"
    officials = raw.index("officials")
    s, e = mapping.span(officials, officials + len("officials said."))
    assert text[s:e] == "officials said."


def test_empty_input():
    text, mapping = normalize("")
    assert text == "" and mapping.span(0, 0) == (0, 0)


edge_safe = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Mn", "Mc", "Me", "Cf"))
any_char = st.one_of(
    st.characters(blacklist_categories=("Cs",)), st.sampled_from(["\r\n", "\r", "\n", " ", "\t", "\x00", "\u0301"])
)


@given(st.lists(any_char, max_size=40), st.lists(edge_safe, min_size=1, max_size=5), st.lists(any_char, max_size=40))
def test_span_in_raw_maps_to_the_same_normalised_characters(before, middle, after):
    """A raw span that starts and ends on a visible base character covers the same text when stored."""
    inner = "".join(middle)
    raw = "".join(before) + inner + "".join(after)
    start = len("".join(before))
    end = start + len(inner)
    if unicodedata.combining(raw[end : end + 1] or "a"):
        return  # a combining mark right after the span composes with it: not a chunk boundary
    text, mapping = normalize(raw)
    s, e = mapping.span(start, end)
    assert text[s:e] == normalize_text(inner)

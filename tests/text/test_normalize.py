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


# --- the fast paths give exactly what the full passes give -------------------------------------
def _slow(raw):
    from annotations.text.normalize import _clean, _nfc

    nfc_text, m1 = _nfc(raw)
    stored, m2 = _clean(nfc_text)
    return stored, m1.then(m2)


hard = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(["\r\n", "\r", "\n", " ", "\t", "\x00", "\u0301", "\ufeff", "\u00a0", "\u3000", "\u2028", "\x85",
                     "\U0001f468\u200d\U0001f469", "🇫🇷", "\u1100\u1161", "ك", "\x0b"]),
)


@given(st.lists(hard, max_size=60))
def test_fast_paths_match_the_full_passes(chars):
    raw = "".join(chars)
    fast_text, fast_map = normalize(raw)
    slow_text, slow_map = _slow(raw)
    assert fast_text == slow_text
    # Inside a base character and its combining marks the full pass maps the cluster as a unit, the
    # identity map position by position; spans start and end on cluster boundaries, compared here.
    from annotations.text.normalize import _HANGUL_JOINERS

    for i in range(len(raw) + 1):
        if i < len(raw) and (unicodedata.combining(raw[i]) or ord(raw[i]) in _HANGUL_JOINERS):
            continue
        assert fast_map.start(i) == slow_map.start(i)
        assert fast_map.end(i) == slow_map.end(i)


def test_clean_text_comes_back_as_is_with_an_identity_map():
    from annotations.text.normalize import IdentityMap

    raw = "Officials said 42 people died. 😀 كريم\n\nSecond\tparagraph."
    text, mapping = normalize(raw)
    assert text is raw and isinstance(mapping, IdentityMap)
    assert mapping.span(3, 9) == (3, 9) and mapping.before[:3] == [0, 1, 2] and mapping.after[:2] == [1, 2]


def test_each_thing_to_clean_leaves_the_fast_path():
    for raw in ["a \nb", "a\t\nb", "a\u3000\nb", "\na", "a\n", "a ", "a\rb", "a\x00b", "\ufeffa", "a\x85b", "e\u0301"]:
        assert normalize(raw)[0] == _slow(raw)[0]
        assert normalize(raw)[0] != raw


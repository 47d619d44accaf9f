"""offsets.js (the browser's UTF-16 <-> code point conversion) agrees with the server's
annotations.text.offsets.Utf16Index on emoji, ZWJ sequences, flags, combining marks and CRLF."""

import random
from pathlib import Path

import pytest

from annotations.text.offsets import OffsetError, Utf16Index

OFFSETS_JS = Path(__file__).resolve().parents[2] / "annotations/static/annotations/js/offsets.js"

SAMPLES = [
    "plain ASCII text",
    "Hi 👋 there",
    "family 👨‍👩‍👧‍👦 of four",
    "flags 🇫🇷🇺🇦 side by side",
    "combining: e\u0301te\u0301 and Zoë",
    "CRLF origin\nline two\n\nline four",
    "Мария Иванова and 李小龙 and مرحبا",
    "𝕄𝕒𝕥𝕙 letters 𝒜 and 🎉🎉",
    "🎉",
    "skin tone 👍🏽 done",
]


@pytest.fixture
def js(page):
    page.goto("about:blank")
    page.add_script_tag(path=str(OFFSETS_JS))
    return page


def python_table(text):
    idx = Utf16Index(text)
    to16 = [idx.to_utf16(cp) for cp in range(len(text) + 1)]
    tocp = []
    for unit in range(idx.utf16_length + 1):
        try:
            tocp.append(idx.to_codepoint(unit))
        except OffsetError:
            tocp.append(None)
    return to16, tocp


JS_TABLE = """
(text) => {
  const idx = new NewsroomOffsets.Utf16Index(text);
  const to16 = [], tocp = [];
  for (let cp = 0; cp <= idx.codePointLength; cp++) to16.push(idx.toUtf16(cp));
  for (let u = 0; u <= text.length; u++) {
    try { tocp.push(idx.toCodePoint(u)); } catch (e) { tocp.push(null); }
  }
  return {to16, tocp, cpLen: idx.codePointLength, u16: idx.utf16Length};
}
"""


@pytest.mark.parametrize("text", SAMPLES)
def test_conversion_matches_python(js, text):
    to16, tocp = python_table(text)
    got = js.evaluate(JS_TABLE, text)
    assert got["cpLen"] == len(text)
    assert got["u16"] == len(text.encode("utf-16-le")) // 2
    assert got["to16"] == to16
    assert got["tocp"] == tocp


def test_random_strings_match_python(js):
    rng = random.Random(20261128)
    pool = list("ab \n.,'") + ["é", "e\u0301", "👨‍👩‍👧", "🇺🇦", "🎉", "李", "𝒜", "\u200d", "👍🏽", "Ж"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 40))) for _ in range(60)]
    got = js.evaluate(f"(texts) => texts.map(t => ({JS_TABLE})(t))", texts)
    for text, g in zip(texts, got, strict=True):
        to16, tocp = python_table(text)
        assert (g["to16"], g["tocp"]) == (to16, tocp), text


SNAP_JS = """
([text, needle, from, to]) => {
  const s = text.indexOf(needle) + from, e = text.indexOf(needle) + needle.length - to;
  const r = NewsroomOffsets.snapToWords(text, s, e);
  if (!r) return null;
  const idx = new NewsroomOffsets.Utf16Index(text);
  return {quote: text.slice(r[0], r[1]), start: idx.toCodePoint(r[0]), end: idx.toCodePoint(r[1])};
}
"""


@pytest.mark.parametrize("text, needle, trim_start, trim_end, expected", [
    ("The minister said prices rose.", "minister said", 2, 2, "minister said"),
    ("He said 🎉 Zoë’s plan failed", "Zoë’s pl", 1, 0, "Zoë’s plan"),
    ("after 👨‍👩‍👧 the family left", "the family", 0, 3, "the family"),
    ("🇺🇦 Мария Иванова said", "Мария Иванова", 2, 3, "Мария Иванова"),
    ("well-known  claims  here", "ll-known  cl", 0, 0, "well-known  claims"),
    ("caf\u00e9 e\u0301clair", "e\u0301cl", 0, 0, "e\u0301clair"),
    ("spaces   only   here", "   ", 0, 0, None),
])
def test_snap_to_words_and_server_slice(js, text, needle, trim_start, trim_end, expected):
    got = js.evaluate(SNAP_JS, [text, needle, trim_start, trim_end])
    if expected is None:
        assert got is None
        return
    assert got["quote"] == expected
    assert text[got["start"]:got["end"]] == expected  # the server slices exactly the same text


WORD_MOVES_JS = """
(text) => {
  const ends = [], starts = [];
  for (let p = 0, i = 0; i < 20 && p < text.length; i++) { p = NewsroomOffsets.nextWordEnd(text, p); ends.push(p); }
  for (let p = text.length, i = 0; i < 20 && p > 0; i++) { p = NewsroomOffsets.prevWordStart(text, p); starts.push(p); }
  const idx = new NewsroomOffsets.Utf16Index(text);
  return {ends: ends.map((u) => idx.toCodePoint(u)), starts: starts.map((u) => idx.toCodePoint(u)),
          snapped: (() => { const z = text.indexOf("\\u200d");
                            const r = NewsroomOffsets.snapToWords(text, Math.max(z - 4, 0), z + 1);
                            return [idx.toCodePoint(r[0]), idx.toCodePoint(r[1])]; })()};
}
"""


CLUSTERS = ["👨‍👩‍👧", "🇺🇦", "👍🏽", "e\u0301", "👩🏽‍🚀"]


@pytest.mark.parametrize("text", [
    "Police said two died. 👨‍👩‍👧 <script> and 🇺🇦 flags, skin 👍🏽 tone",
    "e\u0301te\u0301 café 👩🏽‍🚀 crew",
])
def test_keyboard_word_moves_never_cut_a_grapheme(js, text):
    """Word-by-word moves and snapping stop only at grapheme boundaries: an emoji family, a flag,
    a skin tone or a letter with its combining mark is never cut (a QA walk stored 'died. 👨\\u200d')."""
    inside = set()  # code point offsets strictly inside a multi-code-point cluster
    for cluster in CLUSTERS:
        at = text.find(cluster)
        while at >= 0:
            inside.update(range(at + 1, at + len(cluster)))
            at = text.find(cluster, at + 1)
    assert inside
    got = js.evaluate(WORD_MOVES_JS, text)
    for cp in got["ends"] + got["starts"] + got["snapped"]:
        assert cp not in inside, (cp, text[max(cp - 3, 0):cp + 3])

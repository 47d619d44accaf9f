"""Text normalisation at intake, with a map from raw to stored offsets. Pure; no Django import.

The stored text is: Unicode NFC; CRLF and lone CR turned into LF; control characters other than
tab and newline removed (and a byte-order mark); trailing whitespace trimmed on every line; leading
and trailing blank lines dropped. Emoji, ZWJ sequences, non-Latin and right-to-left text are kept.

`normalize(raw)` returns the text and an `OffsetMap`, so spans that arrive with the raw text
(imported annotations) still cover the same characters in the stored text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DROP_FORMAT = {"\ufeff"}  # BOM / zero-width no-break space
_HANGUL_JOINERS = range(0x1161, 0x11C3)  # jamo vowels and trailing consonants compose with what precedes
# What `_clean` would change, found without a per-character loop: control characters other than
# tab and newline (CR included) and a BOM (one regex scan); whitespace just before a newline (a look
# at each newline); and at the ends of the text a newline or trailing whitespace.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")


def _is_clean(text: str) -> bool:
    """True if `_clean` would return `text` unchanged."""
    if not text:
        return True
    if text[0] == "\n" or text[-1].isspace() or _CONTROL.search(text) is not None:
        return False
    i = text.find("\n")
    while i != -1:
        before = text[i - 1] if i else "\n"
        if before != "\n" and before.isspace():
            return False
        i = text.find("\n", i + 1)
    return True


@dataclass
class OffsetMap:
    """For every raw position, where it lands in the stored text.

    `before[i]` is the stored position of raw character i's first output (or of the next kept
    character if i was dropped); `after[i]` the stored position just past its output.
    """

    before: list[int]
    after: list[int]
    stored_length: int

    def start(self, raw_start: int) -> int:
        if raw_start >= len(self.before):
            return self.stored_length
        return self.before[raw_start]

    def end(self, raw_end: int) -> int:
        if raw_end <= 0 or not self.after:
            return 0
        return self.after[min(raw_end, len(self.after)) - 1]

    def span(self, raw_start: int, raw_end: int) -> tuple[int, int]:
        return self.start(raw_start), self.end(raw_end)

    def then(self, other: OffsetMap) -> OffsetMap:
        """Compose: self maps raw -> middle, other maps middle -> stored."""
        before = [other.start(b) for b in self.before]
        after = [other.end(a) for a in self.after]
        return OffsetMap(before, after, other.stored_length)


class IdentityMap(OffsetMap):
    """The map of a text normalisation left unchanged: position i stays i. Built in O(1)."""

    def __init__(self, length: int):  # no lists: they are made only if someone asks for them
        self.stored_length = length

    @property
    def before(self) -> list[int]:  # type: ignore[override]
        return list(range(self.stored_length))

    @property
    def after(self) -> list[int]:  # type: ignore[override]
        return list(range(1, self.stored_length + 1))

    def start(self, raw_start: int) -> int:
        return min(max(raw_start, 0), self.stored_length)

    def end(self, raw_end: int) -> int:
        return min(max(raw_end, 0), self.stored_length)

    def then(self, other: OffsetMap) -> OffsetMap:
        return other

    def __repr__(self) -> str:
        return f"IdentityMap({self.stored_length})"


def _nfc(raw: str) -> tuple[str, OffsetMap]:
    """NFC chunk by chunk (a starter and the marks that follow it), mapping each chunk as a unit."""
    out: list[str] = []
    before: list[int] = []
    after: list[int] = []
    pos = 0
    i, n = 0, len(raw)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(raw[j]) or ord(raw[j]) in _HANGUL_JOINERS):
            j += 1
        chunk = raw[i:j]
        norm = chunk if chunk.isascii() else unicodedata.normalize("NFC", chunk)
        out.append(norm)
        for _ in range(i, j):
            before.append(pos)
            after.append(pos + len(norm))
        pos += len(norm)
        i = j
    text = "".join(out)
    return text, OffsetMap(before, after, len(text))


def _clean(text: str) -> tuple[str, OffsetMap]:
    """Line endings, control characters, trailing whitespace per line, outer blank lines."""
    out: list[str] = []
    before = [0] * len(text)
    after = [0] * len(text)
    pending: list[tuple[int, str]] = []  # whitespace waiting to see whether its line ends
    n = len(text)

    def emit(idx: int, ch: str) -> None:
        before[idx] = len(out)
        out.append(ch)
        after[idx] = len(out)

    def drop(idx: int) -> None:
        before[idx] = after[idx] = len(out)

    i = 0
    while i < n:
        ch = text[i]
        if ch == "\r":
            if i + 1 < n and text[i + 1] == "\n":
                drop(i)
                i += 1
                continue
            ch = "\n"
        if ch == "\n":
            for idx, _ in pending:
                drop(idx)
            pending.clear()
            emit(i, "\n")
        elif ch in _DROP_FORMAT or (unicodedata.category(ch) == "Cc" and ch != "\t"):
            drop(i)
        elif ch.isspace():
            pending.append((i, ch))
            before[i] = after[i] = -1  # decided later
        else:
            for idx, p in pending:
                emit(idx, p)
            pending.clear()
            emit(i, ch)
        i += 1
    for idx, _ in pending:
        drop(idx)
    # Fix positions of whitespace that was decided late: drop() and emit() above set them.
    stored = "".join(out)
    # Leading and trailing blank lines.
    lead = len(stored) - len(stored.lstrip("\n"))
    stripped = stored.strip("\n")
    final_len = len(stripped)

    def clamp(p: int) -> int:
        return min(max(p - lead, 0), final_len)

    return stripped, OffsetMap([clamp(b) for b in before], [clamp(a) for a in after], final_len)


def normalize(raw: str) -> tuple[str, OffsetMap]:
    """The stored text and the map from raw to stored offsets.

    Fast paths: text already in NFC skips the per-character NFC pass, and text with nothing to clean
    skips the cleaning pass; a text needing neither comes back as is with an `IdentityMap`.
    """
    if unicodedata.is_normalized("NFC", raw):
        nfc_text, m1 = raw, None
    else:
        nfc_text, m1 = _nfc(raw)
    if _is_clean(nfc_text):
        stored, m2 = nfc_text, None
    else:
        stored, m2 = _clean(nfc_text)
    if m1 is None and m2 is None:
        return stored, IdentityMap(len(stored))
    if m1 is None:
        return stored, m2
    if m2 is None:
        return stored, m1
    return stored, m1.then(m2)


def normalize_text(raw: str) -> str:
    return normalize(raw)[0]

"""Offsets: the one place this app could silently corrupt data, so it lives alone and is pure.

Unit everywhere: Unicode code points into the stored (normalised) text, spans half-open
[start, end). Browsers count UTF-16 code units; `Utf16Index` converts at that boundary.
No Django import here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class OffsetError(ValueError):
    """A span that does not fit the text. The message says why, for the user."""


def validate_span(text: str, start: int, end: int, quote: str | None = None) -> str:
    """Check [start, end) against `text` and return the covered text.

    If `quote` is given it must equal text[start:end] exactly (what the client saw is what we store).
    """
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise OffsetError("start and end must be whole numbers (code points)")
    if start < 0:
        raise OffsetError(f"start {start} is negative")
    if end <= start:
        raise OffsetError(f"end {end} must be greater than start {start}")
    if end > len(text):
        raise OffsetError(f"end {end} is past the end of the text ({len(text)} code points)")
    covered = text[start:end]
    if quote is not None and quote != covered:
        raise OffsetError(f"quoted text {quote!r} does not match the text at {start}:{end} ({covered!r})")
    return covered


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True if the half-open ranges share at least one code point."""
    return a[0] < b[1] and b[0] < a[1]


def overlap_length(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def nests(outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def overlapping_pairs(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index pairs (i, j), i < j, of ranges that overlap. Sweep line: O(n log n + pairs)."""
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], ranges[i][1]))
    active: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i in order:
        start = ranges[i][0]
        active = [j for j in active if ranges[j][1] > start]
        pairs.extend((min(i, j), max(i, j)) for j in active if overlaps(ranges[i], ranges[j]))
        active.append(i)
    return sorted(pairs)


def non_overlapping(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Greedy choice of non-overlapping ranges, longest first at each start (for doc.ents, BIO tags)."""
    chosen: list[tuple[int, int]] = []
    last_end = -1
    for r in sorted(ranges, key=lambda r: (r[0], -(r[1] - r[0]))):
        if r[0] >= last_end:
            chosen.append(r)
            last_end = r[1]
    return chosen


class Utf16Index:
    """Converts between code-point offsets and UTF-16 code-unit offsets for one text.

    Built once per text in O(n); each conversion is O(log k) where k is the number of characters
    outside the Basic Multilingual Plane (emoji, some CJK), which take two UTF-16 units.
    """

    def __init__(self, text: str):
        self.text = text
        self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]  # code-point positions
        self.utf16_length = len(text) + len(self._astral)

    def to_utf16(self, cp: int) -> int:
        if not 0 <= cp <= len(self.text):
            raise OffsetError(f"offset {cp} is outside the text (0..{len(self.text)} code points)")
        return cp + bisect.bisect_left(self._astral, cp)

    def to_codepoint(self, unit: int) -> int:
        """UTF-16 unit offset -> code point offset. An offset inside a surrogate pair is an error."""
        if not 0 <= unit <= self.utf16_length:
            raise OffsetError(f"UTF-16 offset {unit} is outside the text (0..{self.utf16_length} units)")
        lo, hi = 0, len(self._astral)
        # Find how many astral characters start strictly before the code point we land on.
        while lo < hi:
            mid = (lo + hi) // 2
            if self._astral[mid] + mid < unit:  # UTF-16 position of astral char `mid`
                lo = mid + 1
            else:
                hi = mid
        cp = unit - lo
        if lo > 0 and self._astral[lo - 1] + (lo - 1) + 1 == unit:
            raise OffsetError(f"UTF-16 offset {unit} falls inside a surrogate pair")
        return cp


def utf16_to_codepoint(text: str, unit: int) -> int:
    return Utf16Index(text).to_codepoint(unit)


def codepoint_to_utf16(text: str, cp: int) -> int:
    return Utf16Index(text).to_utf16(cp)


@dataclass(frozen=True)
class Anchor:
    """Where a span moved to after a text edit; `start` is None when it could not be placed."""

    start: int | None
    end: int | None
    reason: str = ""


def reanchor(
    old_text: str, new_text: str, start: int, end: int, *, context: int = 20
) -> Anchor:
    """Place the span [start, end) of `old_text` in `new_text` by its quote and context.

    Tried in order: the same place still holds the same quote; the quote with the same context on
    both sides occurs exactly once; the quote occurs exactly once. Anything else is ambiguous or
    lost and returns Anchor(None, None, reason): never a silent guess.
    """
    quote = old_text[start:end]
    if new_text[start:end] == quote and (
        old_text[max(0, start - context) : start] == new_text[max(0, start - context) : start]
    ):
        return Anchor(start, end)
    before = old_text[max(0, start - context) : start]
    after = old_text[end : end + context]
    for left, right in ((before, after), (before[-8:], after[:8]), ("", "")):
        hits = _find_all(new_text, left + quote + right)
        if len(hits) == 1:
            s = hits[0] + len(left)
            return Anchor(s, s + len(quote))
        if len(hits) > 1 and not left and not right:
            return Anchor(None, None, f"the quoted text occurs {len(hits)} times in the new text")
    return Anchor(None, None, "the quoted text no longer occurs in the new text")


def _find_all(haystack: str, needle: str) -> list[int]:
    hits, i = [], haystack.find(needle)
    while i != -1 and needle:
        hits.append(i)
        i = haystack.find(needle, i + 1)
    return hits

"""From a parsed article to what is stored: normalised text, its hash, spans in stored offsets.

Pure. Raises IntakeError with a message for the person who sent the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlparse

from annotations.text.normalize import IdentityMap, normalize, normalize_text
from annotations.text.offsets import OffsetError, Utf16Index

from .types import IntakeError, ParsedArticle
from .wire import parse_date


@dataclass
class PreparedSpan:
    label: str
    start: int
    end: int
    text: str


@dataclass
class PreparedArticle:
    text: str
    text_hash: str
    source: str
    title: str = ""
    outlet: str = ""
    author: str = ""
    published_at: date | None = None
    url: str = ""
    meta: dict = field(default_factory=dict)
    spans: list[PreparedSpan] = field(default_factory=list)
    relations: list[tuple[int, int, str | None]] = field(default_factory=list)  # span indexes
    warnings: list[str] = field(default_factory=list)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_article(item: ParsedArticle) -> PreparedArticle:
    raw = item.text
    stored, mapping = normalize(raw)
    if not stored.strip():
        raise IntakeError("the text is empty")
    prepared = PreparedArticle(text=stored, text_hash=text_hash(stored), source=item.source, meta=dict(item.meta))
    prepared.title = " ".join(item.title.split())[:500]
    prepared.outlet = item.outlet.strip()[:200]
    prepared.author = item.author.strip()[:200]
    if item.published_at:
        d = parse_date(item.published_at)
        if d is None:
            prepared.meta.setdefault("published_at_raw", item.published_at)
            prepared.warnings.append(f"{item.source}: date {item.published_at!r} not recognised; kept in meta")
        prepared.published_at = d
    if item.url:
        url = item.url.strip()
        if len(url) <= 1000 and urlparse(url).scheme in ("http", "https") and urlparse(url).netloc:
            prepared.url = url
        else:
            prepared.meta.setdefault("url_raw", url)
            prepared.warnings.append(f"{item.source}: URL {url[:80]!r} is not an http(s) address; kept in meta")
    utf16: Utf16Index | None = None
    refs: dict = {}
    n_raw = len(raw)
    identity = isinstance(mapping, IdentityMap)
    spans_out = prepared.spans
    for i, span in enumerate(item.spans):
        start, end, quote = span.start, span.end, span.quote
        ok_cp = 0 <= start < end <= n_raw
        if quote is not None and not (ok_cp and (raw[start:end] == quote or _same(raw[start:end], quote))):
            what = _what(i, span)
            if span.unit != "codepoint_or_utf16":
                raise IntakeError(_mismatch(what, raw, span))
            utf16 = utf16 or Utf16Index(raw)
            try:
                s16, e16 = utf16.to_codepoint(start), utf16.to_codepoint(end)
            except OffsetError:
                s16 = e16 = -1
            if not (0 <= s16 < e16 and _same(raw[s16:e16], quote)):
                raise IntakeError(_mismatch(what, raw, span))
            prepared.warnings.append(f"{item.source}: {what} counted UTF-16 units; converted to code points")
            start, end, ok_cp = s16, e16, True
        if not ok_cp:
            what = _what(i, span)
            if start < 0 or end <= start:
                raise IntakeError(f"{what}: offsets must satisfy 0 <= start < end")
            raise IntakeError(f"{what}: offsets do not match the text, which has {n_raw} characters")
        s, e = (start, end) if identity else mapping.span(start, end)
        if e <= s:
            raise IntakeError(f"{_what(i, span)}: covers only characters removed by normalisation")
        spans_out.append(PreparedSpan(span.label, s, e, stored[s:e]))
        if span.ref is not None:
            refs.setdefault(str(span.ref), i)
    for j, rel in enumerate(item.relations, start=1):
        src = refs.get(_key(rel.from_ref))
        dst = refs.get(_key(rel.to_ref))
        src = src if src is not None else (rel.from_ref if _is_index(rel.from_ref, item) else None)
        dst = dst if dst is not None else (rel.to_ref if _is_index(rel.to_ref, item) else None)
        if src is None or dst is None:
            raise IntakeError(f"relation {j}: refers to a span that is not in this article")
        if src == dst:
            raise IntakeError(f"relation {j}: links a span to itself")
        prepared.relations.append((src, dst, rel.type))
    return prepared


def _what(i: int, span) -> str:
    return f"span {i + 1} ({span.label} {span.start}:{span.end})"


def _key(ref):
    return str(ref)


def _is_index(ref, item: ParsedArticle) -> bool:
    return isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(item.spans)


def _same(covered: str, quote: str) -> bool:
    return covered == quote or normalize_text(covered) == normalize_text(quote)


def _mismatch(what: str, raw: str, span) -> str:
    covered = raw[span.start : span.end] if 0 <= span.start < span.end <= len(raw) else ""
    return f"{what}: quoted text {span.quote[:60]!r} does not match the text there ({covered[:60]!r})"

"""The plain data the formatters take, and helpers they share. No Django import.

An article dict, as built by annotations.selectors.exports::

    {
      "id": 7, "title": "...", "text": "...", "url": "", "outlet": "", "author": "",
      "published_at": "2024-05-01" | None, "meta": {...}, "status": "approved",
      "reviewer": "rita" | None,
      "layer": {"kind": "review" | "annotation" | "none", "annotator": "rita" | None},
      "spans": [{"id", "label", "start", "end", "text", "author", "origin", "confidence"}],
      "relations": [{"id", "from", "to", "type"}],
      # only with layer=all: every person's layer (and "machine" for suggestions)
      "layers": [{"kind", "annotator", "spans": [...], "relations": [...]}],
    }

`spans` is the exported (final) layer plus, when suggestions are included, the machine
suggestions that layer has not decided on (origin="machine"). Offsets are code points into
`text` unless the article went through `to_utf16`, which sets "offsets": "utf16".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import orjson

from annotations.text.offsets import Utf16Index

CODEPOINT = "codepoint"
UTF16 = "utf16"
OFFSET_UNITS = (CODEPOINT, UTF16)


def _convert_spans(spans: list[dict], index: Utf16Index) -> list[dict]:
    return [dict(s, start=index.to_utf16(s["start"]), end=index.to_utf16(s["end"])) for s in spans]


def to_utf16(article: dict) -> dict:
    """A copy of `article` whose span offsets count UTF-16 code units (for JavaScript tools)."""
    index = Utf16Index(article["text"])
    out = dict(article, offsets=UTF16, spans=_convert_spans(article["spans"], index))
    if "layers" in article:
        out["layers"] = [dict(layer, spans=_convert_spans(layer["spans"], index)) for layer in article["layers"]]
    return out


def with_offsets(articles: Iterable[dict], unit: str) -> Iterator[dict]:
    """Yield the articles with offsets in `unit` ("codepoint", as stored, or "utf16")."""
    if unit not in OFFSET_UNITS:
        raise ValueError(f"offsets must be one of {', '.join(OFFSET_UNITS)}")
    for article in articles:
        if unit == UTF16:
            yield to_utf16(article)
        else:
            yield article if "offsets" in article else dict(article, offsets=CODEPOINT)


def offsets_of(article: dict) -> str:
    return article.get("offsets", CODEPOINT)


_json_fallback = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(obj) -> bytes:
    """Compact UTF-8 JSON. orjson (about 8x faster than json here); json for what orjson refuses
    (e.g. a lone surrogate), so an odd value never breaks an export."""
    try:
        return orjson.dumps(obj)
    except (orjson.JSONEncodeError, TypeError):
        return _json_fallback(obj).encode("utf-8", "surrogatepass")


def buffered_bytes(pieces: Iterable[bytes], *, size: int = 64 * 1024) -> Iterator[bytes]:
    """Join small bytes pieces into chunks of about `size` bytes."""
    buf: list[bytes] = []
    n = 0
    for piece in pieces:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield b"".join(buf)
            buf, n = [], 0
    if buf:
        yield b"".join(buf)


def buffered(pieces: Iterable[str], *, size: int = 64 * 1024) -> Iterator[bytes]:
    """Join small str pieces into UTF-8 chunks of about `size` bytes (fewer, larger writes)."""
    buf: list[str] = []
    n = 0
    for piece in pieces:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(buf).encode("utf-8")
            buf, n = [], 0
    if buf:
        yield "".join(buf).encode("utf-8")

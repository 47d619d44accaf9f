"""Native JSON Lines: one article per line, with its metadata, spans, relations and review status.

Every line carries "offsets": "codepoint" (or "utf16"), so a file never leaves its unit unstated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exporters.base import buffered_bytes, dumps, offsets_of

CONTENT_TYPE = "application/x-ndjson; charset=utf-8"
EXTENSION = "jsonl"

FIELDS = ("id", "title", "text", "url", "outlet", "author", "published_at", "meta", "status", "reviewer", "layer")


def article_record(article: dict) -> dict:
    record = {key: article.get(key) for key in FIELDS}
    record["offsets"] = offsets_of(article)
    record["spans"] = article["spans"]
    record["relations"] = article["relations"]
    if "layers" in article:
        record["layers"] = article["layers"]
    return record


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    return buffered_bytes(dumps(article_record(a)) + b"\n" for a in articles)

"""CSV, one row per span, with cells a spreadsheet cannot execute.

A text cell starting with = + - @ (or tab / carriage return, which some spreadsheets strip before
looking) is prefixed with an apostrophe, the OWASP-recommended neutralisation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from annotations.exporters.base import offsets_of

CONTENT_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
HEADER = [
    "article_id", "article_title", "span_id", "label", "start", "end", "text", "author", "origin",
    "confidence", "layer", "annotator", "status", "reviewer", "offsets",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def _layers(article: dict):
    if "layers" in article:
        yield from article["layers"]
    else:
        layer = article.get("layer") or {}
        yield {"kind": layer.get("kind"), "annotator": layer.get("annotator"), "spans": article["spans"]}


def rows(article: dict) -> Iterator[list]:
    """One row per span; the cells people typed (title, label, quote, names) are neutralised."""
    unit = offsets_of(article)
    title = neutralise(article.get("title", ""))
    status = neutralise(article.get("status", ""))
    reviewer = neutralise(article.get("reviewer") or "")
    for layer in _layers(article):
        annotator = neutralise(layer.get("annotator") or "")
        for s in layer["spans"]:
            kind = "machine" if s.get("state") == "pending" else layer["kind"]
            yield [
                article["id"], title, s["id"], neutralise(s["label"]), s["start"], s["end"], neutralise(s["text"]),
                neutralise(s.get("author") or ""), s.get("origin", ""),
                "" if s.get("confidence") is None else s["confidence"], kind, annotator, status, reviewer, unit,
            ]


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for article in articles:
        writer.writerows(rows(article))
        if buf.tell() >= 64 * 1024:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")

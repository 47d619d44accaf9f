"""doccano's JSONL for sequence labelling with relations.

One object per line: `text`, `entities` [{id, label, start_offset, end_offset}], `relations`
[{id, from_id, to_id, type}], as doccano's "Sequence labeling / relation" import documents.
Extra keys (`article_id`, `title`, `offsets`) become metadata in doccano. Single layer only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exporters.base import buffered_bytes, dumps, offsets_of

CONTENT_TYPE = "application/x-ndjson; charset=utf-8"
EXTENSION = "jsonl"


def article_record(article: dict) -> dict:
    span_ids = {s["id"] for s in article["spans"]}
    return {
        "id": article["id"],
        "text": article["text"],
        "entities": [
            {"id": s["id"], "label": s["label"], "start_offset": s["start"], "end_offset": s["end"]}
            for s in article["spans"]
        ],
        "relations": [
            {"id": r["id"], "from_id": r["from"], "to_id": r["to"], "type": r["type"]}
            for r in article["relations"]
            if r["from"] in span_ids and r["to"] in span_ids
        ],
        "article_id": article["id"],
        "title": article.get("title", ""),
        "offsets": offsets_of(article),
    }


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    return buffered_bytes(dumps(article_record(a)) + b"\n" for a in articles)

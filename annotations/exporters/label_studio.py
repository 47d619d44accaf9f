"""Label Studio task JSON, and the labelling config XML that matches it.

A JSON array of tasks: `data.text` (+ title, article id), `annotations[].result[]` with labels
regions (`value.start/end/text/labels`) and relation items (`from_id`/`to_id`), and pending
machine suggestions as `predictions[]`. With layer=all every person's layer is its own
annotation. The array is streamed: `[`, tasks joined by `,`, `]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.sax.saxutils import quoteattr

from annotations.exporters.base import buffered_bytes, dumps, offsets_of

CONTENT_TYPE = "application/json; charset=utf-8"
EXTENSION = "json"
FROM_NAME = "label"
TO_NAME = "text"


def _results(spans: list[dict], relations: list[dict]) -> list[dict]:
    results: list[dict] = []
    ids = set()
    for s in spans:
        ids.add(s["id"])
        results.append({
            "id": str(s["id"]),
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "origin": "prediction" if s.get("origin") == "machine" else "manual",
            "value": {"start": s["start"], "end": s["end"], "text": s["text"], "labels": [s["label"]]},
            **({"score": s["confidence"]} if s.get("confidence") is not None else {}),
        })
    for r in relations:
        if r["from"] in ids and r["to"] in ids:
            results.append({
                "type": "relation", "from_id": str(r["from"]), "to_id": str(r["to"]),
                "direction": "right", "labels": [r["type"]],
            })
    return results


def _split(spans: list[dict], relations: list[dict]):
    """(human layer, pending suggestions) of one span list."""
    pending = [s for s in spans if s.get("state") == "pending"]
    pending_ids = {s["id"] for s in pending}
    human = [s for s in spans if s["id"] not in pending_ids]
    return (human, relations), (pending, relations)


def _prediction(spans: list[dict], relations: list[dict]) -> dict:
    scores = [s["confidence"] for s in spans if s.get("confidence") is not None]
    versions = sorted({s.get("model_version") or "" for s in spans} - {""})
    return {
        "model_version": ",".join(versions) or "machine",
        "score": (sum(scores) / len(scores)) if scores else None,
        "result": _results(spans, relations),
    }


def task(article: dict) -> dict:
    annotations: list[dict] = []
    predictions: list[dict] = []
    if "layers" in article:
        for layer in article["layers"]:
            if layer["kind"] == "machine":
                predictions.append(_prediction(layer["spans"], layer["relations"]))
            else:
                annotations.append({
                    "completed_by": layer.get("annotator"), "layer": layer["kind"],
                    "result": _results(layer["spans"], layer["relations"]), "was_cancelled": False,
                    "ground_truth": layer["kind"] == "review",
                })
    else:
        (human, rels), (pending, _) = _split(article["spans"], article["relations"])
        layer = article.get("layer") or {}
        annotations.append({
            "completed_by": layer.get("annotator"), "layer": layer.get("kind"),
            "result": _results(human, rels), "was_cancelled": False,
            "ground_truth": layer.get("kind") == "review",
        })
        if pending:
            predictions.append(_prediction(pending, article["relations"]))
    return {
        "id": article["id"],
        "data": {"text": article["text"], "title": article.get("title", ""), "article_id": article["id"]},
        "annotations": annotations,
        "predictions": predictions,
        "meta": {"offsets": offsets_of(article), "status": article.get("status"), "reviewer": article.get("reviewer")},
    }


def _pieces(articles: Iterable[dict]) -> Iterator[bytes]:
    yield b"["
    first = True
    for article in articles:
        yield (b"" if first else b",\n") + dumps(task(article))
        first = False
    yield b"]\n"


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    return buffered_bytes(_pieces(articles))


def labeling_config(labels: list[dict], relation_types: list[str]) -> str:
    """The <View> config matching the tasks: Labels named "label" on Text "text", plus Relations.

    `labels` are {"name", "color"} dicts.
    """
    lines = ["<View>"]
    if relation_types:
        lines.append("  <Relations>")
        lines += [f"    <Relation value={quoteattr(name)}/>" for name in relation_types]
        lines.append("  </Relations>")
    lines.append(f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">')
    lines += [
        f"    <Label value={quoteattr(lab['name'])} background={quoteattr(lab.get('color') or '#ffd54f')}/>"
        for lab in labels
    ]
    lines.append("  </Labels>")
    lines.append(f'  <Text name="{TO_NAME}" value="$text"/>')
    lines.append("</View>")
    return "\n".join(lines) + "\n"

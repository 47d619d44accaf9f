"""The one tokenizer the token-level formats share (conll, spacy): spaCy's English tokenizer
(`spacy.blank("en")`) with the rule-based sentencizer. No model download, no Django.

`entity_spans` turns a list of code-point spans into token spans for `doc.ents` / BIO tags:
non-overlapping first (annotations.text.offsets.non_overlapping: longest first at each start),
then each widened to whole tokens (alignment_mode="expand"), then token overlaps dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from annotations.text.offsets import non_overlapping

BATCH_SIZE = 256


@lru_cache(maxsize=1)
def nlp():
    import spacy

    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    return pipeline


def docs(articles: Iterable[dict]) -> Iterator[tuple]:
    """(doc, article) pairs, tokenised and sentence-split in batches."""
    pairs = ((a["text"], a) for a in articles)
    yield from nlp().pipe(pairs, as_tuples=True, batch_size=BATCH_SIZE)


def token_span(doc, span: dict, label: str | None = None):
    return doc.char_span(
        span["start"], span["end"], label=label or span["label"], alignment_mode="expand",
        span_id=str(span["id"]),
    )


def entity_spans(doc, spans: list[dict]) -> list:
    """Non-overlapping token spans for doc.ents and BIO, in text order."""
    by_range: dict[tuple[int, int], dict] = {}
    for s in spans:
        by_range.setdefault((s["start"], s["end"]), s)
    chosen = []
    last_end = 0
    for rng in non_overlapping(by_range):
        span = token_span(doc, by_range[rng])
        if span is None or len(span) == 0 or span.start < last_end:
            continue
        chosen.append(span)
        last_end = span.end
    return chosen

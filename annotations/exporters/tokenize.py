"""The one tokenizer the token-level formats share (conll, spacy): spaCy's English tokenizer
(`spacy.blank("en").tokenizer`), no model download, no Django.

After tokenisation everything works on numpy arrays for a whole batch of documents at once
(never on Token objects), so the formats cost little more than the tokenizer itself:

* sentences: spaCy's rule-based Sentencizer rule with its default punctuation characters (a
  token that is not punctuation, after a run containing a sentence-final character, starts a
  sentence; each document starts one), computed on arrays and tested against the Sentencizer;
* spans -> tokens: each code-point span is widened to the tokens it touches (spaCy's
  alignment_mode="expand"); for `doc.ents` and BIO tags the spans are first made
  non-overlapping (annotations.text.offsets.non_overlapping: longest first at each start) and a
  span whose widened tokens would overlap the previous one is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from annotations.text.offsets import non_overlapping

BATCH_SIZE = 128


@lru_cache(maxsize=1)
def nlp():
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=1)
def _punct_hashes():
    import numpy
    from spacy.pipeline import Sentencizer

    strings = nlp().vocab.strings
    return numpy.array(sorted(strings.add(ch) for ch in Sentencizer.default_punct_chars), dtype="uint64")


def in_sorted(values, sorted_set):
    """numpy.isin for a small sorted array, by binary search."""
    import numpy

    pos = numpy.minimum(numpy.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[pos] == values


def sentence_starts(is_punct, in_punct_chars, doc_starts=None):
    """spaCy's Sentencizer rule on arrays. `doc_starts`: index of each document's first token
    when several documents are concatenated (default: one document)."""
    import numpy

    n = len(is_punct)
    if n == 0:
        return numpy.zeros(0, dtype=bool)
    if doc_starts is None:
        doc_starts = numpy.zeros(1, dtype="int64")
    plain = ~(is_punct | in_punct_chars)
    cum = numpy.cumsum(in_punct_chars, dtype="int64")  # sentence-final characters among tokens <= i
    positions = numpy.where(plain, numpy.arange(n), -1)
    prev_plain = numpy.empty(n, dtype="int64")  # the last plain token before i (-1: none)
    prev_plain[0] = -1
    numpy.maximum.accumulate(positions[:-1], out=prev_plain[1:])
    before_i = numpy.empty(n, dtype="int64")
    before_i[0] = 0
    before_i[1:] = cum[:-1]
    at_prev = numpy.where(prev_plain >= 0, cum[numpy.maximum(prev_plain, 0)], 0)
    # nothing before a document's first token counts for it
    lengths = numpy.diff(numpy.append(doc_starts, n))
    base = numpy.repeat(numpy.where(doc_starts > 0, cum[numpy.maximum(doc_starts - 1, 0)], 0), lengths)
    at_prev = numpy.maximum(at_prev, base)
    starts = plain & (before_i > at_prev)
    starts[doc_starts] = True
    return starts


@dataclass
class Batch:
    """Arrays for a batch of tokenised articles, concatenated (token and character offsets global)."""

    articles: list
    docs: list
    texts: list
    text_offsets: object  # int64 [n_docs + 1]: where each text starts in the joined texts
    token_offsets: object  # int64 [n_docs + 1]: where each doc's tokens start
    starts: object  # int64 per token: global code-point offset
    ends: object
    is_space: object  # bool
    spacy: object  # bool: a space follows the token
    orth: object  # uint64 hashes
    sent_start: object  # bool
    ents: list  # [(doc index, first token, last token, span)] global tokens, non-overlapping per doc
    spans: list  # [(doc index, first token, last token, span)] every span, widened to tokens


def _analyse(articles: list[dict], docs: list) -> Batch:
    import numpy
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH, SPACY

    texts = [a["text"] for a in articles]
    arrays = [doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, ORTH, SPACY]) for doc in docs]
    n_tokens = numpy.array([len(a) for a in arrays], dtype="int64")
    token_offsets = numpy.zeros(len(docs) + 1, dtype="int64")
    numpy.cumsum(n_tokens, out=token_offsets[1:])
    text_offsets = numpy.zeros(len(docs) + 1, dtype="int64")
    numpy.cumsum([len(t) for t in texts], out=text_offsets[1:])
    arr = numpy.concatenate(arrays) if arrays else numpy.zeros((0, 6), dtype="uint64")
    starts = arr[:, 0].astype("int64") + numpy.repeat(text_offsets[:-1], n_tokens)
    ends = starts + arr[:, 1].astype("int64")
    orth = arr[:, 4]
    doc_starts = token_offsets[:-1][n_tokens > 0]
    sent = sentence_starts(arr[:, 3].astype(bool), in_sorted(orth, _punct_hashes()), doc_starts)

    # every span, and every candidate entity, widened to tokens by two binary searches in all
    span_refs, bounds, chosen_refs, chosen_bounds = [], [], [], []
    for d, article in enumerate(articles):
        off = int(text_offsets[d])
        by_range: dict[tuple[int, int], dict] = {}
        for s in article["spans"]:
            span_refs.append((d, s))
            bounds.append((s["start"] + off, s["end"] + off))
            by_range.setdefault((s["start"], s["end"]), s)
        for rng in non_overlapping(by_range):
            chosen_refs.append((d, by_range[rng]))
            chosen_bounds.append((rng[0] + off, rng[1] + off))
    b = numpy.array(bounds + chosen_bounds, dtype="int64").reshape(-1, 2)
    firsts = numpy.searchsorted(ends, b[:, 0], side="right").tolist()
    lasts = numpy.searchsorted(starts, b[:, 1], side="left").tolist()
    k = len(span_refs)
    spans = [(d, f, la, s) for (d, s), f, la in zip(span_refs, firsts[:k], lasts[:k], strict=True) if f < la]
    ents = []
    last_end, last_doc = 0, -1
    for (d, s), f, la in zip(chosen_refs, firsts[k:], lasts[k:], strict=True):
        if d != last_doc:
            last_end, last_doc = 0, d
        if f < la and f >= last_end:
            ents.append((d, f, la, s))
            last_end = la
    return Batch(articles=articles, docs=docs, texts=texts, text_offsets=text_offsets, token_offsets=token_offsets,
                 starts=starts, ends=ends, is_space=arr[:, 2].astype(bool), spacy=arr[:, 5].astype(bool),
                 orth=orth, sent_start=sent, ents=ents, spans=spans)


def batches(articles: Iterable[dict], size: int = BATCH_SIZE) -> Iterator[Batch]:
    """The articles tokenised and analysed in batches of `size`."""
    tokenizer = nlp().tokenizer
    batch: list[dict] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= size:
            yield _analyse(batch, list(tokenizer.pipe([a["text"] for a in batch], batch_size=size)))
            batch = []
    if batch:
        yield _analyse(batch, list(tokenizer.pipe([a["text"] for a in batch], batch_size=size)))

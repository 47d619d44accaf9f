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

Token cache: what the formats need of a tokenised text (token lengths, whitespace flags, sentence
starts, ORTH hashes) fits in a small blob (`encode_tokens`). An article dict may carry such a blob
as "tokens" (the selector only passes one stored for the same text hash and `tokenizer_id()`);
it is used instead of the tokenizer if it covers exactly the text, otherwise the text is
tokenised. `batches(..., keep_tokens=True)` returns the token arrays of the texts it tokenised,
for the caller to encode and store.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

BATCH_SIZE = 128
CACHE_FORMAT = 2  # bump when the blob layout or what is derived from the tokenizer changes
SPACE, SPACY_FLAG, SENT = 1, 2, 4  # token flags in a blob
_HEAD = struct.Struct("<BBII")  # format, 32-bit lengths?, number of tokens, size of the first section


@lru_cache(maxsize=1)
def nlp():
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=1)
def tokenizer_id() -> str:
    """Names the tokenizer (and blob layout) a cached blob was made with: another spaCy version
    may split differently, so its blobs are not used. Read from the installed package's metadata,
    so naming it does not import spaCy."""
    from importlib.metadata import version

    return f"spacy-{version('spacy')}-en/{CACHE_FORMAT}"


def text_digest(text: str) -> str:
    """SHA-256 of a text, the key a token blob is stored under (computed from the text exported,
    so a blob is never used for another text)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def _punct_hashes():
    import numpy
    from spacy.pipeline import Sentencizer

    strings = nlp().vocab.strings
    return numpy.array(sorted(strings.add(ch) for ch in Sentencizer.default_punct_chars), dtype="uint64")


def in_sorted(values, sorted_set):
    """numpy.isin for a small sorted array, by binary search."""
    import numpy

    if len(sorted_set) == 0:
        return numpy.zeros(len(values), dtype=bool)
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


# --- per-document token arrays: (lengths uint32, flags uint8, orth uint64) ------------------------

def encode_tokens(lengths, flags, orth) -> bytes:
    """The cache blob of one document's tokens: a header, then two zlib sections, the token
    lengths (uint16 when they fit) and flags, and the ORTH hashes (read only by the spacy format)."""
    import numpy

    wide = bool(len(lengths)) and int(lengths.max()) > 0xFFFF
    first = zlib.compress(numpy.ascontiguousarray(lengths, dtype="<u4" if wide else "<u2").tobytes()
                          + numpy.ascontiguousarray(flags, dtype="u1").tobytes(), 1)
    second = zlib.compress(numpy.ascontiguousarray(orth, dtype="<u8").tobytes(), 1)
    return _HEAD.pack(CACHE_FORMAT, wide, len(lengths), len(first)) + first + second


def decode_tokens(blob: bytes, text_length: int, *, orth: bool = True):
    """(lengths, flags, orth or None) from a blob, or None if it is not a blob of this format for a
    text of `text_length` code points (the tokens and their trailing spaces must cover the text)."""
    import numpy

    try:
        version, wide, n, first_size = _HEAD.unpack_from(blob)
        if version != CACHE_FORMAT:
            return None
        view = memoryview(blob)
        raw = zlib.decompress(view[_HEAD.size:_HEAD.size + first_size])
        hashes = zlib.decompress(view[_HEAD.size + first_size:]) if orth else None
    except (struct.error, zlib.error, TypeError, ValueError):
        return None
    width = 4 if wide else 2
    if len(raw) != (width + 1) * n or (hashes is not None and len(hashes) != 8 * n):
        return None
    lengths = numpy.frombuffer(raw, dtype="<u4" if wide else "<u2", count=n)
    flags = numpy.frombuffer(raw, dtype="u1", count=n, offset=width * n)
    if int(lengths.sum(dtype="int64")) + int(numpy.count_nonzero(flags & SPACY_FLAG)) != text_length:
        return None
    return lengths, flags, None if hashes is None else numpy.frombuffer(hashes, dtype="<u8")


def with_decoded_tokens(articles: Iterable[dict], *, orth: bool = True) -> Iterator[dict]:
    """Yield the articles, each "tokens" blob decoded into "token_arrays" (the arrays, or None if the
    blob does not fit the text). Meant for the thread that reads the articles ahead: zlib lets go
    of the GIL, so decoding there overlaps the formatting."""
    for article in articles:
        blob = article.get("tokens")
        if blob is not None:
            article["token_arrays"] = decode_tokens(blob, len(article["text"]), orth=orth)
        yield article


def tokenise(texts: list[str]) -> list[tuple]:
    """spaCy's tokens of `texts` as per-document (lengths, flags, orth), sentence starts included."""
    import numpy
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, ORTH, SPACY

    docs = list(nlp().tokenizer.pipe(texts, batch_size=BATCH_SIZE))
    arrays = [doc.to_array([IDX, SPACY, ORTH, IS_SPACE, IS_PUNCT]) for doc in docs]
    counts = numpy.array([len(a) for a in arrays], dtype="int64")
    offsets = numpy.zeros(len(docs) + 1, dtype="int64")
    numpy.cumsum(counts, out=offsets[1:])
    text_offsets = numpy.zeros(len(docs) + 1, dtype="int64")
    numpy.cumsum([len(t) for t in texts], out=text_offsets[1:])
    arr = numpy.concatenate(arrays) if arrays else numpy.zeros((0, 5), dtype="uint64")
    starts = arr[:, 0].astype("int64") + numpy.repeat(text_offsets[:-1], counts)
    spacy = arr[:, 1].astype(bool)
    # a token ends where the next one starts, less its trailing space (the tokens cover the text)
    ends = numpy.append(starts[1:], text_offsets[-1]) - spacy
    orth = arr[:, 2]
    sent = sentence_starts(arr[:, 4].astype(bool), in_sorted(orth, _punct_hashes()), offsets[:-1][counts > 0])
    flags = (arr[:, 3].astype("uint8") * SPACE) | (spacy.astype("uint8") * SPACY_FLAG) | (sent.astype("uint8") * SENT)
    lengths = (ends - starts).astype("uint32")
    bounds = offsets.tolist()
    return [(lengths[lo:hi], flags[lo:hi], orth[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass
class Batch:
    """Arrays for a batch of tokenised articles, concatenated (token and character offsets global)."""

    articles: list
    texts: list
    text_offsets: object  # int64 [n_docs + 1]: where each text starts in the joined texts
    token_offsets: object  # int64 [n_docs + 1]: where each doc's tokens start
    starts: object  # int64 per token: global code-point offset
    ends: object
    is_space: object  # bool
    spacy: object  # bool: a space follows the token
    orth: object  # uint64 hashes (None if not asked for)
    sent_start: object  # bool
    # the spans widened to tokens (global token indexes, last exclusive), as arrays and the span dicts:
    # every span that covers a token, and the non-overlapping choice (doc.ents, BIO tags) per doc
    span_doc: object = None
    span_first: object = None
    span_last: object = None
    span_refs: list = field(default_factory=list)
    ent_doc: object = None
    ent_first: object = None
    ent_last: object = None
    ent_spans: list = field(default_factory=list)
    fresh: list = field(default_factory=list)  # [(article, (lengths, flags, orth))] tokenised here (keep_tokens)

    @property
    def ents(self) -> list[tuple]:
        """[(doc index, first token, last token, span)]"""
        return list(zip(self.ent_doc.tolist(), self.ent_first.tolist(), self.ent_last.tolist(), self.ent_spans,
                        strict=True))

    @property
    def spans(self) -> list[tuple]:
        """[(doc index, first token, last token, span)]"""
        return list(zip(self.span_doc.tolist(), self.span_first.tolist(), self.span_last.tolist(), self.span_refs,
                        strict=True))

    @property
    def joined(self) -> str:
        return "".join(self.texts)


def _widen(articles: list[dict], text_offsets, starts, ends) -> dict:
    """Every span widened to tokens, and the non-overlapping choice for doc.ents / BIO tags
    (the Batch fields span_* and ent_*)."""
    import numpy

    refs, lo, hi, counts = [], [], [], []
    for off, article in zip(text_offsets.tolist(), articles):  # noqa: B905 - text_offsets has one more
        items = article["spans"]
        refs += items
        lo += [s["start"] + off for s in items]
        hi += [s["end"] + off for s in items]
        counts.append(len(items))
    empty = numpy.zeros(0, dtype="int64")
    if not refs:
        return {"span_doc": empty, "span_first": empty, "span_last": empty, "span_refs": [],
                "ent_doc": empty, "ent_first": empty, "ent_last": empty, "ent_spans": []}
    lo_a = numpy.array(lo, dtype="int64")
    hi_a = numpy.array(hi, dtype="int64")
    firsts = numpy.searchsorted(ends, lo_a, side="right")
    lasts = numpy.searchsorted(starts, hi_a, side="left")
    doc = numpy.repeat(numpy.arange(len(articles)), counts)
    covers = firsts < lasts
    out = {"span_doc": doc[covers], "span_first": firsts[covers], "span_last": lasts[covers],
           "span_refs": refs if covers.all() else [refs[i] for i in numpy.flatnonzero(covers).tolist()]}
    # candidates: one span per distinct range (the first listed), longest first at each start;
    # the documents' ranges are disjoint, so one pass over the batch is one pass per document
    order = numpy.lexsort((numpy.arange(len(refs)), lo_a - hi_a, lo_a))
    lo_s, hi_s = lo_a[order], hi_a[order]
    distinct = numpy.ones(len(order), dtype=bool)
    distinct[1:] = (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1])
    order = order[distinct]
    lo_s, hi_s, f_s, l_s = lo_a[order], hi_a[order], firsts[order], lasts[order]
    if not ((lo_s[1:] >= hi_s[:-1]).all() and (f_s < l_s).all() and (f_s[1:] >= l_s[:-1]).all()):
        # something overlaps, in characters or in tokens: the greedy choice, one candidate at a time
        # (otherwise, the usual case, every candidate is chosen)
        chosen = []
        char_end, tok_end = -1, 0
        for k, a, b, f, la in zip(range(len(order)), lo_s.tolist(), hi_s.tolist(), f_s.tolist(), l_s.tolist(),
                                  strict=True):
            if a < char_end:  # overlaps the previous chosen range (non_overlapping)
                continue
            char_end = b
            if f < la and f >= tok_end:  # its tokens do not overlap the previous entity's
                chosen.append(k)
                tok_end = la
        order, f_s, l_s = order[chosen], f_s[chosen], l_s[chosen]
    out.update(ent_doc=doc[order], ent_first=f_s, ent_last=l_s, ent_spans=[refs[i] for i in order.tolist()])
    return out


def _analyse(articles: list[dict], keep_tokens: bool = False, orth: bool = True) -> Batch:
    import numpy

    texts = [a["text"] for a in articles]
    per_doc: list = [None] * len(articles)
    missing = []
    for i, article in enumerate(articles):
        arrays = article.get("token_arrays", False)  # decoded ahead (None: the blob does not fit)
        if arrays and (arrays[2] is not None or not orth):
            per_doc[i] = arrays
        elif arrays is not None and (blob := article.get("tokens")) is not None:
            per_doc[i] = decode_tokens(blob, len(texts[i]), orth=orth)
        if per_doc[i] is None:
            missing.append(i)
    fresh = []
    if missing:
        for i, arrays in zip(missing, tokenise([texts[i] for i in missing]), strict=True):
            per_doc[i] = arrays
            if keep_tokens:
                fresh.append((articles[i], arrays))
    n_tokens = numpy.array([len(p[0]) for p in per_doc], dtype="int64")
    token_offsets = numpy.zeros(len(articles) + 1, dtype="int64")
    numpy.cumsum(n_tokens, out=token_offsets[1:])
    text_offsets = numpy.zeros(len(articles) + 1, dtype="int64")
    numpy.cumsum([len(t) for t in texts], out=text_offsets[1:])
    if per_doc:
        lengths = numpy.concatenate([p[0] for p in per_doc]).astype("int64")
        flags = numpy.concatenate([p[1] for p in per_doc])
        orth = numpy.concatenate([p[2] for p in per_doc]) if orth else None
    else:
        lengths, flags = numpy.zeros(0, "int64"), numpy.zeros(0, "uint8")
        orth = numpy.zeros(0, "uint64") if orth else None
    spacy = (flags & SPACY_FLAG).astype(bool)
    # each document's tokens and trailing spaces cover its text, so offsets are one running sum
    step = lengths + spacy
    starts = numpy.cumsum(step) - step
    ends = starts + lengths
    return Batch(articles=articles, texts=texts, text_offsets=text_offsets, token_offsets=token_offsets,
                 starts=starts, ends=ends, is_space=(flags & SPACE).astype(bool), spacy=spacy, orth=orth,
                 sent_start=(flags & SENT).astype(bool), fresh=fresh, **_widen(articles, text_offsets, starts, ends))


def batches(
    articles: Iterable[dict], size: int = BATCH_SIZE, *, keep_tokens: bool = False, orth: bool = True
) -> Iterator[Batch]:
    """The articles tokenised (or read from their "tokens" blob) and analysed in batches of `size`.
    With `keep_tokens`, each batch's `fresh` lists the token arrays of the texts it tokenised
    (`encode_tokens(*arrays)` makes their blobs); without
    `orth`, `Batch.orth` is None (conll does not need the hashes)."""
    batch: list[dict] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= size:
            yield _analyse(batch, keep_tokens, orth)
            batch = []
    if batch:
        yield _analyse(batch, keep_tokens, orth)

"""CoNLL-style BIO: one `token<TAB>tag` per line, a blank line between sentences.

Each article starts with a `-DOCSTART-<TAB>O` line and a blank line (the CoNLL-2003 convention).
Tokens and sentences come from exporters.tokenize (spaCy's English tokenizer and the
Sentencizer's rule); whitespace tokens are left out. Tags come from non-overlapping spans
widened to whole tokens. Code points do not appear in this format, so `offsets` does not apply.

The text of a batch is assembled with numpy: every output line is a gather of UTF-8 bytes from
the joined texts and a small pool of tag strings, so no Python work is done per token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exporters.tokenize import Batch, batches

CONTENT_TYPE = "text/plain; charset=utf-8"
EXTENSION = "conll"
HEADER = "-DOCSTART-\tO\n\n"


def _utf8_offsets(joined: str, data: bytes):
    """A function mapping code-point offsets into `joined` to byte offsets into `data` (its UTF-8):
    only the non-ASCII characters are looked at."""
    import numpy

    if len(data) == len(joined):
        return lambda offsets: offsets
    raw = numpy.frombuffer(data, dtype="uint8")
    lead = numpy.flatnonzero(raw >= 0xC0)  # the first byte of each multi-byte character
    extra = (raw[lead] >= 0xC0).astype("int64") + (raw[lead] >= 0xE0) + (raw[lead] >= 0xF0)
    before = numpy.zeros(len(lead) + 1, dtype="int64")  # extra bytes before each of them
    numpy.cumsum(extra, out=before[1:])
    cp_at = lead - before[:-1]  # their code-point offsets

    def to_bytes(offsets):
        return offsets + before[numpy.searchsorted(cp_at, offsets, side="left")]

    return to_bytes


PRE = ("", "\n", "\n" + HEADER)  # what comes before a token: nothing, a sentence break, a new document


def batch_text(b: Batch) -> bytes:
    """The batch's documents in CoNLL, as UTF-8 bytes. Each visible token is two byte ranges: its
    text in the joined texts, then a piece from a small pool, its "\t<tag>\n" and what comes before
    the next token (see PRE); the output is one numpy gather of those ranges."""
    import numpy

    n = len(b.starts)
    names = ["O"]
    index: dict[str, int] = {}
    codes = numpy.zeros(n, dtype="int64")
    if b.ent_spans:
        for label in {s["label"] for s in b.ent_spans}:
            index[label] = len(names)
            names += ["B-" + label, "I-" + label]
        label_code = numpy.array([index[s["label"]] for s in b.ent_spans], dtype="int64")
        widths = b.ent_last - b.ent_first
        inside = numpy.repeat(b.ent_first - (numpy.cumsum(widths) - widths), widths) + numpy.arange(int(widths.sum()))
        codes[inside] = numpy.repeat(label_code + 1, widths)
        codes[b.ent_first] = label_code
    keep = numpy.flatnonzero(~b.is_space)
    k = len(keep)
    doc_first = numpy.searchsorted(keep, b.token_offsets[:-1])  # each document's first visible token
    if k == 0 or (doc_first >= k).any() or (keep[numpy.minimum(doc_first, k - 1)] >= b.token_offsets[1:]).any():
        # a document without a visible token
        return "".join(_slow_doc(b, d) for d in range(len(b.articles))).encode("utf-8", "surrogatepass")
    # what comes before each visible token: a sentence starting at it or at a whitespace token
    # just before it is a blank line; a document's first token gets the header
    pre = numpy.zeros(k, dtype="int64")
    after = numpy.searchsorted(keep, numpy.flatnonzero(b.sent_start), side="left")
    pre[after[(after > 0) & (after < k)]] = 1
    pre[doc_first] = 2
    joined = b.joined
    data = joined.encode("utf-8", "surrogatepass")
    to_bytes = _utf8_offsets(joined, data)
    # the pool: the joined texts, HEADER, then "\t<tag>\n" + PRE[p] for each tag and p
    pieces = [data, HEADER.encode("ascii")]
    piece_pos, piece_len, pos = [], [], len(data) + len(HEADER)
    for name in names:
        for before in PRE:
            piece = ("\t" + name + "\n" + before).encode("utf-8", "surrogatepass")
            pieces.append(piece)
            piece_pos.append(pos)
            piece_len.append(len(piece))
            pos += len(piece)
    pool = numpy.frombuffer(b"".join(pieces), dtype="uint8")
    after_piece = codes[keep] * len(PRE)
    after_piece[:-1] += pre[1:]
    tok_start = to_bytes(b.starts[keep])
    seg_start = numpy.empty(2 * k + 1, dtype="int64")
    seg_len = numpy.empty(2 * k + 1, dtype="int64")
    seg_start[0], seg_len[0] = len(data), len(HEADER)  # the batch's first document: no "\n" before it
    seg_start[1::2], seg_len[1::2] = tok_start, to_bytes(b.ends[keep]) - tok_start
    seg_start[2::2] = numpy.array(piece_pos, dtype="int64")[after_piece]
    seg_len[2::2] = numpy.array(piece_len, dtype="int64")[after_piece]
    out_at = numpy.cumsum(seg_len) - seg_len
    total = int(out_at[-1] + seg_len[-1])
    gather = numpy.repeat(seg_start - out_at, seg_len)
    gather += _counting(total)
    out = numpy.empty(total + 1, dtype="uint8")
    numpy.take(pool, gather, out=out[:total])
    out[total] = ord("\n")
    return out.tobytes()


_count = None


def _counting(n: int):
    """0, 1, ..., n - 1 (a view of one array kept between batches, never written to)."""
    import numpy

    global _count
    if _count is None or len(_count) < n:
        _count = numpy.arange(max(n, 1 << 20), dtype="int64")
        _count.flags.writeable = False
    return _count[:n]


def _slow_doc(b: Batch, d: int) -> str:
    """One document, token by token (only for a document with no visible token)."""
    lo, hi = int(b.token_offsets[d]), int(b.token_offsets[d + 1])
    tags = {}
    for dd, first, last, span in b.ents:
        if dd == d:
            tags[first] = "B-" + span["label"]
            for i in range(first + 1, last):
                tags[i] = "I-" + span["label"]
    out, seen = [HEADER], False
    joined_off = int(b.text_offsets[d])
    text = b.texts[d]
    for i in range(lo, hi):
        if b.sent_start[i] and seen and i > lo:
            out.append("\n")
            seen = False
        if b.is_space[i]:
            continue
        out.append(f"{text[b.starts[i] - joined_off:b.ends[i] - joined_off]}\t{tags.get(i, 'O')}\n")
        seen = True
    out.append("\n")
    return "".join(out)


def render(articles: Iterable[dict], *, on_tokens=None) -> Iterator[bytes]:
    """`on_tokens(batch.fresh)`, if given, receives the token arrays of the texts tokenised here."""
    for b in batches(articles, keep_tokens=on_tokens is not None, orth=False):
        if on_tokens is not None and b.fresh:
            on_tokens(b.fresh)
        yield batch_text(b)

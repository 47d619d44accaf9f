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


def batch_text(b: Batch) -> bytes:
    """The batch's documents in CoNLL, as UTF-8 bytes: every line is a gather of byte ranges from
    the joined texts and a small pool of tag strings."""
    import numpy

    n = len(b.starts)
    names = ["O"]
    index: dict[str, int] = {}
    codes = numpy.zeros(n, dtype="int64")
    if b.ents:
        label_code = numpy.empty(len(b.ents), dtype="int64")
        for k, (_d, _first, _last, span) in enumerate(b.ents):
            label = span["label"]
            code = index.get(label)
            if code is None:
                code = index[label] = len(names)
                names += ["B-" + label, "I-" + label]
            label_code[k] = code
        widths = b.ent_last - b.ent_first
        inside = numpy.repeat(b.ent_first - (numpy.cumsum(widths) - widths), widths) + numpy.arange(int(widths.sum()))
        codes[inside] = numpy.repeat(label_code + 1, widths)
        codes[b.ent_first] = label_code
    keep = numpy.flatnonzero(~b.is_space)
    # which document each kept token is in, and whether it starts its document / a sentence
    doc_of = numpy.searchsorted(b.token_offsets, keep, side="right") - 1
    first_in_doc = numpy.ones(len(keep), dtype=bool)
    first_in_doc[1:] = doc_of[1:] != doc_of[:-1]
    if len(numpy.unique(doc_of)) != len(b.articles):  # a document without a visible token
        return "".join(_slow_doc(b, d) for d in range(len(b.articles))).encode("utf-8", "surrogatepass")
    sentence = numpy.cumsum(b.sent_start)[keep]
    new_sentence = numpy.zeros(len(keep), dtype=bool)
    new_sentence[1:] = sentence[1:] != sentence[:-1]
    # the pool: joined texts, then "\n" + HEADER, then each "\t<tag>\n"; all offsets in bytes
    joined = b.joined
    data = joined.encode("utf-8", "surrogatepass")
    to_bytes = _utf8_offsets(joined, data)
    extra = "\n" + HEADER
    pieces = [data, extra.encode("ascii")]
    tag_pos, tag_len, pos = [], [], len(data) + len(extra)
    for name in names:
        piece = ("\t" + name + "\n").encode("utf-8", "surrogatepass")
        pieces.append(piece)
        tag_pos.append(pos)
        tag_len.append(len(piece))
        pos += len(piece)
    pool = numpy.frombuffer(b"".join(pieces), dtype="uint8")
    header_at = len(data)  # "\n" + HEADER; the batch's first document skips the "\n"
    pre_start = numpy.full(len(keep), header_at, dtype="int64")
    pre_len = numpy.where(first_in_doc, len(extra), new_sentence.astype("int64"))
    pre_start[0] += 1
    pre_len[0] -= 1
    kept_codes = codes[keep]
    tok_start = to_bytes(b.starts[keep])
    seg_start = numpy.empty(3 * len(keep), dtype="int64")
    seg_len = numpy.empty(3 * len(keep), dtype="int64")
    seg_start[0::3], seg_len[0::3] = pre_start, pre_len
    seg_start[1::3], seg_len[1::3] = tok_start, to_bytes(b.ends[keep]) - tok_start
    seg_start[2::3] = numpy.array(tag_pos, dtype="int64")[kept_codes]
    seg_len[2::3] = numpy.array(tag_len, dtype="int64")[kept_codes]
    used = seg_len > 0
    seg_start, seg_len = seg_start[used], seg_len[used]
    # gather indexes as a running sum: +1 inside a segment, a jump at each segment's first byte
    out_at = numpy.cumsum(seg_len) - seg_len
    total = int(seg_len.sum())
    step = numpy.ones(total, dtype="int64")
    step[out_at] = seg_start
    step[out_at[1:]] -= seg_start[:-1] + seg_len[:-1] - 1
    gather = numpy.cumsum(step)
    return pool[gather].tobytes() + b"\n"


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
    """`on_tokens(batch.fresh)`, if given, receives the token blobs of the texts tokenised here."""
    for b in batches(articles, keep_tokens=on_tokens is not None):
        if on_tokens is not None and b.fresh:
            on_tokens(b.fresh)
        yield batch_text(b)

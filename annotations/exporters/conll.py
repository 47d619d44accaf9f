"""CoNLL-style BIO: one `token<TAB>tag` per line, a blank line between sentences.

Each article starts with a `-DOCSTART-<TAB>O` line and a blank line (the CoNLL-2003 convention).
Tokens and sentences come from exporters.tokenize (spaCy's English tokenizer and the
Sentencizer's rule); whitespace tokens are left out. Tags come from non-overlapping spans
widened to whole tokens. Code points do not appear in this format, so `offsets` does not apply.

The text of a batch is assembled with numpy: every output line is a gather of code points from
the joined texts and a small pool of tag strings, so no Python work is done per token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exporters.tokenize import Batch, batches

CONTENT_TYPE = "text/plain; charset=utf-8"
EXTENSION = "conll"
HEADER = "-DOCSTART-\tO\n\n"


def _codepoints(text: str):
    import numpy

    return numpy.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="uint32")


def batch_text(b: Batch) -> str:
    import numpy

    n = len(b.starts)
    names = ["O"]
    index: dict[str, int] = {}
    codes = numpy.zeros(n, dtype="int64")
    for _d, first, last, span in b.ents:
        label = span["label"]
        if label not in index:
            index[label] = len(names)
            names += ["B-" + label, "I-" + label]
        codes[first] = index[label]
        codes[first + 1:last] = index[label] + 1
    keep = numpy.flatnonzero(~b.is_space)
    # which document each kept token is in, and whether it starts its document / a sentence
    doc_of = numpy.searchsorted(b.token_offsets, keep, side="right") - 1
    first_in_doc = numpy.ones(len(keep), dtype=bool)
    first_in_doc[1:] = doc_of[1:] != doc_of[:-1]
    if len(numpy.unique(doc_of)) != len(b.articles):  # a document without a visible token
        return "".join(_slow_doc(b, d) for d in range(len(b.articles)))
    sentence = numpy.cumsum(b.sent_start)[keep]
    new_sentence = numpy.zeros(len(keep), dtype=bool)
    new_sentence[1:] = sentence[1:] != sentence[:-1]
    # the pool: joined texts, then "\n" + HEADER, then each "\t<tag>\n"
    joined = "".join(b.texts)
    extra = "\n" + HEADER
    tag_pos, tag_len, pos = [], [], len(joined) + len(extra)
    pieces = [joined, extra]
    for name in names:
        piece = "\t" + name + "\n"
        pieces.append(piece)
        tag_pos.append(pos)
        tag_len.append(len(piece))
        pos += len(piece)
    pool = _codepoints("".join(pieces))
    header_at = len(joined)  # "\n" + HEADER; the batch's first document skips the "\n"
    pre_start = numpy.where(first_in_doc, header_at, header_at)
    pre_len = numpy.where(first_in_doc, len(extra), new_sentence.astype("int64"))
    pre_start[0] += 1
    pre_len[0] -= 1
    tag_pos_a = numpy.array(tag_pos, dtype="int64")[codes[keep]]
    tag_len_a = numpy.array(tag_len, dtype="int64")[codes[keep]]
    seg_start = numpy.empty(3 * len(keep), dtype="int64")
    seg_len = numpy.empty(3 * len(keep), dtype="int64")
    seg_start[0::3], seg_len[0::3] = pre_start, pre_len
    seg_start[1::3], seg_len[1::3] = b.starts[keep], b.ends[keep] - b.starts[keep]
    seg_start[2::3], seg_len[2::3] = tag_pos_a, tag_len_a
    out_before = numpy.cumsum(seg_len) - seg_len
    total = int(seg_len.sum())
    gather = numpy.repeat(seg_start - out_before, seg_len) + numpy.arange(total)
    return pool[gather].tobytes().decode("utf-32-le", "surrogatepass") + "\n"


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


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    for b in batches(articles):
        yield batch_text(b).encode("utf-8", "surrogatepass")

"""A `.spacy` file (spaCy's DocBin): `doc.spans` keyed by label, `doc.ents` for non-overlapping spans.

Spans are widened to whole tokens (spaCy cannot hold a span that ends inside a token) and carry
their span id (`span.id_`); relations and the article id go in `doc.user_data`
({"article_id", "offsets": "codepoint", "relations": [[from_id, to_id, type], ...]}).

A .spacy file is ONE zlib-compressed msgpack map whose header needs the sizes of all its parts,
so it cannot be streamed doc by doc. Instead of holding a DocBin for the whole project in memory
(hundreds of MB at 10k articles), `DocBinWriter` hands each batch's token rows, span groups and
user data to a `deflate.PieceDeflater`, which compresses them on another core into temporary
sections as they come; the map is then laid out from the header and those sections. Memory stays
bounded by the batch size: even the strings are written as they are met (DocBin reads them into a
set, so order and the odd duplicate do not matter). The result is a normal file that
`DocBin().from_disk()` reads.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import BinaryIO

from annotations.exporters.deflate import PieceDeflater
from annotations.exporters.tokenize import Batch, batches

CONTENT_TYPE = "application/octet-stream"
EXTENSION = "spacy"
ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE", "SENT_START"]  # sorted by attribute id, as DocBin stores them
IOB_I, IOB_O, IOB_B = 1, 2, 3
SEEN_SLOTS = 1 << 20  # the ORTH hashes whose strings are kept: 8 MB, ~1% slot sharing at 10k distinct tokens


def _map_header(n: int) -> bytes:
    return bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)


def _array_header(n: int) -> bytes:
    return b"\xdd" + struct.pack(">I", n)


def _bin_header(n: int) -> bytes:
    return b"\xc6" + struct.pack(">I", n)


@lru_cache(maxsize=1)
def _packer():
    """One srsly msgpack Packer, reused: srsly.msgpack_dumps builds a new one per call, which
    scans the encoder registry's entry points (about 2 ms a call, most of the time here)."""
    from srsly.msgpack import Packer

    return Packer(use_bin_type=True)


def pack(obj) -> bytes:
    return _packer().pack(obj)


SPAN_STRUCT = ">QQQllll"  # what SpanGroup.to_bytes packs per span: id, kb_id, label, start, end, start_char, end_char
EMPTY_GROUPS = pack([])  # SpanGroups._EMPTY_BYTES


@lru_cache(maxsize=1)
def _span_record():
    """One span as msgpack's `bin 8` (header, size) holding SPAN_STRUCT: a numpy record, so a batch's
    spans are packed in one go."""
    import numpy

    dtype = numpy.dtype([("bin", "u1"), ("size", "u1"), ("id", ">u8"), ("kb", ">u8"), ("label", ">u8"),
                         ("first", ">i4"), ("last", ">i4"), ("start", ">i4"), ("end", ">i4")])
    assert dtype.itemsize == 2 + struct.calcsize(SPAN_STRUCT)
    return dtype


def span_group_rows(b: Batch, strings: list[str]) -> list[bytes]:
    """Each document's `doc.spans.to_bytes()`: one SpanGroup per label (labels in name order, spans
    in offset order), without Span objects; the spans of the whole batch are packed with numpy.

    The strings (labels, span ids) are appended to `strings` and hashed without entering the process's
    StringStore (which would keep every span id of every export for the worker's lifetime)."""
    import numpy
    from spacy.strings import hash_string

    refs = b.span_refs
    if not refs:
        return [pack(EMPTY_GROUPS)] * len(b.articles)
    labels = [s["label"] for s in refs]
    names = sorted(set(labels))
    strings += names
    code_of = {name: i for i, name in enumerate(names)}
    codes = numpy.array([code_of[label] for label in labels], dtype="int64")
    ids = [str(s["id"]) for s in refs]
    strings += ids
    doc = b.span_doc
    rec = numpy.empty(len(refs), dtype=_span_record())
    rec["bin"], rec["size"], rec["kb"] = 0xC4, struct.calcsize(SPAN_STRUCT), 0
    rec["id"] = numpy.array([hash_string(i) for i in ids], dtype="uint64")
    rec["label"] = numpy.array([hash_string(name) for name in names], dtype="uint64")[codes]
    t0, c0 = b.token_offsets[doc], b.text_offsets[doc]
    rec["first"], rec["last"] = b.span_first - t0, b.span_last - t0
    rec["start"], rec["end"] = b.starts[b.span_first] - c0, b.ends[b.span_last - 1] - c0
    order = numpy.lexsort((codes, doc))  # stable: by document, then label; spans keep their order
    raw, size = rec[order].tobytes(), rec.itemsize
    doc, codes = doc[order], codes[order]
    cut = numpy.flatnonzero((doc[1:] != doc[:-1]) | (codes[1:] != codes[:-1])) + 1
    lo = numpy.concatenate(([0], cut))
    hi = numpy.append(cut, len(order))
    # a group is {"name": label, "attrs": {}, "spans": [...]} packed, as the key of [label]
    heads = [_map_header(3) + pack("name") + pack(name) + pack("attrs") + pack({}) + pack("spans") for name in names]
    keys = [pack([name]) for name in names]
    per_doc: list[list[bytes]] = [[] for _ in b.articles]
    for d, c, a, z in zip(doc[lo].tolist(), codes[lo].tolist(), lo.tolist(), hi.tolist(), strict=True):
        per_doc[d].append(pack(heads[c] + _array_header(z - a) + raw[a * size:z * size]) + keys[c])
    return [pack(_map_header(len(groups)) + b"".join(groups) if groups else EMPTY_GROUPS) for groups in per_doc]


class DocBinWriter:
    """Write a DocBin-compatible .spacy file with bounded memory (see the module docstring)."""

    def __init__(self, attrs=ATTRS):
        import numpy
        from spacy.attrs import ORTH as _ORTH
        from spacy.attrs import SPACY, intify_attr

        ints = sorted(intify_attr(a) for a in attrs)
        self.attrs = [_ORTH] + [a for a in ints if a not in (_ORTH, SPACY)]
        assert len(self.attrs) == 4, "doc_arrays builds exactly these columns"
        self._out = PieceDeflater(["tokens", "spaces", "strings", "spans", "user"])
        self.lengths = array("i")
        self.n_strings = 0  # written to the "strings" section (a string may be there twice: DocBin keeps a set)
        self._seen = numpy.zeros(SEEN_SLOTS, dtype="uint64")  # see _add_token_strings
        self.count = 0

    def add_batch(self, b: Batch) -> None:
        """Append a tokenised batch: token rows for all its docs at once, then per-doc span groups
        and user data (doc.ents and sentence starts go straight into the token rows)."""
        import numpy
        from spacy.strings import hash_string

        n = len(b.starts)
        tokens = numpy.zeros((n, 4), dtype="uint64")  # ORTH, ENT_IOB, ENT_TYPE, SENT_START (attr id order)
        tokens[:, 0] = b.orth
        tokens[:, 1] = IOB_O
        if b.ent_spans:
            hashes = {label: hash_string(label) for label in {s["label"] for s in b.ent_spans}}
            label_hash = numpy.array([hashes[s["label"]] for s in b.ent_spans], dtype="uint64")
            widths = b.ent_last - b.ent_first
            inside = (numpy.repeat(b.ent_first - (numpy.cumsum(widths) - widths), widths)
                      + numpy.arange(int(widths.sum())))
            tokens[inside, 1] = IOB_I
            tokens[inside, 2] = numpy.repeat(label_hash, widths)
            tokens[b.ent_first, 1] = IOB_B
        tokens[:, 3] = numpy.where(b.sent_start, numpy.uint64(1), numpy.uint64(2**64 - 1))  # -1: not a start
        self._out.add("tokens", tokens)  # C order, as DocBin's tobytes("C")
        self._out.add("spaces", b.spacy.tobytes("C"))
        self.lengths.extend(numpy.diff(b.token_offsets).tolist())
        strings = self._token_strings(b)
        span_rows = span_group_rows(b, strings)
        self._out.add("strings", b"".join(pack(s) for s in strings))
        self.n_strings += len(strings)
        user_rows = []
        for article in b.articles:
            user_data = {"article_id": article["id"], "offsets": "codepoint",
                         "relations": [[str(r["from"]), str(r["to"]), r["type"]] for r in article["relations"]]}
            user_rows.append(pack(pack(user_data)))
        self._out.add("spans", b"".join(span_rows))
        self._out.add("user", b"".join(user_rows))
        self.count += len(b.articles)

    def _token_strings(self, b: Batch) -> list[str]:
        """The strings of the batch's ORTH hashes not seen before (read from the text: a token's
        ORTH is its text, and cached tokens never went through this process's vocabulary).

        "Seen" is a direct-mapped table of hashes (slot: the hash's low bits): a token whose slot
        holds its own hash had its string added already. Every other token is a candidate (new, or
        sharing a slot with another hash); candidates' strings are returned (rarely one seen before:
        harmless) and their hashes written to their slots. Two numpy gathers per batch instead of a
        search, and no set of strings that grows with the export."""
        import numpy

        slots = (b.orth & numpy.uint64(SEEN_SLOTS - 1)).astype("int64")
        candidates = numpy.flatnonzero(self._seen[slots] != b.orth)
        if not len(candidates):
            return []
        hashes, first = numpy.unique(b.orth[candidates], return_index=True)
        at = candidates[first]
        joined = b.joined
        self._seen[slots[at]] = hashes
        return [joined[i:j] for i, j in zip(b.starts[at].tolist(), b.ends[at].tolist(), strict=True)]

    def chunks(self) -> Iterator[bytes]:
        """The file, in blocks: the map's keys and small values around the compressed sections."""
        n = self.count
        out = self._out
        yield from out.stream([
            _map_header(10) + pack("version") + pack("0.1") + pack("attrs") + pack(self.attrs)
            + pack("tokens") + _bin_header(out.size("tokens")),
            "tokens",
            pack("spaces") + _bin_header(out.size("spaces")),
            "spaces",
            pack("lengths") + pack(self.lengths.tobytes())
            + pack("strings") + _array_header(self.n_strings),
            "strings",
            pack("cats") + _array_header(n) + pack({}) * n
            + pack("flags") + _array_header(n) + pack({"has_unknown_spaces": False}) * n
            + pack("span_groups") + _array_header(n),
            "spans",
            pack("user_data") + _array_header(n),
            "user",
        ])

    def finish(self, out: BinaryIO) -> None:
        try:
            for block in self.chunks():
                out.write(block)
        finally:
            self.close()

    def close(self) -> None:
        self._out.close()


def _fill(writer: DocBinWriter, articles: Iterable[dict], on_tokens) -> None:
    for batch in batches(articles, keep_tokens=on_tokens is not None):
        if on_tokens is not None and batch.fresh:
            on_tokens(batch.fresh)
        writer.add_batch(batch)


def write(articles: Iterable[dict], out: BinaryIO, *, on_tokens=None) -> int:
    """Write the .spacy file for `articles` to `out`; return the number of docs.
    `on_tokens(batch.fresh)`, if given, receives the token arrays of the texts tokenised here."""
    writer = DocBinWriter()
    try:
        _fill(writer, articles, on_tokens)
        writer.finish(out)
    finally:
        writer.close()
    return writer.count


def render(articles: Iterable[dict], *, on_tokens=None) -> Iterator[bytes]:
    """The file's bytes, in blocks (the first once every article has been read)."""
    writer = DocBinWriter()
    try:
        _fill(writer, articles, on_tokens)
        yield from writer.chunks()
    finally:
        writer.close()

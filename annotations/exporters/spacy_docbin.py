"""A `.spacy` file (spaCy's DocBin): `doc.spans` keyed by label, `doc.ents` for non-overlapping spans.

Spans are widened to whole tokens (spaCy cannot hold a span that ends inside a token) and carry
their span id (`span.id_`); relations and the article id go in `doc.user_data`
({"article_id", "offsets": "codepoint", "relations": [[from_id, to_id, type], ...]}).

A .spacy file is ONE zlib-compressed msgpack map, so it cannot be streamed doc by doc. Instead of
holding a DocBin for the whole project in memory (hundreds of MB at 10k articles), `DocBinWriter`
spills each chunk's token arrays to temporary files and then writes the map in one compressed
pass: memory stays bounded by the chunk size and the vocabulary. The result is a normal file that
`DocBin().from_disk()` reads; the API serves it with a FileResponse once it is written.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import BinaryIO

from annotations.exporters.tokenize import Batch, batches

CONTENT_TYPE = "application/octet-stream"
EXTENSION = "spacy"
ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE", "SENT_START"]  # sorted by attribute id, as DocBin stores them
IOB_I, IOB_O, IOB_B = 1, 2, 3
COPY_BLOCK = 1024 * 1024


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


def span_groups_bytes(groups: dict[str, list[tuple]]) -> bytes:
    """What `doc.spans.to_bytes()` writes (SpanGroups of SpanGroup), without building Span objects.

    `groups` maps a label to [(span id, first token, last token, start char, end char)]. The
    strings are hashed without entering the process's StringStore (which would keep every span id
    of every export for the worker's lifetime); the file carries them in its own strings."""
    from spacy.strings import hash_string

    if not groups:
        return pack([])
    msg = {}
    for label, items in groups.items():
        label_hash = hash_string(label)
        spans = [struct.pack(">QQQllll", hash_string(str(sid)), 0, label_hash, first, last, sc, ec)
                 for sid, first, last, sc, ec in items]
        msg[pack({"name": label, "attrs": {}, "spans": spans})] = [label]
    return pack(msg)


class DocBinWriter:
    """Write a DocBin-compatible .spacy file with bounded memory (see the module docstring)."""

    def __init__(self, attrs=ATTRS):
        from spacy.attrs import ORTH as _ORTH
        from spacy.attrs import SPACY, intify_attr

        ints = sorted(intify_attr(a) for a in attrs)
        self.attrs = [_ORTH] + [a for a in ints if a not in (_ORTH, SPACY)]
        assert len(self.attrs) == 4, "doc_arrays builds exactly these columns"
        self._spacy = SPACY
        self._tmp = {k: tempfile.TemporaryFile() for k in ("tokens", "spaces", "spans", "user")}  # noqa: SIM115
        self.lengths = array("i")
        self.strings: set[str] = set()
        self._known: set[int] = set()  # ORTH hashes whose strings are in self.strings
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
        self._tmp["tokens"].write(tokens.tobytes("C"))
        self._tmp["spaces"].write(b.spacy.tobytes("C"))
        self.lengths.extend(numpy.diff(b.token_offsets).tolist())
        self._add_token_strings(b)
        groups: list[dict[str, list]] = [{} for _ in b.articles]
        # each span's tokens and characters relative to its document
        t0, c0 = b.token_offsets[b.span_doc], b.text_offsets[b.span_doc]
        columns = (b.span_doc.tolist(), (b.span_first - t0).tolist(), (b.span_last - t0).tolist(),
                   (b.starts[b.span_first] - c0).tolist(), (b.ends[b.span_last - 1] - c0).tolist(), b.span_refs)
        for d, first, last, start, end, span in zip(*columns, strict=True):
            groups[d].setdefault(span["label"], []).append((span["id"], first, last, start, end))
        span_rows, user_rows = [], []
        for article, doc_groups in zip(b.articles, groups, strict=True):
            for label, items in doc_groups.items():
                self.strings.add(label)
                self.strings.update(str(item[0]) for item in items)
            span_rows.append(pack(span_groups_bytes(doc_groups)))
            user_data = {"article_id": article["id"], "offsets": "codepoint",
                         "relations": [[str(r["from"]), str(r["to"]), r["type"]] for r in article["relations"]]}
            user_rows.append(pack(pack(user_data)))
        self._tmp["spans"].write(b"".join(span_rows))
        self._tmp["user"].write(b"".join(user_rows))
        self.count += len(b.articles)

    def _add_token_strings(self, b: Batch) -> None:
        """The strings of the batch's ORTH hashes not seen before (read from the text: a token's
        ORTH is its text, and cached tokens never went through this process's vocabulary)."""
        import numpy

        from annotations.exporters.tokenize import in_sorted

        known = self._known
        new = [h for h in numpy.unique(b.orth).tolist() if h not in known]
        if not new:
            return
        where = numpy.flatnonzero(in_sorted(b.orth, numpy.sort(numpy.array(new, dtype="uint64"))))  # their tokens
        _, first = numpy.unique(b.orth[where], return_index=True)
        joined, starts, ends = b.joined, b.starts, b.ends
        for i in where[first].tolist():
            self.strings.add(joined[starts[i]:ends[i]])
        known.update(new)

    def _copy(self, name: str, sink) -> None:
        f = self._tmp[name]
        f.seek(0)
        while block := f.read(COPY_BLOCK):
            sink(block)

    def _size(self, name: str) -> int:
        f = self._tmp[name]
        f.seek(0, 2)
        return f.tell()

    def finish(self, out: BinaryIO) -> None:
        z = zlib.compressobj(1)
        pending: list[bytes] = []
        size = 0

        def sink(data: bytes) -> None:  # small pieces are compressed together
            nonlocal size
            pending.append(data)
            size += len(data)
            if size >= COPY_BLOCK:
                out.write(z.compress(b"".join(pending)))
                pending.clear()
                size = 0

        def key(name: str) -> None:
            sink(pack(name))

        n = self.count
        sink(_map_header(10))
        key("version")
        sink(pack("0.1"))
        key("attrs")
        sink(pack(self.attrs))
        key("tokens")
        sink(_bin_header(self._size("tokens")))
        self._copy("tokens", sink)
        key("spaces")
        sink(_bin_header(self._size("spaces")))
        self._copy("spaces", sink)
        key("lengths")
        sink(pack(self.lengths.tobytes()))
        key("strings")
        sink(_array_header(len(self.strings)))
        sink(b"".join(pack(s) for s in sorted(self.strings)))
        key("cats")
        sink(_array_header(n) + pack({}) * n)
        key("flags")
        sink(_array_header(n) + pack({"has_unknown_spaces": False}) * n)
        key("span_groups")
        sink(_array_header(n))
        self._copy("spans", sink)
        key("user_data")
        sink(_array_header(n))
        self._copy("user", sink)
        out.write(z.compress(b"".join(pending)))
        out.write(z.flush())
        self.close()

    def close(self) -> None:
        for f in self._tmp.values():
            f.close()


def write(articles: Iterable[dict], out: BinaryIO, *, on_tokens=None) -> int:
    """Write the .spacy file for `articles` to `out`; return the number of docs.
    `on_tokens(batch.fresh)`, if given, receives the token arrays of the texts tokenised here."""
    writer = DocBinWriter()
    try:
        for batch in batches(articles, keep_tokens=on_tokens is not None):
            if on_tokens is not None and batch.fresh:
                on_tokens(batch.fresh)
            writer.add_batch(batch)
        count = writer.count
        writer.finish(out)
    finally:
        writer.close()
    return count


def render(articles: Iterable[dict], *, on_tokens=None) -> Iterator[bytes]:
    """The file's bytes, in blocks, after it has been written to a temporary file."""
    with tempfile.TemporaryFile() as tmp:
        write(articles, tmp, on_tokens=on_tokens)
        tmp.seek(0)
        while block := tmp.read(COPY_BLOCK):
            yield block

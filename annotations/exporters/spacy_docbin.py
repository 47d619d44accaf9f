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
from typing import BinaryIO

from annotations.exporters.tokenize import docs, entity_spans, token_span

CONTENT_TYPE = "application/octet-stream"
EXTENSION = "spacy"
ATTRS = ["ORTH", "SENT_START", "ENT_IOB", "ENT_TYPE"]
COPY_BLOCK = 1024 * 1024


def _map_header(n: int) -> bytes:
    return bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)


def _array_header(n: int) -> bytes:
    return b"\xdd" + struct.pack(">I", n)


def _bin_header(n: int) -> bytes:
    return b"\xc6" + struct.pack(">I", n)


def build_doc(doc, article: dict):
    """Set doc.spans (one group per label), doc.ents and user_data from the article's spans."""
    groups: dict[str, list] = {}
    for s in article["spans"]:
        span = token_span(doc, s)
        if span is not None and len(span):
            groups.setdefault(s["label"], []).append(span)
    for label, spans in groups.items():
        doc.spans[label] = spans
    doc.ents = entity_spans(doc, article["spans"])
    doc.user_data["article_id"] = article["id"]
    doc.user_data["offsets"] = "codepoint"
    doc.user_data["relations"] = [[str(r["from"]), str(r["to"]), r["type"]] for r in article["relations"]]
    return doc


class DocBinWriter:
    """Write a DocBin-compatible .spacy file with bounded memory (see the module docstring)."""

    def __init__(self, attrs=ATTRS):
        from spacy.attrs import ORTH as _ORTH
        from spacy.attrs import SPACY, intify_attr

        ints = sorted(intify_attr(a) for a in attrs)
        self.attrs = [_ORTH] + [a for a in ints if a not in (_ORTH, SPACY)]
        self._spacy = SPACY
        self._tmp = {k: tempfile.TemporaryFile() for k in ("tokens", "spaces", "spans", "user")}  # noqa: SIM115
        self.lengths = array("i")
        self.strings: set[str] = set()
        self.count = 0

    def add(self, doc) -> None:
        import numpy
        import srsly

        tokens = doc.to_array(self.attrs)
        if tokens.ndim == 1:
            tokens = tokens.reshape((tokens.shape[0], 1))
        spaces = numpy.asarray(doc.to_array(self._spacy), dtype=bool)
        self._tmp["tokens"].write(numpy.ascontiguousarray(tokens, dtype="uint64").tobytes("C"))
        self._tmp["spaces"].write(spaces.tobytes("C"))
        self.lengths.append(len(doc))
        strings = doc.vocab.strings
        self.strings.update(strings[int(h)] for h in numpy.unique(tokens[:, 0]))
        for ent in doc.ents:
            self.strings.add(ent.label_)
        for group in doc.spans.values():
            for span in group:
                self.strings.add(span.label_)
                self.strings.add(span.id_)
        self._tmp["spans"].write(srsly.msgpack_dumps(doc.spans.to_bytes()))
        self._tmp["user"].write(srsly.msgpack_dumps(srsly.msgpack_dumps(doc.user_data)))
        self.count += 1

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
        import srsly

        z = zlib.compressobj(1)

        def sink(data: bytes) -> None:
            out.write(z.compress(data))

        def key(name: str) -> None:
            sink(srsly.msgpack_dumps(name))

        pack = srsly.msgpack_dumps
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
        for s in sorted(self.strings):
            sink(pack(s))
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
        out.write(z.flush())
        self.close()

    def close(self) -> None:
        for f in self._tmp.values():
            f.close()


def write(articles: Iterable[dict], out: BinaryIO) -> int:
    """Write the .spacy file for `articles` to `out`; return the number of docs."""
    writer = DocBinWriter()
    try:
        for doc, article in docs(articles):
            writer.add(build_doc(doc, article))
        count = writer.count
        writer.finish(out)
    finally:
        writer.close()
    return count


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    """The file's bytes, in blocks, after it has been written to a temporary file."""
    with tempfile.TemporaryFile() as tmp:
        write(articles, tmp)
        tmp.seek(0)
        while block := tmp.read(COPY_BLOCK):
            yield block

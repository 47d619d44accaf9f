"""exporters.deflate: pieces compressed apart, in the background, laid out in any order, are one
valid zlib stream with the right checksum. No database."""

import os
import zlib

import numpy
import pytest

from annotations.exporters.deflate import PieceDeflater, adler32_combine


@pytest.mark.parametrize("sizes", [(0, 5), (1, 1), (70000, 3), (5, 200000), (65521, 65521)])
def test_adler32_combine_matches_zlib(sizes):
    a, b = os.urandom(sizes[0]), os.urandom(sizes[1])
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


def test_sections_and_loose_bytes_make_one_stream_in_the_given_order():
    d = PieceDeflater(["a", "b"])
    try:
        pieces_a = [os.urandom(1000), b"x" * 300000, b""]
        array = numpy.arange(50000, dtype="uint64")  # any C-contiguous buffer, counted in bytes
        for p in pieces_a:
            d.add("a", p)
        d.add("b", array)
        assert d.size("a") == 301000 and d.size("b") == array.nbytes
        data = b"".join(d.stream([b"head", "b", b"", b"middle", "a", b"tail"]))
    finally:
        d.close()
    assert zlib.decompress(data) == b"head" + array.tobytes() + b"middle" + b"".join(pieces_a) + b"tail"


def test_an_error_on_the_thread_is_raised_to_the_producer():
    d = PieceDeflater(["a"])
    try:
        d.add("a", b"ok")
        d._q.put(("missing", memoryview(b"boom")))  # a section that does not exist fails on the thread
        with pytest.raises(KeyError):
            d.drain()
        with pytest.raises(KeyError):
            d.add("a", b"more")
    finally:
        d.close()
    assert not d._thread.is_alive()

"""exports.prefetched: read-ahead in a thread (used by the token formats outside a transaction)."""

import threading

import pytest

from annotations.services.exports import prefetched


def test_reads_ahead_in_another_thread_in_order():
    seen = set()

    def items():
        for i in range(1000):
            seen.add(threading.current_thread().name)
            yield i

    assert list(prefetched(items(), batch=7, depth=2)) == list(range(1000))
    assert seen == {"export-prefetch"}


def test_raises_the_threads_error():
    def failing():
        yield 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        list(prefetched(failing(), batch=1))


def test_leaving_early_stops_the_thread():
    it = prefetched(iter(range(10**6)), batch=10, depth=1)
    assert next(it) == 0
    it.close()
    assert not any(t.name == "export-prefetch" for t in threading.enumerate())


@pytest.mark.django_db
def test_inside_a_transaction_nothing_is_read_ahead():
    seen = set()

    def items():
        seen.add(threading.current_thread().name)
        yield 1

    assert list(prefetched(items())) == [1]
    assert seen == {threading.current_thread().name}

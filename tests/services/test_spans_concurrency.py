"""Concurrent saves on one layer, against PostgreSQL with real threads and connections:
one wins, the other gets a conflict; a lock held elsewhere gives a bounded wait and BusyError."""

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction
from django.urls import reverse

from annotations.models import Assignment, Span
from annotations.services.errors import BusyError, ConflictError
from annotations.services.spans import span_create
from annotations.services.workflow import assignment_next
from tests.support.factories import make_article
from tests.support.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TEXT = "The mayor said the bridge will reopen in May, officials confirmed."


@pytest.fixture
def work(project, annotator):
    require_postgres()
    make_article(project, text=TEXT)
    return assignment_next(user=annotator)


def in_thread(fn, results, key, barrier=None):
    def run():
        try:
            if barrier:
                barrier.wait()
            results[key] = fn()
        except Exception as exc:  # collected and asserted by the test
            results[key] = exc
        finally:
            connection.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def test_two_saves_of_the_same_version_one_wins_one_conflicts(work, annotator):
    version = work.version
    barrier = threading.Barrier(2)
    results = {}
    spans = {"a": ("CLAIM", TEXT.index("the bridge"), TEXT.index("the bridge") + len("the bridge will reopen")),
             "b": ("SOURCE", TEXT.index("mayor"), TEXT.index("mayor") + len("mayor"))}
    threads = [
        in_thread(lambda k=k: span_create(assignment_id=work.id, user=annotator, label=spans[k][0],
                                          start=spans[k][1], end=spans[k][2], text=TEXT[spans[k][1]:spans[k][2]],
                                          expected_version=version), results, k, barrier)
        for k in ("a", "b")
    ]
    for t in threads:
        t.join(10)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["ConflictError", "Result"], results
    winner = next(r for r in results.values() if not isinstance(r, Exception))
    loser = next(r for r in results.values() if isinstance(r, ConflictError))
    assert winner.version == version + 1 == loser.current_version
    assert Span.objects.filter(assignment=work).count() == 1
    assert Assignment.objects.get(id=work.id).version == version + 1


def hold_lock(assignment_id, locked: threading.Event, release: threading.Event):
    def run():
        try:
            with transaction.atomic():
                Assignment.objects.select_for_update().get(id=assignment_id)
                locked.set()
                release.wait(15)
        finally:
            connection.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def test_lock_held_elsewhere_gives_bounded_wait_and_busy_error(work, annotator, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "LOCK_TIMEOUT_MS": 300}
    locked, release = threading.Event(), threading.Event()
    holder = hold_lock(work.id, locked, release)
    try:
        assert locked.wait(10)
        t0 = time.monotonic()
        with pytest.raises(BusyError, match="try again"):
            span_create(assignment_id=work.id, user=annotator, label="SOURCE", start=4, end=9, text="mayor",
                        expected_version=work.version)
        waited = time.monotonic() - t0
        assert 0.25 <= waited < 2.0
    finally:
        release.set()
        holder.join(10)
    close_old_connections()
    # once the lock is gone the same save goes through
    result = span_create(assignment_id=work.id, user=annotator, label="SOURCE", start=4, end=9, text="mayor",
                         expected_version=work.version)
    assert result.version == work.version + 1


def test_api_answers_503_with_retry_after_while_locked(work, annotator, api_client, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "LOCK_TIMEOUT_MS": 200}
    locked, release = threading.Event(), threading.Event()
    holder = hold_lock(work.id, locked, release)
    try:
        assert locked.wait(10)
        api_client.force_authenticate(annotator)
        resp = api_client.post(reverse("api:assignment-spans", args=[work.id]),
                               {"label": "SOURCE", "start": 4, "end": 9, "text": "mayor",
                                "expected_version": work.version}, format="json")
        assert resp.status_code == 503
        assert resp["Retry-After"]
        assert "try again" in resp.json()["detail"]
    finally:
        release.set()
        holder.join(10)
    assert not Span.objects.filter(assignment=work).exists()
    assert Assignment.objects.get(id=work.id).version == work.version

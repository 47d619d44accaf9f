"""Bulk enqueue: one message per batch of a project's jobs, and the worker claims exactly that batch."""

import pytest
from django.utils import timezone

from annotations.models import JobStatus, PreannotationJob
from annotations.services.preannotation import preannotation_jobs_create_bulk, preannotation_run
from tests.support.factories import make_article


@pytest.fixture
def messages(monkeypatch):
    """What would be published (the broker itself is exercised with a real worker in tests/worker/)."""
    sent = []

    class Producer:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr("annotations.tasks.preannotate_article.app.producer_or_acquire", lambda: Producer())
    monkeypatch.setattr("annotations.tasks.preannotate_article.apply_async", lambda args, **kw: sent.append(args))
    return sent


def _jobs(project, n):
    articles = [make_article(project, text=f"Officials said {i} people died in town number {i}.") for i in range(n)]
    return preannotation_jobs_create_bulk(articles=articles)


def test_one_message_per_batch_and_each_message_claims_its_batch(
    project, messages, settings, django_capture_on_commit_callbacks
):
    settings.NEWSROOM = {**settings.NEWSROOM, "PREANNOTATION_BATCH_SIZE": 8}
    with django_capture_on_commit_callbacks(execute=True):
        jobs = _jobs(project, 20)
    ids = sorted(j.id for j in jobs)
    assert [len([head, *rest]) for head, rest in messages] == [8, 8, 4]
    assert sorted(i for head, rest in messages for i in [head, *rest]) == ids
    assert not PreannotationJob.objects.filter(id__in=ids, enqueued_at__isnull=True).exists()
    # Run the messages last first: each takes its own batch before any other queued job (the last,
    # short one then fills up with the lowest ids), so after a message ran no job it names is waiting.
    for head, rest in reversed(messages):
        preannotation_run(job_id=head, delivery=f"d{head}", more=rest)
        waiting = PreannotationJob.objects.filter(id__in=[head, *rest]).exclude(status=JobStatus.DONE)
        assert not waiting.exists()
    assert set(PreannotationJob.objects.filter(id__in=ids).values_list("status", flat=True)) == {JobStatus.DONE}


def test_next_job_of_the_batch_leads_when_the_head_was_taken(project, messages, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "PREANNOTATION_BATCH_SIZE": 4}
    jobs = sorted(_jobs(project, 4), key=lambda j: j.id)
    head, rest = jobs[0].id, [j.id for j in jobs[1:]]
    # Another worker holds the head right now (e.g. the sweeper re-sent it and that copy was faster).
    PreannotationJob.objects.filter(id=head).update(status=JobStatus.RUNNING, claim="other", started_at=timezone.now())
    done = preannotation_run(job_id=head, delivery="this-message", more=rest)
    assert sorted(j.id for j in done) == rest
    assert PreannotationJob.objects.get(id=head).claim == "other"

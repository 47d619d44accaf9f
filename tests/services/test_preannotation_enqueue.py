"""Saving an article queues exactly one pre-annotation job, sent only after the commit."""

import pytest
from django.db import transaction

from annotations.models import JobStatus, PreannotationJob
from annotations.services.articles import article_create


@pytest.fixture
def sent(monkeypatch):
    """Record what would be handed to the broker (the broker itself is tested with a real worker)."""
    calls = []
    monkeypatch.setattr("annotations.tasks.preannotate_article.delay", lambda job_id: calls.append(job_id))
    return calls


def test_article_create_enqueues_one_job_after_commit(project, editor, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article = article_create(project=project, text="Officials said 42 people died.", created_by=editor)
        assert sent == []  # nothing sent before the commit
    job = PreannotationJob.objects.get(article=article)
    assert len(callbacks) == 1
    assert sent == [job.id]
    assert job.status == JobStatus.QUEUED and job.text_hash == article.text_hash
    assert job.enqueued_at is not None


@pytest.mark.django_db(transaction=True)
def test_rollback_sends_nothing(project, editor, sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        article_create(project=project, text="Officials said 42 people died.", created_by=editor)
        raise RuntimeError("the request failed after saving")
    assert sent == []
    assert not PreannotationJob.objects.exists()


def test_second_request_while_queued_reuses_the_job(project, editor, sent, django_capture_on_commit_callbacks):
    from annotations.services.preannotation import preannotation_job_create

    with django_capture_on_commit_callbacks(execute=True):
        article = article_create(project=project, text="Officials said 42 people died.", created_by=editor)
        again = preannotation_job_create(article=article)
    assert PreannotationJob.objects.filter(article=article).count() == 1
    assert sent == [again.id]

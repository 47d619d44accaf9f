"""Delivery of import and export jobs (services/jobs.py): one claim per job, a redelivered message
takes its job back, a duplicate never runs it twice, the sweeper re-sends lost jobs and fails
abandoned ones. (tests/worker/test_worker_faults.py runs these against a real worker and Redis.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import ExportJob, ImportJob, JobStatus
from annotations.services.jobs import delivered_jobs_sweep, job_claim

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [ImportJob, ExportJob])
def test_one_claim_per_job_and_the_same_delivery_takes_it_back(project, model):
    job = model.objects.create(project=project, **({"format": "jsonl", "name": "v1"} if model is ExportJob else {}))
    first = job_claim(model, job_id=job.id, delivery="message-a")
    assert first is not None and first.status == JobStatus.RUNNING and first.claim == "message-a"
    assert job_claim(model, job_id=job.id, delivery="message-b") is None  # a duplicate message: nothing to do
    again = job_claim(model, job_id=job.id, delivery="message-a")  # its worker died; the message came back
    assert again is not None and again.claim == "message-a"
    model.objects.filter(id=job.id).update(status=JobStatus.DONE)
    assert job_claim(model, job_id=job.id, delivery="message-a") is None  # finished jobs never run again
    assert job_claim(model, job_id=987654, delivery="x") is None


def test_sweep_fails_abandoned_jobs_with_the_reason_and_resends_lost_ones(project, monkeypatch):
    sent = []
    from annotations import tasks

    monkeypatch.setattr(tasks.run_import_job, "delay", lambda job_id: sent.append(job_id))
    lost = ImportJob.objects.create(project=project)  # its message never reached the broker
    recent = ImportJob.objects.create(project=project, enqueued_at=timezone.now())  # sent a moment ago
    abandoned = ImportJob.objects.create(project=project, status=JobStatus.RUNNING, claim="m",
                                         started_at=timezone.now() - timedelta(hours=3))
    result = delivered_jobs_sweep(ImportJob)
    assert sent == [lost.id] and result == {"resent": 1, "unsent": 0, "failed_stale": 1}
    lost.refresh_from_db()
    abandoned.refresh_from_db()
    assert lost.enqueued_at is not None and lost.status == JobStatus.QUEUED
    assert abandoned.status == JobStatus.FAILED and "stopped" in abandoned.error and abandoned.finished_at
    assert ImportJob.objects.get(id=recent.id).status == JobStatus.QUEUED
    assert delivered_jobs_sweep(ImportJob) == {"resent": 0, "unsent": 0, "failed_stale": 0}  # once per interval


def test_export_version_names_are_unique_in_the_database(project):
    from django.db import IntegrityError, transaction

    ExportJob.objects.create(project=project, format="jsonl", name="march")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(project=project, format="csv", name="march")
    ExportJob.objects.create(project=project, format="csv", name="")  # a moment before its default name
    ExportJob.objects.create(project=project, format="csv", name="")

"""Delivery of worker jobs whose broker message can be lost: imports and exports.

The job row is the truth; the broker only delivers it (the same contract as pre-annotation jobs,
services/preannotation.py, which have their own batching on top):

* `job_send` publishes the job's message and records when (`enqueued_at`). A broker that is down
  leaves the row QUEUED with no `enqueued_at`; nothing is lost.
* `job_claim` is the worker's first step: under the row lock a QUEUED job becomes RUNNING with the
  delivery's id as its claim. The same message delivered again (its worker died: acks_late +
  reject_on_worker_lost) takes the job back; any other delivery of a RUNNING job finds nothing to
  do, so a duplicate message never runs a job twice at once. A job that is DONE or FAILED is never
  run again.
* `jobs_sweep` (Celery beat, and the `sweep_jobs` command) sends QUEUED jobs again when they were
  never sent or sent longer than REQUEUE_AFTER ago, and fails RUNNING jobs whose worker has been
  gone longer than any task may run, with the reason, so nobody waits for them forever.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import ExportJob, ImportJob, JobStatus
from annotations.services.preannotation import requeue_after, stale_running  # one setting for every kind of job

log = logging.getLogger(__name__)


def _task_for(model):
    from annotations import tasks

    return {ImportJob: tasks.run_import_job, ExportJob: tasks.export_run}[model]


def job_send(model, job_id: int) -> bool:
    """Publish the job's message (call after the job row is committed). False if the broker is
    unreachable: the job stays QUEUED and the sweeper sends it later."""
    try:
        _task_for(model).delay(job_id)
    except Exception:
        log.warning("could not send %s %s; it stays queued for the sweeper", model.__name__, job_id, exc_info=True)
        return False
    model.objects.filter(id=job_id, status=JobStatus.QUEUED).update(enqueued_at=timezone.now())
    return True


def job_claim(model, *, job_id: int, delivery: str = ""):
    """Take the job for this delivery: returns the RUNNING job, or None when there is nothing for
    this delivery to do (no such job, finished, or running under another delivery)."""
    with transaction.atomic():
        job = model.objects.select_for_update(of=("self",)).filter(id=job_id).first()
        if job is None:
            return None
        taken_back = job.status == JobStatus.RUNNING and delivery and job.claim == delivery
        if job.status != JobStatus.QUEUED and not taken_back:
            return None
        job.status = JobStatus.RUNNING
        job.claim = delivery or ""
        job.started_at = timezone.now()
        job.save(update_fields=["status", "claim", "started_at"])
    return job


def delivered_jobs_sweep(model, *, limit: int = 1000) -> dict:
    """Send lost QUEUED jobs of `model` again; fail RUNNING ones whose worker is gone."""
    now = timezone.now()
    with transaction.atomic():
        stale = stale_running(model, now=now, limit=limit)
        for job in stale:
            model.objects.filter(id=job.id).update(
                status=JobStatus.FAILED, finished_at=now,
                error=(f"The worker running this job stopped (started {job.started_at:%Y-%m-%d %H:%M:%S}Z) "
                       "and did not come back. Start it again."),
            )
    lost = list(
        model.objects.filter(status=JobStatus.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - requeue_after()))
        .order_by("id").values_list("id", flat=True)[:limit]
    )
    sent = sum(job_send(model, job_id) for job_id in lost)
    result = {"resent": sent, "unsent": len(lost) - sent, "failed_stale": len(stale)}
    if lost or stale:
        log.info("%s sweep: %s", model.__name__, result)
    return result


def jobs_sweep() -> dict:
    """Every kind of job: pre-annotation, import, export, webhook deliveries."""
    from annotations.services.preannotation import preannotation_jobs_sweep
    from annotations.services.webhooks import webhook_deliveries_sweep

    return {"preannotation": preannotation_jobs_sweep(), "import": delivered_jobs_sweep(ImportJob),
            "export": delivered_jobs_sweep(ExportJob), "webhooks": webhook_deliveries_sweep()}

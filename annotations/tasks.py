"""Celery tasks: thin. They load ids and call services; the job rows are the truth."""

from celery import shared_task

from annotations.services.preannotation import preannotation_run


@shared_task(
    bind=True,
    name="annotations.preannotate_article",
    max_retries=3,
    default_retry_delay=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def preannotate_article(self, job_id: int) -> None:
    try:
        preannotation_run(job_id=job_id)
    except Exception as exc:  # the service already recorded a final failure after MAX_ATTEMPTS
        raise self.retry(exc=exc) from exc

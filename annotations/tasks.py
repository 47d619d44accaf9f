"""Celery tasks: thin. They load ids and call services; the job rows are the truth.

Retries are not Celery's: a failed attempt is recorded on the job row and the service re-sends the
job with a back-off (bounded by PREANNOTATION_MAX_ATTEMPTS), so a lost message or a restarted broker
cannot lose or duplicate work. Messages are acknowledged after the task (acks_late) and given back
to the broker if the worker process dies (reject_on_worker_lost); a redelivered message takes its
jobs back at once (see services.preannotation).
"""

from celery import shared_task
from django.conf import settings

from annotations.services.preannotation import preannotation_jobs_sweep, preannotation_run


@shared_task(
    bind=True,
    name="annotations.preannotate_article",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def preannotate_article(self, job_id: int, more: list[int] | None = None) -> int:
    """Pre-annotate the job's article and the rest of its batch (`more`), with other queued jobs of
    its project if the batch has room."""
    more_ids = [int(i) for i in (more or [])]
    return len(preannotation_run(job_id=int(job_id), delivery=self.request.id or "", more=more_ids))


@shared_task(name="annotations.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    """Periodic (Celery beat): re-send queued jobs of every kind whose message was lost; revive or
    fail abandoned ones (services.jobs)."""
    from annotations.services.jobs import jobs_sweep

    return jobs_sweep()


@shared_task(name="annotations.sweep_preannotation_jobs", ignore_result=True)
def sweep_preannotation_jobs() -> dict:
    """The pre-annotation part of sweep_jobs alone (kept for messages sent before sweep_jobs existed)."""
    return preannotation_jobs_sweep()


@shared_task(
    bind=True,
    name="annotations.train_preannotator",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=3000,  # below the Redis visibility timeout (3600 s), or the message would be handed out twice
    time_limit=3300,
)
def train_preannotator(self, model_id: int) -> None:
    """Train, evaluate and maybe activate a project model (services.training)."""
    from annotations.services.training import trained_model_train

    trained_model_train(model_id=int(model_id))


@shared_task(bind=True, name="annotations.run_import_job", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def run_import_job(self, job_id: int) -> None:
    """A large article import; the service records the outcome on the ImportJob row."""
    from annotations.services.intake import import_job_run

    import_job_run(job_id=int(job_id), delivery=self.request.id or "")


@shared_task(
    bind=True,
    name="annotations.export_run",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def export_run(self, job_id: int) -> None:
    """Write an export job's file (services.exports); a finished job is left as it is."""
    from annotations.services.exports import export_job_run

    export_job_run(job_id=int(job_id), delivery=self.request.id or "")


@shared_task(name="annotations.fill_token_cache", acks_late=True, ignore_result=True)
def fill_token_cache(article_ids: list[int]) -> int:
    """Tokenise newly approved articles for the token exports (services.exports.article_tokens_fill)."""
    from annotations.services.exports import article_tokens_fill

    return article_tokens_fill(article_ids=[int(i) for i in article_ids])


@shared_task(name="annotations.refresh_token_cache", ignore_result=True)
def refresh_token_cache() -> int:
    """Beat: tokenise a bounded batch of articles whose token cache is missing or from another
    tokenizer (services.exports.article_tokens_refresh)."""
    from annotations.services.exports import article_tokens_refresh

    return article_tokens_refresh(limit=settings.NEWSROOM["TOKEN_CACHE_REFRESH_BATCH"])


@shared_task(bind=True, name="annotations.webhook_deliver", acks_late=True, ignore_result=True, max_retries=None)
def webhook_deliver(self, delivery_id: int) -> str:
    """One delivery attempt; retried with exponential backoff until the service says it is final
    (delivered, refused, or MAX_ATTEMPTS reached: the attempts are counted on the row). The row
    records when the next attempt is due, so the sweeper can resend it if the broker loses it."""
    from annotations.services.webhooks import webhook_delivery_attempt, webhook_delivery_retry_at

    outcome = webhook_delivery_attempt(delivery_id=int(delivery_id))
    if outcome == "retry":
        raise self.retry(countdown=webhook_delivery_retry_at(delivery_id=int(delivery_id)))
    return outcome


def _preload_preannotators(**_kwargs) -> None:
    """Load the plug-ins named in NEWSROOM["PRELOAD_PREANNOTATORS"] when a worker process starts, so the
    first job does not pay for loading a spaCy pipeline."""
    import logging

    from django.conf import settings

    from annotations.preannotators.registry import get_preannotator

    for name in settings.NEWSROOM.get("PRELOAD_PREANNOTATORS", []) or []:
        try:
            plugin = get_preannotator(name)
            plugin.predict(["Warm-up: the minister said so."], ["CLAIM", "SOURCE"])
        except Exception:  # a broken plug-in must not stop the worker; its jobs will fail with the reason
            logging.getLogger(__name__).exception("could not preload pre-annotator %r", name)


def _connect_db_hygiene() -> None:
    """Around every task, close the database connection if it is older than CONN_MAX_AGE or broken
    (Django does this around each request; settings.CELERY_DB_REUSE_MAX stops Celery from closing it
    after every task instead)."""
    from celery.signals import task_postrun, task_prerun
    from django.db import close_old_connections

    def hygiene(sender=None, **_kwargs) -> None:
        if not getattr(getattr(sender, "request", None), "is_eager", False):  # eager: the caller's transaction
            close_old_connections()

    task_prerun.connect(hygiene, weak=False)
    task_postrun.connect(hygiene, weak=False)


def _connect_preload() -> None:
    from celery.signals import worker_process_init, worker_ready

    worker_process_init.connect(_preload_preannotators, weak=False)  # prefork children

    def on_ready(sender=None, **kwargs):  # sender: the consumer; its controller knows the pool
        pool_cls = getattr(getattr(sender, "controller", None), "pool_cls", None)
        if "prefork" not in getattr(pool_cls, "__module__", ""):  # solo / threads: tasks run in this process
            _preload_preannotators()

    worker_ready.connect(on_ready, weak=False)


_connect_preload()
_connect_db_hygiene()

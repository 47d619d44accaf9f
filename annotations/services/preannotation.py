"""Pre-annotation jobs: a row per run, enqueued on commit, executed by a worker.

Contract of `preannotation_run`: the slow model call happens outside any transaction; the result
is written in one short transaction holding SELECT FOR UPDATE on the article, and dropped if the
article text changed since the job was queued. Re-running replaces the machine layer's suggestions
(assignment NULL) and never touches anything in a person's layer.
"""

import logging

from django.db import transaction
from django.utils import timezone

from annotations.models import (
    Article,
    ArticleStatus,
    JobStatus,
    LabelType,
    Origin,
    PreannotationJob,
    Relation,
    RelationType,
    Span,
    SuggestionState,
)
from annotations.preannotators.base import PreannotatorError
from annotations.preannotators.registry import preannotator_for_project

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def preannotation_job_create(*, article: Article, requested_by=None) -> PreannotationJob:
    """Queue a pre-annotation of `article`; the task is sent only if the transaction commits.

    If a job is already queued or running for the article, that job is returned instead.
    """
    active = PreannotationJob.objects.filter(article=article, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    existing = active.first()
    if existing:
        return existing
    job = PreannotationJob.objects.create(
        article=article,
        preannotator=article.project.preannotator,
        text_hash=article.text_hash,
        requested_by=requested_by,
    )
    transaction.on_commit(lambda: preannotation_job_enqueue(job_id=job.id))
    return job


def preannotation_jobs_create_bulk(*, articles: list[Article], requested_by=None) -> list[PreannotationJob]:
    """Queue jobs for many new articles at once (bulk import); sent in one batch after the commit.

    The articles must be new (no active job yet); callers hold them inside their transaction.
    """
    if not articles:
        return []
    jobs = PreannotationJob.objects.bulk_create(
        [
            PreannotationJob(
                article=a, preannotator=a.project.preannotator, text_hash=a.text_hash, requested_by=requested_by
            )
            for a in articles
        ]
    )
    ids = [j.id for j in jobs]
    transaction.on_commit(lambda: preannotation_jobs_enqueue(job_ids=ids))
    return jobs


def preannotation_jobs_enqueue(*, job_ids: list[int]) -> None:
    """Publish many jobs over one broker connection. Jobs not sent stay queued for the sweeper."""
    from annotations.tasks import preannotate_article

    sent: list[int] = []
    try:
        with preannotate_article.app.producer_or_acquire() as producer:
            for job_id in job_ids:
                preannotate_article.apply_async((job_id,), producer=producer)
                sent.append(job_id)
    except Exception:
        log.warning("broker unreachable after %d of %d jobs; the rest stay queued", len(sent), len(job_ids),
                    exc_info=True)
    if sent:
        PreannotationJob.objects.filter(id__in=sent).update(enqueued_at=timezone.now())


def preannotation_job_enqueue(*, job_id: int) -> None:
    """Hand the job to the broker. The row stays the truth: if the broker is down, a sweeper retries."""
    from annotations.tasks import preannotate_article

    try:
        preannotate_article.delay(job_id)
    except Exception:  # broker unreachable: leave the job queued for the sweeper
        log.warning("could not enqueue pre-annotation job %s; it stays queued", job_id, exc_info=True)
        return
    PreannotationJob.objects.filter(id=job_id).update(enqueued_at=timezone.now())


def preannotation_run(*, job_id: int) -> PreannotationJob | None:
    """Run one job (called by the worker). Idempotent; returns the job or None if it is gone."""
    with transaction.atomic():
        job = (
            PreannotationJob.objects.select_for_update().select_related("article__project").filter(id=job_id).first()
        )
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    article = job.article
    project = article.project
    labels = list(LabelType.objects.filter(project=project).values_list("name", flat=True))
    try:
        plugin = preannotator_for_project(project)
        prediction = plugin.predict([article.text], labels)[0]  # slow: no transaction open
    except PreannotatorError as exc:
        return _fail(job, str(exc))
    except Exception as exc:
        log.exception("pre-annotation job %s failed", job_id)
        if job.attempts >= MAX_ATTEMPTS:
            return _fail(job, f"{type(exc).__name__}: {exc}")
        raise
    return _store(job, prediction)


def _fail(job: PreannotationJob, reason: str) -> PreannotationJob:
    with transaction.atomic():
        PreannotationJob.objects.filter(id=job.id).update(
            status=JobStatus.FAILED, error=reason[:2000], finished_at=timezone.now()
        )
        Article.objects.filter(id=job.article_id, status=ArticleStatus.NEW).update(
            status=ArticleStatus.PREANNOTATION_FAILED, status_changed_at=timezone.now()
        )
    job.refresh_from_db()
    return job


@transaction.atomic
def _store(job: PreannotationJob, prediction) -> PreannotationJob:
    article = Article.objects.select_for_update().get(id=job.article_id)
    now = timezone.now()
    if article.text_hash != job.text_hash:
        job.status, job.error, job.finished_at = JobStatus.FAILED, "Article text changed; result dropped.", now
        job.save(update_fields=["status", "error", "finished_at"])
        return job
    labels = {lt.name: lt for lt in LabelType.objects.filter(project_id=article.project_id)}
    relation_types = {rt.name: rt for rt in RelationType.objects.filter(project_id=article.project_id)}
    # Replace the machine layer: earlier suggestions go; decisions people made on them stay in
    # their layers (from_suggestion is SET_NULL), except rejections, which only made sense for them.
    Span.objects.filter(
        article=article, assignment__isnull=False, state=SuggestionState.REJECTED, from_suggestion__isnull=False,
        from_suggestion__assignment__isnull=True,
    ).delete()
    Span.objects.filter(article=article, assignment__isnull=True, origin=Origin.MACHINE).delete()
    created: dict[int, Span] = {}
    rows = []
    for i, s in enumerate(prediction.spans):
        label = labels.get(s.label)
        if label is None or not (0 <= s.start < s.end <= len(article.text)):
            continue
        rows.append(
            (i, Span(
                article=article, label=label, start=s.start, end=s.end, text=article.text[s.start:s.end],
                origin=Origin.MACHINE, state=SuggestionState.PENDING,
                confidence=max(0.0, min(1.0, float(s.confidence))), preannotator=prediction.preannotator,
                model_version=prediction.model_version, attributes=dict(s.attributes or {}), job=job,
            ))
        )
    for (i, _), span in zip(rows, Span.objects.bulk_create([r[1] for r in rows]), strict=True):
        created[i] = span
    Relation.objects.bulk_create(
        [
            Relation(
                article=article, type=relation_types[r.type], from_span=created[r.from_index],
                to_span=created[r.to_index], origin=Origin.MACHINE, state=SuggestionState.PENDING,
                confidence=r.confidence, job=job,
            )
            for r in prediction.relations
            if r.type in relation_types and r.from_index in created and r.to_index in created
            and r.from_index != r.to_index
        ]
    )
    job.status, job.finished_at, job.error = JobStatus.DONE, now, ""
    job.model_version, job.span_count = prediction.model_version, len(created)
    job.save(update_fields=["status", "finished_at", "error", "model_version", "span_count"])
    if article.status in (ArticleStatus.NEW, ArticleStatus.PREANNOTATION_FAILED):
        article.status, article.status_changed_at = ArticleStatus.PREANNOTATED, now
        article.save(update_fields=["status", "status_changed_at"])
    return job

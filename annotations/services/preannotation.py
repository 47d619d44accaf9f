"""Pre-annotation jobs: a row per run, enqueued on commit, executed by workers in batches.

The job row is the truth; the broker only delivers it and may lose or repeat messages.

Life of a job: QUEUED -> RUNNING -> DONE | FAILED (with `error`). A QUEUED job whose message was lost
(broker down or restarted empty) and a RUNNING job whose worker died are put back on the broker by
`preannotation_jobs_sweep` (Celery beat runs it every NEWSROOM_SWEEP_INTERVAL seconds).

Contract of `preannotation_run` (the worker's entry point, one call per broker message):

* It claims the message's job plus up to PREANNOTATION_BATCH_SIZE-1 other queued jobs of the same
  project in one short transaction (``SELECT ... FOR UPDATE SKIP LOCKED``, so several workers on
  several machines never claim the same job), marks them RUNNING and records the claim (the
  delivery id) and the attempt number. A job already RUNNING under another delivery is left alone;
  a redelivery of the message that claimed it (its worker was killed) takes it back at once.
* The slow model call (one ``predict`` over all the batch's texts, i.e. one ``nlp.pipe``) happens
  outside any transaction. If the batch call fails, each job is predicted alone, so one bad article
  fails only its own job.
* Each job's result is written in its own short transaction holding SELECT FOR UPDATE on the
  article, and only if the job is still this attempt's (not taken over) and the article text is
  unchanged (text hash). A changed text drops the result and queues a fresh job for the new text.
* Storing replaces the article's machine layer (assignment NULL): running twice leaves one set.
  Nothing in a person's layer is touched, except that decisions on a suggestion the new run
  produces again (same label and offsets) are moved to the new suggestion, so accepted and
  rejected stay accepted and rejected; rejections of suggestions that did not come back go.
* A `PreannotatorError` (bad configuration, a model that is not installed, a backend answering 4xx
  or nonsense) fails the job at once with its reason. A transient one (``exc.transient``: a remote
  backend that timed out or answered 5xx after its own retries) and any other error re-queue the
  job with a back-off until it has had PREANNOTATION_MAX_ATTEMPTS attempts, then fail it with the
  last error.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
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
from annotations.preannotators.base import PreannotatorError, Prediction
from annotations.preannotators.registry import preannotator_for_project

log = logging.getLogger(__name__)

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
TEXT_CHANGED = "Article text changed while it was being pre-annotated; result dropped (a new job is queued)."


def _opt(key: str, default):
    return settings.NEWSROOM.get(key, default)


def max_attempts() -> int:
    return int(_opt("PREANNOTATION_MAX_ATTEMPTS", 3))


def batch_size() -> int:
    return max(1, int(_opt("PREANNOTATION_BATCH_SIZE", 16)))


def stale_after() -> timedelta:
    """A RUNNING job older than this is abandoned (its worker died): longer than any task may run."""
    default = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 360) or 360) + 60
    return timedelta(seconds=float(_opt("PREANNOTATION_STALE_AFTER", default)))


def stale_running(model, *, now, limit: int) -> list:
    """RUNNING jobs of `model` (any kind of job) started longer than stale_after() ago: their worker
    is gone. Locked, skipping rows another sweeper holds; call it inside a transaction."""
    return list(
        model.objects.select_for_update(skip_locked=True)
        .filter(status=JobStatus.RUNNING, started_at__lt=now - stale_after())
        .order_by("id")[:limit]
    )


def requeue_after() -> timedelta:
    """A QUEUED job sent longer ago than this is sent again (its message may have been lost)."""
    return timedelta(seconds=float(_opt("PREANNOTATION_REQUEUE_AFTER", 300)))


# --------------------------------------------------------------------------- creating and sending


def preannotation_job_create(*, article: Article, requested_by=None) -> PreannotationJob:
    """Queue a pre-annotation of `article`; the task is sent only if the transaction commits.

    If a job is already queued or running for the article, that job is returned instead.
    """
    existing = PreannotationJob.objects.filter(article=article, status__in=ACTIVE).first()
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


def preannotation_rerun(*, articles, requested_by=None) -> list[PreannotationJob]:
    """Re-run pre-annotation on `articles` (editor action; also "retry" for failed ones).

    One new job per article, sent after the commit; an article with a job already queued or running
    keeps that job (returned as is). Human work is never touched (see the module docstring).
    """
    jobs = []
    with transaction.atomic():
        for article in Article.objects.select_for_update().select_related("project").filter(
            id__in=[a.id if isinstance(a, Article) else int(a) for a in articles]
        ):
            jobs.append(preannotation_job_create(article=article, requested_by=requested_by))
    return jobs


def preannotation_jobs_enqueue(*, job_ids: list[int], countdown: float | None = None) -> list[int]:
    """Publish many jobs over one broker connection, one message per batch of the same project.

    A message names its head job and the rest of its batch, so a worker claims that batch together
    (publishing costs about half a millisecond a message: one per job was most of a bulk import's
    time). Jobs not sent stay queued for the sweeper.
    """
    from annotations.tasks import preannotate_article

    by_project: dict[int, list[int]] = {}
    for job_id, project_id in (
        PreannotationJob.objects.filter(id__in=job_ids).order_by("id").values_list("id", "article__project_id")
    ):
        by_project.setdefault(project_id, []).append(job_id)
    size = batch_size()
    chunks = [ids[i : i + size] for ids in by_project.values() for i in range(0, len(ids), size)]
    sent: list[int] = []
    try:
        with preannotate_article.app.producer_or_acquire() as producer:
            for chunk in chunks:
                preannotate_article.apply_async((chunk[0], chunk[1:]), producer=producer, countdown=countdown)
                sent.extend(chunk)
    except Exception:
        log.warning("broker unreachable after %d of %d jobs; the rest stay queued", len(sent), len(job_ids),
                    exc_info=True)
    if sent:
        PreannotationJob.objects.filter(id__in=sent).update(enqueued_at=timezone.now())
    return sent


def preannotation_job_enqueue(*, job_id: int, countdown: float | None = None) -> bool:
    """Hand the job to the broker. The row stays the truth: if the broker is down, the sweeper retries."""
    from annotations.tasks import preannotate_article

    try:
        if countdown is None:
            preannotate_article.delay(job_id)
        else:
            preannotate_article.apply_async((job_id,), countdown=countdown)
    except Exception:  # broker unreachable: leave the job queued for the sweeper
        log.warning("could not enqueue pre-annotation job %s; it stays queued", job_id, exc_info=True)
        return False
    PreannotationJob.objects.filter(id=job_id).update(enqueued_at=timezone.now())
    return True


# --------------------------------------------------------------------------- the sweeper


def preannotation_jobs_sweep(*, limit: int = 5000) -> dict:
    """Put lost work back on the broker. Safe to run anywhere, any number of times, concurrently.

    * QUEUED jobs never sent (broker was down) or sent longer than PREANNOTATION_REQUEUE_AFTER ago
      (the broker may have lost the message: Redis restarted empty) are sent again. A duplicate
      message is harmless: the job is claimed once and the other delivery finds nothing to do.
    * RUNNING jobs started longer than PREANNOTATION_STALE_AFTER ago lost their worker: they go back
      to QUEUED (or FAILED, once they have had PREANNOTATION_MAX_ATTEMPTS attempts).
    """
    now = timezone.now()
    failed = 0
    revived: list[int] = []
    with transaction.atomic():
        stale = stale_running(PreannotationJob, now=now, limit=limit)
        for job in stale:
            reason = f"Worker lost or timed out (attempt {job.attempts} started {job.started_at:%Y-%m-%d %H:%M:%S}Z)."
            if job.attempts >= max_attempts():
                _mark_failed(job, f"Gave up after {job.attempts} attempts. {reason}", now)
                failed += 1
            else:
                PreannotationJob.objects.filter(id=job.id).update(status=JobStatus.QUEUED, claim="", error=reason)
                revived.append(job.id)
    lost = list(
        PreannotationJob.objects.filter(status=JobStatus.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - requeue_after()))
        .exclude(id__in=revived)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    sent = preannotation_jobs_enqueue(job_ids=revived + lost) if revived or lost else []
    result = {"requeued_running": len(revived), "resent_queued": len(lost), "sent": len(sent), "failed": failed}
    if revived or lost or failed:
        log.info("pre-annotation sweep: %s", result)
    return result


# --------------------------------------------------------------------------- running (worker side)


def _claimable(job: PreannotationJob, delivery: str, now) -> bool:
    if job.status == JobStatus.QUEUED:
        return True
    if job.status != JobStatus.RUNNING:
        return False
    if delivery and job.claim == delivery:
        return True  # the message that claimed it is delivered again: its worker died
    return job.started_at is not None and job.started_at < now - stale_after()


# Ids of jobs this process finished recently, so that the messages of jobs that rode along in one of
# its batches cost no query. Only DONE/FAILED jobs go in, and those never run again (a re-run is a new job).
_FINISHED_HERE: OrderedDict[int, None] = OrderedDict()
_FINISHED_MAX = 10000


def _remember_finished(jobs) -> None:
    for job in jobs:
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            _FINISHED_HERE[job.id] = None
    while len(_FINISHED_HERE) > _FINISHED_MAX:
        _FINISHED_HERE.popitem(last=False)


def preannotation_claim(
    *, job_id: int, delivery: str = "", size: int | None = None, more: list[int] | tuple = ()
) -> list[PreannotationJob]:
    """Claim the job `job_id` (if it is free) and more queued jobs of its project, up to `size`:
    first those named in `more` (the rest of the message's batch), then any others.

    A delivery whose job is already done, or running under another delivery, costs one query and
    claims nothing: that job's batch is being (or was) handled elsewhere.
    """
    size = size or batch_size()
    now = timezone.now()
    if job_id in _FINISHED_HERE:
        return []  # this process stored it in an earlier batch: nothing to ask the database
    peek = PreannotationJob.objects.filter(id=job_id).values("status", "claim", "started_at", "article__project_id")
    peek = peek.first()
    if peek is None:
        return []
    probe = PreannotationJob(status=peek["status"], claim=peek["claim"], started_at=peek["started_at"])
    if not _claimable(probe, delivery, now):
        return []
    project_id = peek["article__project_id"]
    claimed: list[PreannotationJob] = []
    exhausted: list[PreannotationJob] = []
    with transaction.atomic():
        locked = PreannotationJob.objects.select_for_update(skip_locked=True, of=("self",))
        head = locked.filter(id=job_id).first()
        if head is None or not _claimable(head, delivery, now):
            return []  # another delivery got there first
        claimed.append(head)
        if delivery:  # a redelivered batch: take back every job that delivery had claimed
            claimed += list(
                locked.filter(status=JobStatus.RUNNING, claim=delivery).exclude(id=job_id).order_by("id")[:size]
            )
        if len(claimed) < size and more:
            claimed += list(
                locked.filter(status=JobStatus.QUEUED, article__project_id=project_id, id__in=list(more))
                .exclude(id__in=[j.id for j in claimed])
                .order_by("id")[: size - len(claimed)]
            )
        if len(claimed) < size:
            claimed += list(
                locked.filter(status=JobStatus.QUEUED, article__project_id=project_id)
                .exclude(id__in=[j.id for j in claimed])
                .order_by("id")[: size - len(claimed)]
            )
        ready = []
        for job in claimed:
            if job.attempts >= max_attempts():
                exhausted.append(job)
                continue
            job.status, job.claim, job.started_at = JobStatus.RUNNING, delivery, now
            job.attempts += 1
            ready.append(job)
        for job in exhausted:
            _mark_failed(job, f"Gave up after {job.attempts} attempts. {job.error}".strip(), now)
        if ready:
            PreannotationJob.objects.bulk_update(ready, ["status", "claim", "started_at", "attempts"])
    if not ready:
        return []
    articles = Article.objects.select_related("project").in_bulk([j.article_id for j in ready])
    for job in ready:
        job.article = articles[job.article_id]
    return ready


def preannotation_run(*, job_id: int, delivery: str = "", more: list[int] | tuple = ()) -> list[PreannotationJob]:
    """Run the job `job_id`, the rest of its batch (`more`) and whatever else this delivery claims
    (called by the worker). If the head was taken elsewhere, the next job of the batch leads."""
    candidates = [job_id, *more]
    jobs: list[PreannotationJob] = []
    for i, head in enumerate(candidates):
        jobs = preannotation_claim(job_id=head, delivery=delivery, more=candidates[i + 1 :])
        if jobs:
            break
    if not jobs:
        return []
    project = jobs[0].article.project
    label_types = list(LabelType.objects.filter(project=project))
    labels = [lt.name for lt in label_types]
    try:
        plugin = preannotator_for_project(project)
    except Exception as exc:
        if not isinstance(exc, PreannotatorError | ValueError):
            log.exception("cannot load the pre-annotator of project %s", project.id)
        return [_attempt_failed(job, exc) for job in jobs]
    try:
        predictions: list[Prediction | Exception] = _predict(plugin, [job.article.text for job in jobs], labels)
    except Exception as exc:  # slow part above ran with no transaction open
        if len(jobs) == 1 or isinstance(exc, SoftTimeLimitExceeded):  # out of time: no one-by-one retry now
            predictions = [exc] * len(jobs)
        else:  # isolate the failure: one article at a time
            log.warning("batch of %d failed (%s); predicting one at a time", len(jobs), exc)
            predictions = []
            for job in jobs:
                try:
                    predictions.append(_predict(plugin, [job.article.text], labels)[0])
                except Exception as single:
                    predictions.append(single)
    labels_by_name = {lt.name: lt for lt in label_types}
    relation_types = {rt.name: rt for rt in RelationType.objects.filter(project=project)}
    results: dict[int, PreannotationJob] = {}
    good = []
    for job, prediction in zip(jobs, predictions, strict=True):
        if isinstance(prediction, Exception):
            results[job.id] = _attempt_failed(job, prediction)
        else:
            good.append((job, prediction))
    if good:
        try:
            stored = _store_many(good, labels_by_name, relation_types)
        except Exception as exc:  # one bad result must not sink the batch: store one at a time
            log.warning("storing a batch of %d failed (%s); storing one at a time", len(good), exc)
            stored = []
            for job, prediction in good:
                try:
                    stored += _store_many([(job, prediction)], labels_by_name, relation_types)
                except Exception as single:
                    log.exception("storing pre-annotation job %s failed", job.id)
                    stored.append(_attempt_failed(job, single))
        results.update({j.id: j for j in stored})
    done = [results.get(job.id, job) for job in jobs]
    _remember_finished(done)
    _fill_token_cache([j.article_id for j in done if j.status == JobStatus.DONE])
    return done


def _fill_token_cache(article_ids: list[int]) -> None:
    """Fill the export token cache for the articles just pre-annotated (services.exports
    .article_tokens_fill): spaCy's tokenizer costs well under 1% of the model's time per article, and
    then no conll/spacy export of them has to tokenise (a text edit queues a new job, which fills it
    again). The cache is an optimisation: a failure here is logged, never fails the job."""
    if not article_ids:
        return
    try:
        from annotations.services.exports import article_tokens_fill

        article_tokens_fill(article_ids=article_ids)
    except Exception:
        log.warning("could not fill the token cache of %d articles", len(article_ids), exc_info=True)


def _predict(plugin, texts: list[str], labels: list[str]) -> list[Prediction]:
    predictions = plugin.predict(texts, labels)
    if len(predictions) != len(texts):
        raise PreannotatorError(
            f"pre-annotator {plugin.name!r} returned {len(predictions)} predictions for {len(texts)} texts"
        )
    return predictions


def _mark_failed(job: PreannotationJob, reason: str, now) -> None:
    PreannotationJob.objects.filter(id=job.id).update(
        status=JobStatus.FAILED, error=reason[:2000], finished_at=now, claim=""
    )
    Article.objects.filter(id=job.article_id, status=ArticleStatus.NEW).update(
        status=ArticleStatus.PREANNOTATION_FAILED, status_changed_at=now
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PreannotatorError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _attempt_failed(job: PreannotationJob, exc: BaseException) -> PreannotationJob:
    """Record a failed attempt: final for a PreannotatorError or the last attempt, else re-queue."""
    reason = _reason(exc)
    permanent = isinstance(exc, PreannotatorError) and not getattr(exc, "transient", False)
    final = permanent or job.attempts >= max_attempts()
    if not permanent:
        log.warning("pre-annotation job %s attempt %s failed: %s", job.id, job.attempts, reason)
    now = timezone.now()
    with transaction.atomic():
        current = PreannotationJob.objects.select_for_update().filter(id=job.id).first()
        if current is None or current.status != JobStatus.RUNNING or current.attempts != job.attempts:
            return current or job  # someone else took the job over meanwhile
        if final:
            if job.attempts > 1 and not permanent:
                reason = f"Failed {job.attempts} times; last error: {reason}"
            _mark_failed(current, reason, now)
        else:
            PreannotationJob.objects.filter(id=job.id).update(status=JobStatus.QUEUED, claim="", error=reason[:2000])
            delay = min(60, 2 ** job.attempts)
            transaction.on_commit(lambda: preannotation_job_enqueue(job_id=job.id, countdown=delay))
    job.refresh_from_db()
    return job


def _store(job: PreannotationJob, prediction: Prediction, labels: dict, relation_types: dict) -> PreannotationJob:
    return _store_many([(job, prediction)], labels, relation_types)[0]


def _store_many(items: list[tuple[PreannotationJob, Prediction]], labels: dict, relation_types: dict
                ) -> list[PreannotationJob]:
    """Write the results of a batch in one short transaction holding the articles' row locks.

    About ten queries per batch, whatever its size. Per job (see the module docstring): skipped if
    the job was taken over, dropped (and re-queued) if the text changed, else it replaces the
    article's machine layer; decisions on suggestions that come back follow them.
    """
    now = timezone.now()
    with transaction.atomic():
        articles = {a.id: a for a in Article.objects.select_for_update().filter(
            id__in=[job.article_id for job, _ in items]).order_by("id")}
        current = {j.id: j for j in PreannotationJob.objects.select_for_update().filter(
            id__in=[job.id for job, _ in items]).order_by("id")}
        out: dict[int, PreannotationJob] = {}
        valid = []
        for job, prediction in items:
            cur = current.get(job.id)
            if cur is None or cur.status != JobStatus.RUNNING or cur.attempts != job.attempts:
                out[job.id] = cur or job  # taken over by another delivery (lease expired): its result wins
                continue
            article = articles[job.article_id]
            if article.text_hash != cur.text_hash:
                cur.status, cur.error, cur.finished_at, cur.claim = JobStatus.FAILED, TEXT_CHANGED, now, ""
                cur.save(update_fields=["status", "error", "finished_at", "claim"])
                preannotation_job_create(article=article, requested_by=cur.requested_by)
                out[job.id] = cur
                continue
            valid.append((cur, article, prediction))
        if not valid:
            return [out[job.id] for job, _ in items]
        old = list(
            Span.objects.filter(article_id__in=[a.id for _, a, _ in valid], assignment__isnull=True,
                                origin=Origin.MACHINE).values_list("id", "article_id", "start", "end", "label_id")
        )
        old_by_key: dict[tuple, int] = {}
        for sid, aid, s, e, lid in old:
            old_by_key.setdefault((aid, s, e, lid), sid)
        new_spans: list[Span] = []
        index: list[tuple[int, dict[int, int]]] = []  # per valid job: (offset into new_spans, {pred idx: pos})
        for cur, article, prediction in valid:
            text = article.text
            positions: dict[int, int] = {}
            seen: set[tuple] = set()
            for i, s in enumerate(prediction.spans):
                label = labels.get(s.label)
                if label is None or not (0 <= s.start < s.end <= len(text)) or (s.start, s.end, label.id) in seen:
                    continue
                seen.add((s.start, s.end, label.id))
                positions[i] = len(new_spans)
                new_spans.append(Span(
                    article=article, label=label, start=s.start, end=s.end, text=text[s.start:s.end],
                    origin=Origin.MACHINE, state=SuggestionState.PENDING,
                    confidence=max(0.0, min(1.0, float(s.confidence))), preannotator=prediction.preannotator[:100],
                    model_version=prediction.model_version[:100], attributes=dict(s.attributes or {}), job=cur,
                ))
            index.append((cur.id, positions))
        Span.objects.bulk_create(new_spans)
        if old:
            old_ids = [sid for sid, *_ in old]
            decided = set(Span.objects.filter(from_suggestion_id__in=old_ids).values_list("from_suggestion_id",
                                                                                           flat=True))
            if decided:  # decisions people made on a suggestion that came back follow it to the new row
                carried = set()
                for span in new_spans:
                    old_id = old_by_key.get((span.article_id, span.start, span.end, span.label_id))
                    if old_id in decided:
                        Span.objects.filter(from_suggestion_id=old_id).update(from_suggestion=span)
                        carried.add(old_id)
                gone = decided - carried
                if gone:  # rejections only meant something for their suggestion; accepted copies stay
                    Span.objects.filter(from_suggestion_id__in=gone, state=SuggestionState.REJECTED).delete()
            Span.objects.filter(id__in=old_ids).delete()  # cascades to the old machine relations
        relations = []
        for (cur, article, prediction), (_, positions) in zip(valid, index, strict=True):
            pairs = set()
            for r in prediction.relations:
                rtype = relation_types.get(r.type)
                if rtype is None or r.from_index not in positions or r.to_index not in positions:
                    continue
                a, b = new_spans[positions[r.from_index]], new_spans[positions[r.to_index]]
                if a.id == b.id or (a.id, b.id, rtype.id) in pairs:
                    continue
                pairs.add((a.id, b.id, rtype.id))
                relations.append(Relation(
                    article=article, type=rtype, from_span=a, to_span=b, origin=Origin.MACHINE,
                    state=SuggestionState.PENDING, confidence=max(0.0, min(1.0, float(r.confidence))), job=cur,
                ))
        Relation.objects.bulk_create(relations)
        for (cur, _article, prediction), (_, positions) in zip(valid, index, strict=True):
            cur.status, cur.finished_at, cur.error, cur.claim = JobStatus.DONE, now, "", ""
            cur.model_version, cur.span_count = prediction.model_version[:100], len(positions)
            cur.preannotator = prediction.preannotator[:50]
            out[cur.id] = cur
        PreannotationJob.objects.bulk_update(
            [cur for cur, _, _ in valid],
            ["status", "finished_at", "error", "claim", "model_version", "span_count", "preannotator"],
        )
        Article.objects.filter(
            id__in=[a.id for _, a, _ in valid], status__in=[ArticleStatus.NEW, ArticleStatus.PREANNOTATION_FAILED]
        ).update(status=ArticleStatus.PREANNOTATED, status_changed_at=now)
    return [out[job.id] for job, _ in items]


# --------------------------------------------------------------------------- choosing the plug-in


def project_preannotator_set(*, project, name: str, config: dict | None = None, model_version: int | None = None,
                             check: bool = True):
    """Choose the pre-annotator of `project` (editors/managers; callers check the role).

    * ``trained``: the project's active model, or the finished model ``model_version`` (switching
      back to an older version is allowed); refused if there is none.
    * ``ml_backend``: ``config`` needs ``url`` (http/https, a public address unless allowlisted);
      optional ``token``, ``timeout`` (s), ``retries``, ``offsets`` ("auto"/"codepoints"/"utf16").
      With ``check`` the backend's ``/health`` must answer UP.
    Raises ValidationError with the reason; nothing is saved then.
    """
    from django.core.exceptions import ValidationError

    from annotations.models import Project, TrainedModel
    from annotations.outbound import OutboundBlocked, check_url
    from annotations.preannotators.registry import AVAILABLE, ml_backend_from_config

    if name not in AVAILABLE:
        choices = ", ".join(AVAILABLE)
        raise ValidationError({"preannotator": [f"Unknown pre-annotator {name!r}; choose one of {choices}."]})
    with transaction.atomic():
        project = Project.objects.select_for_update().get(id=project.id)
        fields = ["preannotator"]
        if name == "trained":
            models = TrainedModel.objects.filter(project=project, status=JobStatus.DONE)
            model = (models.filter(version=model_version).first() if model_version is not None
                     else project.active_model if project.active_model_id else models.filter(activated=True).first())
            if model is None or model.status != JobStatus.DONE:
                raise ValidationError({"preannotator": ["This project has no finished trained model of that version; "
                                                        "train one first."]})
            project.active_model = model
            fields.append("active_model")
        if name == "ml_backend":
            config = dict(config or {})
            unknown = set(config) - {"url", "token", "timeout", "retries", "offsets"}
            if unknown:
                raise ValidationError({"config": [f"Unknown keys: {', '.join(sorted(unknown))}."]})
            if config.get("offsets", "auto") not in ("auto", "codepoints", "utf16"):
                raise ValidationError({"config": ["offsets must be auto, codepoints or utf16."]})
            try:
                check_url(str(config.get("url") or ""))
                client = ml_backend_from_config(config, project_ref=str(project.id))
                if check:
                    client.health()
            except (OutboundBlocked, PreannotatorError) as exc:
                raise ValidationError({"config": [str(exc)]}) from exc
            project.preannotator_config = config
            fields.append("preannotator_config")
        project.preannotator = name
        project.save(update_fields=fields)
    return project

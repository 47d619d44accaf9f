import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotations.models import Article, ArticleStatus, Project
from annotations.text.normalize import normalize


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def article_create(
    *,
    project: Project,
    text: str,
    title: str = "",
    outlet: str = "",
    author: str = "",
    published_at=None,
    url: str = "",
    meta: dict | None = None,
    source_name: str = "",
    created_by=None,
    preannotate: bool = True,
) -> Article:
    """Normalise `text`, store the article and queue its pre-annotation once the transaction commits.

    Raises ValidationError for empty text or a duplicate of an article already in the project.
    """
    stored, _ = normalize(text)
    if not stored.strip():
        raise ValidationError({"text": "The article text is empty."})
    digest = text_hash(stored)
    duplicate = Article.objects.filter(project=project, text_hash=digest).values_list("id", flat=True).first()
    if duplicate:
        raise ValidationError({"text": f"Duplicate: the same text is already article {duplicate} in this project."})
    try:
        with transaction.atomic():
            article = Article.objects.create(
                project=project,
                title=title.strip()[:500],
                text=stored,
                text_hash=digest,
                outlet=outlet,
                author=author,
                published_at=published_at,
                url=url,
                meta=meta or {},
                source_name=source_name,
                created_by=created_by,
                status=ArticleStatus.NEW,
            )
    except IntegrityError as exc:  # a concurrent upload of the same text won the race
        raise ValidationError({"text": "Duplicate: the same text is already in this project."}) from exc
    if preannotate:
        from annotations.services.preannotation import preannotation_job_create

        preannotation_job_create(article=article, requested_by=created_by)
    return article


def article_text_update(*, article: Article, text: str, user, expected_version: int) -> Article:
    """Replace an article's text, keeping its annotations. Editors and managers only (checked by callers).

    Normalises `text`; under SELECT FOR UPDATE on the article checks `expected_version` (stale:
    ConflictError, HTTP 409); re-anchors every span of every layer by its quote and context
    (annotations.text.offsets.reanchor): a span placed unambiguously moves with its quote; any other
    is flagged `needs_review=True`, state `unplaced`, and keeps its old offsets and quote, never
    moved silently (the annotate page lists it for its owner to mark again or remove). Bumps
    `version` and `text_hash`, records an ArticleEvent ("text.updated", the old text in `before`),
    supersedes any queued or running pre-annotation job and queues a fresh one after the commit.
    """
    from django.db.models import F
    from django.utils import timezone

    from annotations.models import Assignment, JobStatus, PreannotationJob, Span, SuggestionState
    from annotations.services.errors import ConflictError
    from annotations.services.events import event_record
    from annotations.services.preannotation import preannotation_job_create
    from annotations.text.offsets import reanchor

    stored, _ = normalize(text if isinstance(text, str) else "")
    if not stored.strip():
        raise ValidationError({"text": "The article text is empty."})
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.version != expected_version:
            raise ConflictError(
                f"The article changed since you loaded it (version {locked.version}, you had {expected_version}).",
                current_version=locked.version,
            )
        if stored == locked.text:
            return locked
        digest = text_hash(stored)
        duplicate = (Article.objects.filter(project_id=locked.project_id, text_hash=digest)
                     .exclude(pk=locked.pk).values_list("id", flat=True).first())
        if duplicate:
            raise ValidationError({"text": f"Duplicate: the same text is already article {duplicate} in this project."})
        old = locked.text
        moved, flagged = [], []
        spans = list(Span.objects.filter(article=locked).exclude(state=SuggestionState.UNPLACED)
                     .only("id", "start", "end", "text", "needs_review", "state"))
        for span in spans:
            anchor = reanchor(old, stored, span.start, span.end)
            if anchor.start is None:
                span.needs_review = True
                if span.state in (SuggestionState.ACCEPTED, SuggestionState.PENDING):
                    span.state = SuggestionState.UNPLACED  # out of every offset-based read
                span.attributes_reason = anchor.reason
                flagged.append(span)
            else:
                span.start, span.end = anchor.start, anchor.end
                span.text = stored[anchor.start : anchor.end]
                moved.append(span)
        Span.objects.bulk_update(moved, ["start", "end", "text"], batch_size=500)
        Span.objects.bulk_update(flagged, ["needs_review", "state"], batch_size=500)
        # every open annotate page shows the old text: its next save gets a 409 and reloads the new one
        Assignment.objects.filter(article=locked).update(version=F("version") + 1)
        before = {"version": locked.version, "text_hash": locked.text_hash, "text": old}
        locked.text, locked.text_hash = stored, digest
        locked.version += 1
        try:
            with transaction.atomic():
                locked.save(update_fields=["text", "text_hash", "version", "updated_at"])
        except IntegrityError as exc:  # a concurrent edit or upload stored the same text
            raise ValidationError({"text": "Duplicate: the same text is already in this project."}) from exc
        event_record(
            article=locked, actor=user, kind="text.updated", before=before,
            after={"version": locked.version, "text_hash": digest, "spans_moved": len(moved),
                   "spans_flagged": [{"id": s.id, "reason": s.attributes_reason} for s in flagged]},
        )
        PreannotationJob.objects.filter(article=locked, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
            status=JobStatus.FAILED, error="Superseded: the article text was edited.", finished_at=timezone.now()
        )
        preannotation_job_create(article=locked, requested_by=user if getattr(user, "is_authenticated", False)
                                 else None)
    return locked


META_FIELDS = ("title", "outlet", "author", "published_at", "url", "meta")


def article_meta_update(*, article: Article, user, expected_version: int, **fields) -> Article:
    """Change an article's metadata (title, outlet, author, published_at, url, meta) under a row lock.

    The text is changed only through `article_text_update`. Stale `expected_version`: ConflictError.
    """
    from annotations.services.errors import ConflictError
    from annotations.services.events import event_record

    unknown = set(fields) - set(META_FIELDS)
    if unknown:
        raise ValidationError({k: "This field cannot be changed here." for k in sorted(unknown)})
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.version != expected_version:
            raise ConflictError(
                f"The article changed since you loaded it (version {locked.version}, you had {expected_version}).",
                current_version=locked.version,
            )
        before = {k: _jsonable(getattr(locked, k)) for k in fields}
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.full_clean(exclude=["project", "text", "text_hash", "created_by", "status"], validate_unique=False,
                          validate_constraints=False)
        if fields:
            locked.version += 1  # a second editor's stale form is refused, not silently merged
            locked.save(update_fields=[*fields, "version", "updated_at"])
            event_record(article=locked, actor=user, kind="meta.updated", before=before,
                         after={k: _jsonable(getattr(locked, k)) for k in fields})
    return locked


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value

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

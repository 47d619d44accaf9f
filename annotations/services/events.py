from annotations.models import ArticleEvent


def event_record(*, article, actor, kind: str, before=None, after=None, comment: str = "") -> ArticleEvent:
    """Append one entry to the article's history. Call inside the transaction that made the change."""
    return ArticleEvent.objects.create(
        article=article,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        before=before,
        after=after,
        comment=comment,
    )

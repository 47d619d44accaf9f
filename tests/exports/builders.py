"""Builders for export tests: rows in the shapes the workflow leaves behind (factories build rows;
the workflow services that produce them are tested by their owners)."""

from django.utils import timezone

from annotations.models import (
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    LabelType,
    Origin,
    Relation,
    RelationType,
    Review,
    ReviewDecision,
    Span,
    SuggestionState,
)
from tests.support.factories import make_article


def _find(text: str, quote: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(quote, start + 1)
    return start, start + len(quote)


def add_layer(article, user, *, kind=AssignmentKind.ANNOTATION, spans=(), links=(), submitted=True):
    """A person's layer: spans are (label, quote) or (label, start, end); links are (i, j) indexes
    into `spans` (CLAIM -attributed_to-> SOURCE). Returns (assignment, [Span])."""
    labels = {lt.name: lt for lt in LabelType.objects.filter(project=article.project_id)}
    rel_type = RelationType.objects.get(project=article.project_id, name="attributed_to")
    status = AssignmentStatus.SUBMITTED if submitted else AssignmentStatus.IN_PROGRESS
    if kind == AssignmentKind.REVIEW:
        status = AssignmentStatus.DONE
    a = Assignment.objects.create(article=article, user=user, kind=kind, status=status,
                                  submitted_at=timezone.now() if submitted else None)
    made = []
    for spec in spans:
        if len(spec) == 2:
            label, quote = spec
            start, end = _find(article.text, quote)
        else:
            label, start, end = spec
        made.append(Span.objects.create(article=article, assignment=a, label=labels[label], start=start, end=end,
                                        text=article.text[start:end], created_by=user))
    for i, j in links:
        Relation.objects.create(article=article, assignment=a, type=rel_type, from_span=made[i], to_span=made[j],
                                created_by=user)
    return a, made


def suggest(article, label, quote, *, confidence=0.9, nth=0):
    lt = LabelType.objects.get(project=article.project_id, name=label)
    start, end = _find(article.text, quote, nth)
    return Span.objects.create(article=article, assignment=None, label=lt, start=start, end=end,
                               text=article.text[start:end], origin=Origin.MACHINE, state=SuggestionState.PENDING,
                               confidence=confidence, model_version="rules-1", preannotator="builtin")


def decide(assignment, suggestion, *, accept: bool):
    return Span.objects.create(
        article=suggestion.article, assignment=assignment, label=suggestion.label, start=suggestion.start,
        end=suggestion.end, text=suggestion.text, origin=Origin.MACHINE,
        state=SuggestionState.ACCEPTED if accept else SuggestionState.REJECTED, confidence=suggestion.confidence,
        from_suggestion=suggestion, created_by=assignment.user,
    )


def approve(article, reviewer):
    Review.objects.create(article=article, reviewer=reviewer, decision=ReviewDecision.APPROVED)
    article.status = ArticleStatus.APPROVED
    article.save(update_fields=["status"])
    return article


TEXTS = [
    "The minister said 42 people died in the floods. 👍 Officials disagreed.",
    "Police said the road was closed.\r\nThe mayor claimed 🇺🇦 aid arrived on Monday, according to Reuters.",
    "=SUM(A1) is not a claim, said the analyst. @home she added nothing.",
]


def approved_article(project, annotator, reviewer, text=TEXTS[0], *, published_at=None, **kw):
    """An approved article with an annotator's layer and the reviewer's (final) layer."""
    article = make_article(project, text=text, published_at=published_at, **kw)
    add_layer(article, annotator, spans=[("SOURCE", "The minister")])
    add_layer(article, reviewer, kind=AssignmentKind.REVIEW,
              spans=[("CLAIM", "42 people died"), ("SOURCE", "The minister")], links=[(0, 1)])
    return approve(article, reviewer)

"""Building the review layer out of the annotators' layers.

The review layer is the article's Assignment of kind=review; once approved it is the final version.
"Accept one version" = `review_take_all` (replace the layer with one annotator's spans and
relations); "merge span by span" = `review_take_span` / `review_drop_span`; "edit" happens on the
annotate page, which works on any assignment its owner holds.

Every write here locks the review assignment, bumps its version (optimistic concurrency for the
annotate page: a stale version gets 409 there) and records one history event per span.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q

from annotations.models import (
    Article,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    Relation,
    Span,
    SuggestionState,
)
from annotations.services.errors import ConflictError
from annotations.services.events import event_record


def span_key(span: Span) -> tuple[int, int, int]:
    return (span.start, span.end, span.label_id)


def span_snapshot(span: Span) -> dict:
    return {"id": span.id, "label": span.label.name, "start": span.start, "end": span.end, "text": span.text,
            "assignment": span.assignment_id}


def layer_spans(assignment_ids) -> list[Span]:
    """The visible spans of the given layers (rejected-suggestion tombstones left out)."""
    return list(
        Span.objects.filter(assignment_id__in=list(assignment_ids), state=SuggestionState.ACCEPTED)
        .select_related("label").order_by("start", "end", "id")
    )


def _check_editable(review: Assignment, article: Article, user, expected_version: int | None) -> None:
    from annotations.services.workflow import REVIEW_ROLES, check_role

    check_role(user=user, project=article.project, roles=REVIEW_ROLES, what="review articles")
    if article.status != ArticleStatus.IN_REVIEW:
        raise ValidationError(f"The article is {article.get_status_display().lower()}, not in review.")
    if expected_version is not None and expected_version != review.version:
        raise ConflictError("The review layer changed meanwhile; reload the page.", current_version=review.version)


def _bump(review: Assignment) -> None:
    Assignment.objects.filter(id=review.id).update(version=F("version") + 1)
    review.refresh_from_db(fields=["version", "updated_at"])


def _copy_spans(*, review: Assignment, spans: list[Span], actor) -> dict[int, Span]:
    """Copy `spans` into the review layer (skipping any already there with the same offsets and
    label). Returns {source span id: span in the review layer}."""
    present = {span_key(s): s for s in layer_spans([review.id])}
    used_suggestions = set(
        Span.objects.filter(assignment=review, from_suggestion__isnull=False)
        .values_list("from_suggestion_id", flat=True)
    )
    mapping: dict[int, Span] = {}
    new: list[tuple[Span, Span]] = []
    for src in spans:
        key = span_key(src)
        if key in present:
            mapping[src.id] = present[key]
            continue
        suggestion = src.from_suggestion_id if src.from_suggestion_id not in used_suggestions else None
        if suggestion:
            used_suggestions.add(suggestion)
        copy = Span(
            article_id=review.article_id, assignment=review, label=src.label, start=src.start, end=src.end,
            text=src.text, origin=src.origin, state=SuggestionState.ACCEPTED, confidence=src.confidence,
            preannotator=src.preannotator, model_version=src.model_version, attributes=src.attributes,
            from_suggestion_id=suggestion, created_by_id=src.created_by_id,
        )
        present[key] = copy
        mapping[src.id] = copy
        new.append((src, copy))
    Span.objects.bulk_create([c for _, c in new])
    for src, copy in new:
        after = span_snapshot(copy) | {"copied_from": src.id, "from_assignment": src.assignment_id}
        event_record(article=review.article, actor=actor, kind="span.created", after=after)
    return mapping


def _copy_relations(*, review: Assignment, source_ids, mapping: dict[int, Span], actor,
                    involving: Span | None = None) -> int:
    """Copy the relations of the source layers whose two ends are both in the review layer; with
    `involving`, only that span's own relations (taking one span must not bring back links of other
    spans that the reviewer dropped)."""
    review_spans = {span_key(s): s for s in layer_spans([review.id])}
    existing = set(Relation.objects.filter(assignment=review).values_list("from_span_id", "to_span_id", "type_id"))
    rels = Relation.objects.filter(
        assignment_id__in=list(source_ids), state=SuggestionState.ACCEPTED,
        from_span__state=SuggestionState.ACCEPTED, to_span__state=SuggestionState.ACCEPTED,
    )
    if involving is not None:
        rels = rels.filter(Q(from_span=involving) | Q(to_span=involving))
    rels = rels.select_related(
        "from_span", "to_span", "type"
    )
    made = []
    for rel in rels:
        a = mapping.get(rel.from_span_id) or review_spans.get(span_key(rel.from_span))
        b = mapping.get(rel.to_span_id) or review_spans.get(span_key(rel.to_span))
        if a is None or b is None or a.id is None or b.id is None:
            continue
        key = (a.id, b.id, rel.type_id)
        if key in existing:
            continue
        existing.add(key)
        made.append(Relation(article_id=review.article_id, assignment=review, type=rel.type, from_span=a, to_span=b,
                             origin=rel.origin, created_by_id=rel.created_by_id))
    Relation.objects.bulk_create(made)
    for rel in made:
        event_record(article=review.article, actor=actor, kind="relation.created",
                     after={"id": rel.id, "type": rel.type.name, "from": rel.from_span_id, "to": rel.to_span_id,
                            "assignment": review.id})
    return len(made)


def _annotation_layers(article: Article) -> list[Assignment]:
    return list(
        Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).select_related("user").order_by("id")
    )


def review_layer_seed(*, review: Assignment, actor) -> int:
    """Fill a new review layer with what every annotator agrees on: all spans of a single
    annotator, or the spans (same offsets and label) present in every annotator's layer, and the
    relations between them. Call under the article's row lock. Returns the number of spans."""
    layers = _annotation_layers(review.article)
    if not layers:
        return 0
    spans = layer_spans([a.id for a in layers])
    by_layer: dict[int, list[Span]] = {a.id: [] for a in layers}
    for s in spans:
        by_layer[s.assignment_id].append(s)
    first = by_layer[layers[0].id]
    others = [{span_key(s) for s in by_layer[a.id]} for a in layers[1:]]
    agreed = [s for s in first if all(span_key(s) in keys for keys in others)]
    if not agreed:
        return 0
    mapping = _copy_spans(review=review, spans=agreed, actor=actor)
    # a relation is agreed when every annotator drew it between the agreed spans
    rel_keys = []
    for a in layers:
        rel_keys.append({
            (span_key(r.from_span), span_key(r.to_span), r.type_id)
            for r in Relation.objects.filter(assignment=a, state=SuggestionState.ACCEPTED,
                                             from_span__state=SuggestionState.ACCEPTED,
                                             to_span__state=SuggestionState.ACCEPTED).select_related(
                "from_span", "to_span")
        })
    common = set.intersection(*rel_keys) if rel_keys else set()
    if common:
        review_spans = {span_key(s): s for s in mapping.values()}
        made = [
            Relation(article_id=review.article_id, assignment=review, type_id=t, from_span=review_spans[f],
                     to_span=review_spans[to])
            for f, to, t in common if f in review_spans and to in review_spans
        ]
        Relation.objects.bulk_create(made)
    _bump(review)
    return len(agreed)


def _locked_review(article: Article, user) -> tuple[Article, Assignment]:
    from annotations.services.workflow import review_start

    review_start(article=article, user=user)  # idempotent; makes it in_review with a layer
    article = Article.objects.select_for_update(of=("self",)).select_related("project").get(id=article.id)
    review = Assignment.objects.select_for_update().select_related("article").get(
        article=article, kind=AssignmentKind.REVIEW
    )
    return article, review


@transaction.atomic
def review_take_all(*, article: Article, source: Assignment, user, expected_version: int | None = None) -> Assignment:
    """Accept one annotator's version: the review layer becomes a copy of `source`'s spans and relations."""
    if source.article_id != article.id or source.kind != AssignmentKind.ANNOTATION:
        raise ValidationError("That is not an annotator's layer of this article.")
    article, review = _locked_review(article, user)
    _check_editable(review, article, user, expected_version)
    for old in layer_spans([review.id]):
        event_record(article=article, actor=user, kind="span.deleted", before=span_snapshot(old))
    Span.objects.filter(assignment=review).delete()  # relations of the layer go with their spans
    mapping = _copy_spans(review=review, spans=layer_spans([source.id]), actor=user)
    _copy_relations(review=review, source_ids=[source.id], mapping=mapping, actor=user)
    event_record(article=article, actor=user, kind="review.took_version",
                 after={"from_assignment": source.id, "user": source.user.username})
    _bump(review)
    return review


@transaction.atomic
def review_take_span(*, article: Article, span: Span, user, expected_version: int | None = None) -> Span:
    """Merge span by span: copy one annotator's span (and its relations to spans already taken)."""
    if span.article_id != article.id or span.assignment is None or span.assignment.kind != AssignmentKind.ANNOTATION:
        raise ValidationError("That span is not in an annotator's layer of this article.")
    article, review = _locked_review(article, user)
    _check_editable(review, article, user, expected_version)
    mapping = _copy_spans(review=review, spans=[span], actor=user)
    _copy_relations(review=review, source_ids=[span.assignment_id], mapping=mapping, actor=user, involving=span)
    _bump(review)
    return mapping[span.id]


@transaction.atomic
def review_drop_span(*, article: Article, span: Span, user, expected_version: int | None = None) -> None:
    """Remove a span from the review layer."""
    article, review = _locked_review(article, user)
    if span.assignment_id != review.id:
        raise ValidationError("That span is not in the review layer.")
    _check_editable(review, article, user, expected_version)
    event_record(article=article, actor=user, kind="span.deleted", before=span_snapshot(span))
    Span.objects.filter(id=span.id).delete()
    _bump(review)


@transaction.atomic
def review_take_relation(*, article: Article, relation: Relation, user, expected_version: int | None = None
                         ) -> Relation:
    """Merge link by link: copy one annotator's link into the review layer, with the two spans it
    joins when the final version does not have them yet."""
    if (relation.article_id != article.id or relation.assignment is None
            or relation.assignment.kind != AssignmentKind.ANNOTATION):
        raise ValidationError("That link is not in an annotator's layer of this article.")
    if SuggestionState.UNPLACED in (relation.from_span.state, relation.to_span.state):
        raise ValidationError("That link joins a span that could not be placed after a text edit.")
    article, review = _locked_review(article, user)
    _check_editable(review, article, user, expected_version)
    ends = [relation.from_span, relation.to_span]
    mapping = _copy_spans(review=review, spans=ends, actor=user)
    taken, created = Relation.objects.get_or_create(
        from_span=mapping[ends[0].id], to_span=mapping[ends[1].id], type=relation.type,
        defaults={"article_id": article.id, "assignment": review, "origin": relation.origin,
                  "created_by_id": relation.created_by_id},
    )
    if created:
        event_record(article=article, actor=user, kind="relation.created",
                     after={"id": taken.id, "type": relation.type.name, "from": taken.from_span_id,
                            "to": taken.to_span_id, "assignment": review.id, "copied_from": relation.id})
    _bump(review)
    return taken


@transaction.atomic
def review_drop_relation(*, article: Article, relation: Relation, user, expected_version: int | None = None) -> None:
    """Remove a link from the review layer (its spans stay)."""
    article, review = _locked_review(article, user)
    if relation.assignment_id != review.id:
        raise ValidationError("That link is not in the review layer.")
    _check_editable(review, article, user, expected_version)
    event_record(article=article, actor=user, kind="relation.deleted",
                 before={"id": relation.id, "type": relation.type.name, "from": relation.from_span_id,
                         "to": relation.to_span_id, "assignment": review.id})
    Relation.objects.filter(id=relation.id).delete()
    _bump(review)


def _why_not_agreed(article: Article) -> str:
    """Why `article` cannot be approved as its annotators' common version ("" when it can)."""
    from annotations.selectors.review import layer_contents

    if article.status != ArticleStatus.SUBMITTED:
        return f"it is {article.get_status_display().lower()}, not submitted and untouched"
    layers = _annotation_layers(article)
    if len(layers) < max(article.project.annotators_per_article, 1):
        return "not every annotator has finished"
    contents = layer_contents(assignment_ids=[a.id for a in layers])
    spans = {contents[a.id][0] for a in layers}
    links = {contents[a.id][1] for a in layers}
    if len(spans) > 1:
        return "the annotators' spans differ"
    if len(links) > 1:
        return "the annotators' links differ"
    return ""


def review_approve_agreed(*, articles, user, comment: str = "") -> dict:
    """Approve in one step each of `articles` whose annotators all agree: submitted and untouched
    by a reviewer, every slot filled, identical spans (offsets and labels) and identical links in
    every layer. The final version is that common layer (review_start seeds it). Each article is
    its own transaction, so a refusal never undoes another's approval. Returns
    {"approved": [ids], "skipped": [(id, reason)]}."""
    from annotations.services.workflow import REVIEW_ROLES, check_role, review_approve, review_start

    approved, skipped = [], []
    for article in articles:
        try:
            with transaction.atomic():
                locked = Article.objects.select_for_update(of=("self",)).select_related("project").get(id=article.id)
                check_role(user=user, project=locked.project, roles=REVIEW_ROLES, what="approve articles")
                reason = _why_not_agreed(locked)
                if reason:
                    skipped.append((locked.id, reason))
                    continue
                review_start(article=locked, user=user)
                review_approve(article=locked, user=user, comment=comment or "Approved: the annotators agree.")
                approved.append(locked.id)
        except (ValidationError, PermissionDenied) as exc:
            skipped.append((article.id, " ".join(getattr(exc, "messages", [str(exc)]))))
    return {"approved": approved, "skipped": skipped}


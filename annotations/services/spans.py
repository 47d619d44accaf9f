"""Writes to one person's layer of an article (their Assignment): spans, relations, decisions on
machine suggestions.

Contract of every function here: it runs in one transaction that holds SELECT ... FOR UPDATE on the
Assignment row, checks the caller's `expected_version` against `Assignment.version` (stale ->
ConflictError, HTTP 409), makes the change, records it in the article history and bumps the version.
The new version is returned with the result. On PostgreSQL the wait for the row lock is bounded by
`SET LOCAL lock_timeout`; running out of it raises BusyError (HTTP 503, "try again"), never a hang.

Offsets are Unicode code points into Article.text; the quoted text must equal text[start:end].
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q

from annotations.models import (
    Assignment,
    AssignmentStatus,
    LabelType,
    Origin,
    Relation,
    RelationDecision,
    RelationType,
    Span,
    SuggestionState,
)
from annotations.services.errors import BusyError, ConflictError, PermissionDenied, ValidationError
from annotations.services.events import event_record
from annotations.services.workflow import OPEN_ASSIGNMENT, assignment_start
from annotations.text.offsets import OffsetError, validate_span

LOCK_TIMEOUT_MS_DEFAULT = 2000
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL SQLSTATE lock_not_available (lock_timeout expired)


def lock_timeout_ms() -> int:
    return int(getattr(settings, "NEWSROOM", {}).get("LOCK_TIMEOUT_MS", LOCK_TIMEOUT_MS_DEFAULT))


def _is_lock_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return code == LOCK_NOT_AVAILABLE


def assignment_is_writable(*, assignment: Assignment, user) -> bool:
    """The owner (or a superuser) may change a layer while its assignment is open."""
    owner = assignment.user_id == user.id or user.is_superuser
    return bool(owner and assignment.status in OPEN_ASSIGNMENT)


def _check_writable(assignment: Assignment, user) -> None:
    if not (assignment.user_id == user.id or user.is_superuser):
        raise PermissionDenied("Only the person this article is assigned to can change its annotations.")
    if assignment.status not in OPEN_ASSIGNMENT:
        raise PermissionDenied(
            f"This assignment is {assignment.get_status_display().lower()}: it is read-only now."
        )


def _check_version(expected_version) -> int:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ValidationError({"expected_version": ["expected_version (a whole number) is required."]})
    return expected_version


@contextmanager
def layer_lock(*, assignment_id: int, user, expected_version: int) -> Iterator[Assignment]:
    """Open a transaction holding the Assignment row lock; yield it; bump its version on success.

    Raises BusyError when the lock is held elsewhere for longer than the lock timeout, ConflictError
    when `expected_version` is stale, PermissionDenied when the caller may not write.
    """
    expected_version = _check_version(expected_version)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms())}")
        try:
            qs = Assignment.objects.select_related("article", "article__project", "user")
            if connection.features.has_select_for_update_of:
                qs = qs.select_for_update(of=("self",))
            else:
                qs = qs.select_for_update()
            assignment = qs.get(id=assignment_id)
        except OperationalError as exc:
            if _is_lock_timeout(exc):
                raise BusyError("Someone else is saving this article right now; try again in a moment.") from exc
            raise
        _check_writable(assignment, user)
        if assignment.version != expected_version:
            raise ConflictError(
                "This article was changed elsewhere since you loaded it (version "
                f"{assignment.version}, yours {expected_version}). Reload to see the current version.",
                current_version=assignment.version,
            )
        if assignment.user_id == user.id:
            assignment_start(assignment=assignment, user=user)
        yield assignment
        assignment.version += 1
        Assignment.objects.filter(id=assignment.id).update(version=assignment.version)


def _span_record(span: Span) -> dict:
    return {"id": span.id, "label": span.label.name, "start": span.start, "end": span.end, "text": span.text}


def _label(assignment: Assignment, label) -> LabelType:
    """A label of the assignment's project, given as an id or a name."""
    qs = LabelType.objects.filter(project_id=assignment.article.project_id)
    try:
        if isinstance(label, int) and not isinstance(label, bool):
            return qs.get(id=label)
        if isinstance(label, str) and label:
            return qs.get(name=label)
    except LabelType.DoesNotExist:
        pass
    raise ValidationError({"label": [f"Unknown label {label!r} for this project."]})


def _validate_offsets(assignment: Assignment, start, end, text) -> str:
    try:
        return validate_span(assignment.article.text, start, end, text)
    except OffsetError as exc:
        raise ValidationError({"start": [str(exc)]}) from exc


def _layer_span(assignment: Assignment, span_id, *, unplaced_too: bool = False) -> Span:
    states = [SuggestionState.ACCEPTED] + ([SuggestionState.UNPLACED] if unplaced_too else [])
    try:
        return Span.objects.select_related("label").get(id=span_id, assignment=assignment, state__in=states)
    except (Span.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"span": [f"Span {span_id} is not in this layer."]})


def _suggestion(assignment: Assignment, suggestion_id) -> Span:
    try:
        return Span.objects.select_related("label").get(
            id=suggestion_id, article_id=assignment.article_id, assignment__isnull=True,
            origin=Origin.MACHINE, state=SuggestionState.PENDING,
        )
    except (Span.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"suggestion": [f"Suggestion {suggestion_id} does not exist for this article."]})


@dataclass
class Result:
    version: int
    span: Span | None = None
    relation: Relation | None = None
    spans: list[Span] | None = None
    relations: list[Relation] | None = None


# --- spans ------------------------------------------------------------------------------------

def span_create(
    *, assignment_id: int, user, label, start: int, end: int, text: str, expected_version: int,
) -> Result:
    """Add a human span [start, end) with `label` to the caller's layer."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        label_obj = _label(assignment, label)
        quote = _validate_offsets(assignment, start, end, text)
        if Span.objects.filter(
            assignment=assignment, label=label_obj, start=start, end=end, state=SuggestionState.ACCEPTED
        ).exists():
            raise ValidationError({"start": [f"There is already a {label_obj.name} span at {start}:{end}."]})
        span = Span.objects.create(
            article=assignment.article, assignment=assignment, label=label_obj, start=start, end=end, text=quote,
            origin=Origin.HUMAN, state=SuggestionState.ACCEPTED, created_by=user,
        )
        event_record(article=assignment.article, actor=user, kind="span.created", after=_span_record(span))
    return Result(version=assignment.version, span=span)


def span_update(*, assignment_id: int, user, span_id: int, label, expected_version: int) -> Result:
    """Change the label of a span of the caller's layer."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        span = _layer_span(assignment, span_id)
        label_obj = _label(assignment, label)
        before = _span_record(span)
        if label_obj.id != span.label_id:
            span.label = label_obj
            span.save(update_fields=["label", "updated_at"])
            event_record(article=assignment.article, actor=user, kind="span.updated", before=before,
                         after=_span_record(span))
    return Result(version=assignment.version, span=span)


def span_delete(*, assignment_id: int, user, span_id: int, expected_version: int) -> Result:
    """Remove a span (and its links) from the caller's layer. An accepted suggestion becomes a
    rejection, so the suggestion does not come back as pending."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        span = _layer_span(assignment, span_id, unplaced_too=True)
        before = _span_record(span)
        if span.from_suggestion_id and span.state == SuggestionState.ACCEPTED:
            Relation.objects.filter(Q(from_span=span) | Q(to_span=span), assignment=assignment).delete()
            span.state = SuggestionState.REJECTED
            span.save(update_fields=["state", "updated_at"])
            kind = "suggestion.rejected"
        else:
            span.delete()
            kind = "span.deleted"
        event_record(article=assignment.article, actor=user, kind=kind, before=before)
    return Result(version=assignment.version)


# --- suggestions ------------------------------------------------------------------------------

def _accept(assignment: Assignment, suggestion: Span, user) -> Span:
    decision, _ = Span.objects.update_or_create(
        assignment=assignment, from_suggestion=suggestion,
        defaults={
            "article": assignment.article, "label_id": suggestion.label_id, "start": suggestion.start,
            "end": suggestion.end, "text": suggestion.text, "origin": Origin.MACHINE,
            "state": SuggestionState.ACCEPTED, "confidence": suggestion.confidence,
            "preannotator": suggestion.preannotator, "model_version": suggestion.model_version,
            "attributes": suggestion.attributes, "job_id": suggestion.job_id, "created_by": user,
        },
    )
    return decision


def suggestion_accept(*, assignment_id: int, user, suggestion_id: int, expected_version: int) -> Result:
    """Copy a machine suggestion into the caller's layer (it remembers where it came from)."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        suggestion = _suggestion(assignment, suggestion_id)
        span = _accept(assignment, suggestion, user)
        event_record(article=assignment.article, actor=user, kind="suggestion.accepted",
                     after={**_span_record(span), "suggestion": suggestion.id, "confidence": suggestion.confidence})
    return Result(version=assignment.version, span=span)


def suggestion_reject(*, assignment_id: int, user, suggestion_id: int, expected_version: int) -> Result:
    """Record a rejection (a hidden tombstone row in the caller's layer)."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        suggestion = _suggestion(assignment, suggestion_id)
        existing = Span.objects.filter(assignment=assignment, from_suggestion=suggestion).first()
        if existing is not None:
            Relation.objects.filter(Q(from_span=existing) | Q(to_span=existing), assignment=assignment).delete()
        Span.objects.update_or_create(
            assignment=assignment, from_suggestion=suggestion,
            defaults={
                "article": assignment.article, "label_id": suggestion.label_id, "start": suggestion.start,
                "end": suggestion.end, "text": suggestion.text, "origin": Origin.MACHINE,
                "state": SuggestionState.REJECTED, "confidence": suggestion.confidence,
                "preannotator": suggestion.preannotator, "model_version": suggestion.model_version,
                "created_by": user,
            },
        )
        event_record(article=assignment.article, actor=user, kind="suggestion.rejected",
                     before={"suggestion": suggestion.id, "label": suggestion.label.name,
                             "start": suggestion.start, "end": suggestion.end})
    return Result(version=assignment.version)


def suggestion_reset(*, assignment_id: int, user, suggestion_id: int, expected_version: int) -> Result:
    """Forget the caller's decision on a suggestion (used by undo): it is pending again."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        suggestion = _suggestion(assignment, suggestion_id)
        deleted, _ = Span.objects.filter(assignment=assignment, from_suggestion=suggestion).delete()
        if deleted:
            event_record(article=assignment.article, actor=user, kind="suggestion.reset",
                         after={"suggestion": suggestion.id})
    return Result(version=assignment.version)


def suggestions_accept_above(*, assignment_id: int, user, threshold, expected_version: int) -> Result:
    """Accept, in one transaction, every pending suggestion with confidence >= threshold, and the
    machine relations between suggestions accepted that way (or earlier)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ValidationError({"threshold": ["threshold must be a number between 0 and 1."]})
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        decided = Span.objects.filter(assignment=assignment, from_suggestion__isnull=False).values("from_suggestion")
        pending = list(
            Span.objects.filter(
                article_id=assignment.article_id, assignment__isnull=True, origin=Origin.MACHINE,
                state=SuggestionState.PENDING, confidence__gte=threshold,
            ).exclude(id__in=decided)
        )
        created = Span.objects.bulk_create([
            Span(
                article=assignment.article, assignment=assignment, from_suggestion=s, label_id=s.label_id,
                start=s.start, end=s.end, text=s.text, origin=Origin.MACHINE, state=SuggestionState.ACCEPTED,
                confidence=s.confidence, preannotator=s.preannotator, model_version=s.model_version,
                attributes=s.attributes, job_id=s.job_id, created_by=user,
            )
            for s in pending
        ])
        relations = _accept_machine_relations(assignment, user, threshold=threshold)
        if created or relations:
            event_record(article=assignment.article, actor=user, kind="suggestion.accepted_bulk",
                         after={"threshold": threshold, "spans": len(created), "relations": len(relations)})
    if created and created[0].id is None:  # backends without RETURNING: read them back
        created = list(Span.objects.filter(assignment_id=assignment.id, from_suggestion__in=[s.id for s in pending]))
    return Result(version=assignment.version, spans=created, relations=relations)


def _accept_machine_relations(assignment: Assignment, user, *, threshold: float) -> list[Relation]:
    """Machine relations whose both ends are accepted in this layer, not linked there yet and not
    rejected there."""
    accepted = dict(
        Span.objects.filter(assignment=assignment, state=SuggestionState.ACCEPTED, from_suggestion__isnull=False)
        .values_list("from_suggestion_id", "id")
    )
    if not accepted:
        return []
    existing = set(Relation.objects.filter(assignment=assignment).values_list("from_span_id", "to_span_id", "type_id"))
    new = []
    for rel in Relation.objects.filter(
        article_id=assignment.article_id, assignment__isnull=True, state=SuggestionState.PENDING,
        from_span_id__in=accepted.keys(), to_span_id__in=accepted.keys(),
    ).filter(Q(confidence__isnull=True) | Q(confidence__gte=threshold)).exclude(
        decisions__assignment=assignment  # links this person rejected stay rejected
    ):
        key = (accepted[rel.from_span_id], accepted[rel.to_span_id], rel.type_id)
        if key in existing:
            continue
        existing.add(key)
        new.append(Relation(
            article_id=assignment.article_id, assignment=assignment, type_id=rel.type_id, from_span_id=key[0],
            to_span_id=key[1], origin=Origin.MACHINE, state=SuggestionState.ACCEPTED, confidence=rel.confidence,
            created_by=user,
        ))
    return Relation.objects.bulk_create(new)


def relation_suggestion_accept(*, assignment_id: int, user, relation_id: int, expected_version: int) -> Result:
    """Accept a machine relation: accept both its spans (if not yet) and link them in the layer."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        try:
            rel = Relation.objects.select_related("from_span", "to_span").get(
                id=relation_id, article_id=assignment.article_id, assignment__isnull=True,
            )
        except (Relation.DoesNotExist, ValueError, TypeError):
            raise ValidationError({"relation": [f"Relation suggestion {relation_id} does not exist."]})
        ends = []
        for suggestion in (rel.from_span, rel.to_span):
            existing = Span.objects.filter(assignment=assignment, from_suggestion=suggestion).first()
            if existing is not None and existing.state == SuggestionState.REJECTED:
                raise ValidationError({"relation": ["One end of this link was rejected; accept it first."]})
            ends.append(existing or _accept(assignment, suggestion, user))
        RelationDecision.objects.filter(assignment=assignment, suggestion=rel).delete()  # a "no" taken back
        relation, _ = Relation.objects.get_or_create(
            from_span=ends[0], to_span=ends[1], type_id=rel.type_id,
            defaults={"article_id": assignment.article_id, "assignment": assignment, "origin": Origin.MACHINE,
                      "state": SuggestionState.ACCEPTED, "confidence": rel.confidence, "created_by": user},
        )
        event_record(article=assignment.article, actor=user, kind="relation.accepted",
                     after={"relation": relation.id, "suggestion": rel.id})
    return Result(version=assignment.version, relation=relation, spans=ends)


def _relation_suggestion(assignment: Assignment, relation_id) -> Relation:
    try:
        return Relation.objects.get(id=relation_id, article_id=assignment.article_id, assignment__isnull=True,
                                    origin=Origin.MACHINE)
    except (Relation.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"relation": [f"Relation suggestion {relation_id} does not exist."]})


def relation_suggestion_reject(*, assignment_id: int, user, relation_id: int, expected_version: int) -> Result:
    """Reject a suggested link in the caller's layer: it is no longer offered to them. The spans it
    joins are untouched (either can still be accepted on its own). Rejecting twice is a no-op."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        rel = _relation_suggestion(assignment, relation_id)
        _decision, created = RelationDecision.objects.get_or_create(
            assignment=assignment, suggestion=rel,
            defaults={"state": SuggestionState.REJECTED, "created_by": user})
        if created:
            event_record(article=assignment.article, actor=user, kind="relation.rejected",
                         after={"suggestion": rel.id})
    return Result(version=assignment.version)


def relation_suggestion_reset(*, assignment_id: int, user, relation_id: int, expected_version: int) -> Result:
    """Take back a rejection: the suggested link is offered again (the undo of reject)."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        rel = _relation_suggestion(assignment, relation_id)
        deleted, _ = RelationDecision.objects.filter(assignment=assignment, suggestion=rel).delete()
        if deleted:
            event_record(article=assignment.article, actor=user, kind="relation.reset", after={"suggestion": rel.id})
    return Result(version=assignment.version)


# --- relations --------------------------------------------------------------------------------

def relation_create(
    *, assignment_id: int, user, from_span_id: int, to_span_id: int, type=None, expected_version: int,
) -> Result:
    """Link two spans of the caller's layer, e.g. CLAIM -attributed_to-> SOURCE."""
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        from_span = _layer_span(assignment, from_span_id)
        to_span = _layer_span(assignment, to_span_id)
        if from_span.id == to_span.id:
            raise ValidationError({"to_span": ["A span cannot be linked to itself."]})
        types = RelationType.objects.filter(project_id=assignment.article.project_id)
        if type is None:
            rtype = types.filter(Q(from_label__isnull=True) | Q(from_label=from_span.label_id),
                                 Q(to_label__isnull=True) | Q(to_label=to_span.label_id)).first()
            if rtype is None:
                raise ValidationError({"type": [
                    f"No link type goes from {from_span.label.name} to {to_span.label.name} in this project."]})
        else:
            lookup = {"id": type} if isinstance(type, int) and not isinstance(type, bool) else {"name": str(type)}
            rtype = types.filter(**lookup).first()
            if rtype is None:
                raise ValidationError({"type": [f"Unknown link type {type!r}."]})
            if (rtype.from_label_id and rtype.from_label_id != from_span.label_id) or (
                rtype.to_label_id and rtype.to_label_id != to_span.label_id
            ):
                raise ValidationError({"type": [
                    f"{rtype.name} cannot go from {from_span.label.name} to {to_span.label.name}."]})
        if Relation.objects.filter(from_span=from_span, to_span=to_span, type=rtype).exists():
            raise ValidationError({"to_span": ["These spans are already linked."]})
        relation = Relation.objects.create(
            article_id=assignment.article_id, assignment=assignment, type=rtype, from_span=from_span,
            to_span=to_span, origin=Origin.HUMAN, state=SuggestionState.ACCEPTED, created_by=user,
        )
        event_record(article=assignment.article, actor=user, kind="relation.created",
                     after={"id": relation.id, "type": rtype.name, "from": from_span.id, "to": to_span.id})
    return Result(version=assignment.version, relation=relation)


def relation_delete(*, assignment_id: int, user, relation_id: int, expected_version: int) -> Result:
    with layer_lock(assignment_id=assignment_id, user=user, expected_version=expected_version) as assignment:
        relation = Relation.objects.filter(id=relation_id, assignment=assignment).select_related("type").first()
        if relation is None:
            raise ValidationError({"relation": [f"Link {relation_id} is not in this layer."]})
        before = {"id": relation.id, "type": relation.type.name, "from": relation.from_span_id,
                  "to": relation.to_span_id}
        relation.delete()
        event_record(article=assignment.article, actor=user, kind="relation.deleted", before=before)
    return Result(version=assignment.version)


__all__ = [
    "AssignmentStatus",
    "BusyError",
    "ConflictError",
    "layer_lock",
    "relation_create",
    "relation_delete",
    "relation_suggestion_accept",
    "span_create",
    "span_delete",
    "span_update",
    "suggestion_accept",
    "suggestion_reject",
    "suggestion_reset",
    "suggestions_accept_above",
]

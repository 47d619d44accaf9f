"""Reads of one person's layer (an Assignment): what the annotate page and its API show.

`layer_payload()` issues a fixed number of queries whatever the number of spans (asserted in the
tests): the assignment with its article and project, labels, link types, the layer's spans, the
pending suggestions, the layer's links and the machine links.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from annotations.models import (
    Article,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    LabelType,
    Origin,
    Relation,
    RelationType,
    Span,
    SuggestionState,
)
from annotations.selectors.projects import project_list_for_user

SPAN_FIELDS = ("id", "label_id", "start", "end", "text", "origin", "confidence", "model_version",
               "preannotator", "from_suggestion_id")


def assignment_list_for_user(*, user) -> QuerySet[Assignment]:
    """Assignments in the caller's projects (what the workspace API may read)."""
    return Assignment.objects.filter(article__project__in=project_list_for_user(user=user))


def assignment_get_for_page(*, user, assignment_id: int) -> Assignment:
    """One assignment the user may see, with article and project (raises Assignment.DoesNotExist)."""
    return (
        assignment_list_for_user(user=user)
        .select_related("article", "article__project", "user")
        .get(id=assignment_id)
    )


def span_json(row: dict) -> dict:
    return {
        "id": row["id"], "label": row["label_id"], "start": row["start"], "end": row["end"], "text": row["text"],
        "origin": row["origin"], "confidence": row["confidence"], "model_version": row["model_version"],
        "from_suggestion": row["from_suggestion_id"],
    }


def span_obj_json(span: Span) -> dict:
    return span_json({f: getattr(span, f) for f in SPAN_FIELDS})


def relation_json(rel: Relation | dict) -> dict:
    get = rel.get if isinstance(rel, dict) else (lambda k: getattr(rel, k))
    return {"id": get("id"), "type": get("type_id"), "from": get("from_span_id"), "to": get("to_span_id"),
            "origin": get("origin"), "confidence": get("confidence")}


def layer_payload(*, assignment: Assignment, user) -> dict:
    """Everything the annotate page needs, as plain JSON-able data. Offsets are code points."""
    from annotations.services.spans import assignment_is_writable

    article = assignment.article
    project = article.project
    labels = [
        {"id": lt.id, "name": lt.name, "color": lt.color, "hotkey": lt.hotkey, "description": lt.description}
        for lt in LabelType.objects.filter(project_id=project.id).order_by("order", "name")
    ]
    relation_types = [
        {"id": rt["id"], "name": rt["name"], "from_label": rt["from_label_id"], "to_label": rt["to_label_id"],
         "hotkey": rt["hotkey"]}
        for rt in RelationType.objects.filter(project_id=project.id).values(
            "id", "name", "from_label_id", "to_label_id", "hotkey")
    ]
    layer_rows = list(Span.objects.filter(assignment_id=assignment.id).values(*SPAN_FIELDS, "state"))
    decided = {r["from_suggestion_id"] for r in layer_rows if r["from_suggestion_id"]}
    rejected = {r["from_suggestion_id"] for r in layer_rows if r["from_suggestion_id"] and r["state"] == "rejected"}
    accepted_from = {r["from_suggestion_id"]: r["id"] for r in layer_rows
                     if r["from_suggestion_id"] and r["state"] == "accepted"}
    spans = [span_json(r) for r in layer_rows if r["state"] == SuggestionState.ACCEPTED]
    unplaced = [span_json(r) for r in layer_rows if r["state"] == SuggestionState.UNPLACED]
    visible = {s["id"] for s in spans}
    suggestion_rows = Span.objects.filter(
        article_id=article.id, assignment__isnull=True, origin=Origin.MACHINE, state=SuggestionState.PENDING,
    ).values(*SPAN_FIELDS)
    suggestions = [span_json(r) for r in suggestion_rows if r["id"] not in decided]
    relations = [relation_json(r) for r in Relation.objects.filter(assignment_id=assignment.id).values(
        "id", "type_id", "from_span_id", "to_span_id", "origin", "confidence")
        if r["from_span_id"] in visible and r["to_span_id"] in visible]
    linked = {(r["from"], r["to"], r["type"]) for r in relations}
    relation_suggestions = []
    for r in Relation.objects.filter(
        article_id=article.id, assignment__isnull=True, state=SuggestionState.PENDING
    ).exclude(decisions__assignment_id=assignment.id).values(
        "id", "type_id", "from_span_id", "to_span_id", "origin", "confidence"
    ):
        if r["from_span_id"] in rejected or r["to_span_id"] in rejected:
            continue
        ends = (accepted_from.get(r["from_span_id"]), accepted_from.get(r["to_span_id"]), r["type_id"])
        if ends in linked:
            continue
        relation_suggestions.append(relation_json(r))
    return {
        "assignment": {
            "id": assignment.id, "kind": assignment.kind, "status": assignment.status,
            "user": assignment.user.username, "version": assignment.version,
        },
        "article": {"id": article.id, "title": article.title, "text": article.text, "status": article.status,
                    "outlet": article.outlet, "project": project.name},
        "version": assignment.version,
        "read_only": not assignment_is_writable(assignment=assignment, user=user),
        "labels": labels,
        "relation_types": relation_types,
        "spans": spans,
        "unplaced": unplaced,
        "suggestions": suggestions,
        "relations": relations,
        "relation_suggestions": relation_suggestions,
    }


FINISHED_SHOWN = 50


def queue_for_user(*, user) -> dict:
    """'My queue': the user's unfinished assignments (all), their latest finished ones (the newest
    FINISHED_SHOWN, with the total), the open articles of their projects, and their projects with
    their roles (for links to the project, progress and review pages). A fixed number of queries."""
    from annotations.models import Membership, Project
    from annotations.services.workflow import OPEN_ASSIGNMENT, OPEN_FOR_ANNOTATION

    counted = (
        Assignment.objects.filter(user=user)
        .select_related("article", "article__project")
        .annotate(
            span_count=Count("spans", filter=Q(spans__state=SuggestionState.ACCEPTED), distinct=True),
            relation_count=Count("relations", distinct=True),
        )
    )
    mine = list(counted.filter(status__in=OPEN_ASSIGNMENT).order_by("status", "-updated_at", "id"))
    finished_qs = Assignment.objects.filter(user=user).exclude(status__in=OPEN_ASSIGNMENT)
    finished_count = finished_qs.count()
    finished = list(counted.exclude(status__in=OPEN_ASSIGNMENT).order_by("-updated_at", "-id")[:FINISHED_SHOWN])
    roles: dict[int, set] = {}
    if user.is_superuser:
        member_projects = list(Project.objects.order_by("name"))
        roles = {p.id: {"manager", "editor", "annotator", "reviewer"} for p in member_projects}
    else:
        for project_id, role in Membership.objects.filter(user=user).values_list("project_id", "role"):
            roles.setdefault(project_id, set()).add(role)
        member_projects = list(Project.objects.filter(id__in=roles).order_by("name"))
    my_projects = [{"project": p, "roles": sorted(roles[p.id]),
                 "figures": bool(roles[p.id] & {"manager", "editor", "reviewer"}),
                 "progress": bool(roles[p.id] & {"manager", "editor", "reviewer"}),
                 "review": bool(roles[p.id] & {"manager", "reviewer"})} for p in member_projects]
    taken = Assignment.objects.filter(user=user).values("article_id")
    projects = project_list_for_user(user=user, roles=["annotator"])
    open_articles = list(
        Article.objects.filter(project__in=projects, status__in=OPEN_FOR_ANNOTATION)
        .exclude(id__in=taken)
        .select_related("project")
        .annotate(
            suggestion_count=Count(
                "spans", filter=Q(spans__assignment__isnull=True, spans__state="pending"), distinct=True
            ),
            slots_taken=Count("assignments", filter=Q(assignments__kind=AssignmentKind.ANNOTATION), distinct=True),
        )
        .order_by("id")[:200]
    )
    open_articles = [a for a in open_articles if a.slots_taken < a.project.annotators_per_article]
    return {"mine": mine, "finished": finished, "finished_count": finished_count, "open": open_articles,
            "projects": my_projects, "statuses": ArticleStatus}

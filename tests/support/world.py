"""A project with one object of every kind the API exposes, built through the services.

Used by the access matrix (another project's ids must answer 404), the schemathesis run and the
hostile-content pages (pass `text`/`title`/... holding markup).
"""

from dataclasses import dataclass, field

from annotations.models import ImportJob, LabelType, Origin, Relation, RelationType, Role, Span, SuggestionState
from annotations.services.exports import export_job_create
from annotations.services.spans import relation_create, span_create
from annotations.services.tokens import token_create
from annotations.services.webhooks import webhook_create
from annotations.services.workflow import assignments_assign
from tests.support.factories import UserFactory, make_article, make_project


@dataclass
class World:
    project: object
    users: dict
    ids: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)


def build_world(prefix: str, *, users: dict | None = None, text: str = "The minister said 42 people died.",
                title: str = "An article", comment: str = "", file_name: str = "upload.txt",
                meta: dict | None = None, label_prefix: str = "", webhook_url: str = "https://hooks.example.org/in",
                author: str = "") -> World:
    """`users`: role -> user; missing roles get fresh users named `<prefix>-<role>`."""
    users = dict(users or {})
    for role in (Role.MANAGER, Role.EDITOR, Role.ANNOTATOR, Role.REVIEWER):
        users.setdefault(role.value, UserFactory(username=f"{prefix}-{role.value}"))
    project = make_project(name=f"{prefix} desk", slug=f"{prefix}-desk",
                           members=[(u, r) for r, u in users.items()], created_by=users["manager"])
    if label_prefix:
        for lt in LabelType.objects.filter(project=project):
            lt.name = (label_prefix + lt.name)[:50]
            lt.save(update_fields=["name"])
    labels = list(LabelType.objects.filter(project=project).order_by("order", "name"))
    article = make_article(project, text=text, title=title, meta=meta or {}, author=author,
                           source_name=file_name, created_by=users["editor"])
    text = article.text  # as stored (normalised: CRLF -> LF, ...)
    [assignment] = assignments_assign(articles=[article], users=[users["annotator"]], actor=users["manager"])
    claim, source = labels[0], labels[1]
    end = min(len(text), 12)
    first = span_create(assignment_id=assignment.id, user=users["annotator"], label=claim.id, start=0, end=end,
                        text=text[:end], expected_version=assignment.version)
    second = span_create(assignment_id=assignment.id, user=users["annotator"], label=source.id,
                         start=end, end=len(text), text=text[end:], expected_version=first.version)
    link = relation_create(assignment_id=assignment.id, user=users["annotator"], from_span_id=first.span.id,
                           to_span_id=second.span.id, expected_version=second.version)
    suggestion = Span.objects.create(
        article=article, assignment=None, label=claim, start=0, end=end, text=text[:end], origin=Origin.MACHINE,
        state=SuggestionState.PENDING, confidence=0.9, preannotator="fallback", model_version="t1")
    suggestion2 = Span.objects.create(
        article=article, assignment=None, label=source, start=end, end=len(text), text=text[end:],
        origin=Origin.MACHINE, state=SuggestionState.PENDING, confidence=0.8, preannotator="fallback",
        model_version="t1")
    rel_suggestion = Relation.objects.create(
        article=article, assignment=None, type=RelationType.objects.filter(project=project).first(),
        from_span=suggestion, to_span=suggestion2, origin=Origin.MACHINE, state=SuggestionState.PENDING,
        confidence=0.7)
    import_job = ImportJob.objects.create(project=project, requested_by=users["editor"], original_name=file_name)
    export_job = export_job_create(project=project, requested_by=users["manager"], format_name="jsonl",
                                   name=f"{prefix}-v1")
    hook = webhook_create(project=project, url=webhook_url, events=["article.submitted"])
    token, key = token_create(user=users["annotator"], name=f"{prefix} token")
    world = World(project=project, users=users)
    world.ids = {
        "project": project.id, "article": article.id, "assignment": assignment.id, "span": first.span.id,
        "suggestion": suggestion.id, "relation": link.relation.id if hasattr(link, "relation") else None,
        "relation_suggestion": rel_suggestion.id, "import_job": import_job.id, "export_job": export_job.id,
        "webhook": hook.id, "member": users["annotator"].id, "token": token.id,
    }
    if world.ids["relation"] is None:
        world.ids["relation"] = Relation.objects.filter(assignment=assignment).values_list("id", flat=True).first()
    world.keys["annotator"] = key
    if comment:
        from annotations.services.events import event_record

        event_record(article=article, actor=users["reviewer"], kind="review.comment", comment=comment)
    return world

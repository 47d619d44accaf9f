"""Building annotated articles for the review tests, through the services."""

from annotations.models import Assignment
from annotations.services.spans import span_create
from annotations.services.workflow import assignment_next, assignment_submit
from tests.support.factories import make_article

TEXT = "The minister said 42 people died. Police said the road was closed."


def mark(assignment: Assignment, label: str, start: int, end: int):
    assignment.refresh_from_db()
    return span_create(assignment_id=assignment.id, user=assignment.user, label=label, start=start, end=end,
                       text=None, expected_version=assignment.version).span


def annotate_and_submit(project, annotators_spans: dict, text: str = TEXT, title: str = "", links=None):
    """One article in a pool project: each (user -> [(label, start, end)]) takes it with "next
    article", marks the spans, links them (`links`: user -> [(from index, to index)] into that
    user's spans) and submits. Returns (article, {user: assignment})."""
    from annotations.services.spans import relation_create

    article = make_article(project, text=text, title=title)
    out = {}
    for user, spans in annotators_spans.items():
        assignment = assignment_next(user=user, project=project)
        assert assignment is not None and assignment.article_id == article.id
        made = [mark(assignment, label, start, end) for label, start, end in spans]
        for i, j in (links or {}).get(user, []):
            assignment.refresh_from_db()
            relation_create(assignment_id=assignment.id, user=user, from_span_id=made[i].id,
                            to_span_id=made[j].id, expected_version=assignment.version)
        assignment_submit(assignment=assignment, user=user)
        out[user] = assignment
    article.refresh_from_db()
    return article, out

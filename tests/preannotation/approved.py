"""Build approved articles through the real workflow services (assign, annotate, submit, approve)."""

from annotations.models import Assignment
from annotations.services.spans import relation_create, span_create
from annotations.services.workflow import assignment_submit, assignments_assign, review_approve
from tests.support.factories import make_article


def approve_article(project, *, text, spans, relations=(), annotator, editor, reviewer, approve=True):
    """`spans`: (start, end, label) in code points of `text`; `relations`: (from index, to index)."""
    article = make_article(project, text)
    [assignment] = assignments_assign(articles=[article], users=[annotator], actor=editor)
    created = {}
    version = Assignment.objects.get(id=assignment.id).version
    for i, (start, end, label) in enumerate(spans):
        if article.text[start:end] != text[start:end]:
            continue  # the stored (normalised) text moved this span; leave it out
        result = span_create(assignment_id=assignment.id, user=annotator, label=label, start=start, end=end,
                             text=article.text[start:end], expected_version=version)
        version = result.version
        created[i] = result.span
    for a, b in relations:
        if a in created and b in created:
            version = relation_create(assignment_id=assignment.id, user=annotator, from_span_id=created[a].id,
                                      to_span_id=created[b].id, expected_version=version).version
    assignment_submit(assignment=Assignment.objects.get(id=assignment.id), user=annotator)
    article.refresh_from_db()
    if approve:
        review_approve(article=article, user=reviewer)
        article.refresh_from_db()
    return article

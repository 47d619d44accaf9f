"""A returned article shows the reviewer's comment on the annotator's annotate page, as text."""

from annotations.services.workflow import assignment_next, assignment_submit, review_return, review_start
from tests.support.factories import make_article


def test_annotate_page_shows_the_return_comment(client, project, annotator, reviewer):
    make_article(project, text="Officials said 42 people died.")
    assignment = assignment_next(user=annotator, project=project)
    assignment_submit(assignment=assignment, user=annotator)
    review_start(article=assignment.article, user=reviewer)
    review_return(article=assignment.article, user=reviewer, comment="<b>Mark the figure</b> as a CLAIM.")

    client.force_login(annotator)
    response = client.get(f"/annotate/{assignment.id}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="return-comment-note"' in body
    assert "&lt;b&gt;Mark the figure&lt;/b&gt; as a CLAIM." in body  # shown as text, never as markup


def test_no_comment_before_any_return(client, project, annotator):
    make_article(project, text="Officials said 42 people died.")
    assignment = assignment_next(user=annotator, project=project)
    client.force_login(annotator)
    assert 'id="return-comment-note"' not in client.get(f"/annotate/{assignment.id}/").content.decode()

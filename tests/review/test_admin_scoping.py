"""The admin shows each staff user only their projects, with permissions by project role; the
manual assignment action with its intermediate page; the article history shows the timeline."""

import pytest
from django.test import Client

from annotations.models import Assignment, Role
from tests.review.helpers import annotate_and_submit
from tests.support.factories import UserFactory, make_article, make_project

pytestmark = pytest.mark.django_db


def _staff(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_project(db):
    boss = UserFactory(username="otherboss")
    project = make_project(name="Other desk", slug="other-desk", members=[(boss, Role.MANAGER)])
    return project


def test_staff_see_only_their_projects_objects(project, other_project, editor, annotator):
    mine = make_article(project, title="Ours")
    theirs = make_article(other_project, title="Theirs")
    client = _staff(editor)
    listing = client.get("/admin/annotations/article/").content.decode()
    assert "Ours" in listing and "Theirs" not in listing
    assert client.get(f"/admin/annotations/article/{mine.id}/change/").status_code == 200
    assert client.get(f"/admin/annotations/article/{theirs.id}/change/").status_code == 302  # "doesn't exist"
    projects = client.get("/admin/annotations/project/").content.decode()
    assert "Wire desk" in projects and "Other desk" not in projects


def test_foreign_key_choices_are_limited_to_the_users_projects(project, other_project, manager):
    add = _staff(manager).get("/admin/annotations/labeltype/add/").content.decode()
    assert "Wire desk" in add and "Other desk" not in add


def test_roles_decide_what_staff_may_change(project, editor, annotator, manager):
    article = make_article(project, title="Ours")
    annotator_client = _staff(annotator)
    assert annotator_client.get(f"/admin/annotations/article/{article.id}/change/").status_code == 200  # view
    response = annotator_client.post(f"/admin/annotations/article/{article.id}/change/", {"title": "Hacked"})
    assert response.status_code == 403
    assert annotator_client.get("/admin/annotations/membership/add/").status_code == 403
    editor_client = _staff(editor)
    assert editor_client.get("/admin/annotations/membership/add/").status_code == 403  # managers only
    assert _staff(manager).get("/admin/annotations/membership/add/").status_code == 200


def test_assign_action_with_intermediate_page(project, editor, annotator, annotator2):
    a1 = make_article(project, text="First article text.")
    a2 = make_article(project, text="Second article text.")
    client = _staff(editor)
    data = {"action": "assign_to_annotators", "_selected_action": [a1.id, a2.id]}
    page = client.post("/admin/annotations/article/", data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "annotator2" in html and "Assign articles to annotators" in html
    done = client.post("/admin/annotations/article/", {**data, "post": "yes", "annotators": [annotator2.id]})
    assert done.status_code == 302
    assert set(Assignment.objects.filter(user=annotator2).values_list("article_id", flat=True)) == {a1.id, a2.id}


def test_article_history_shows_the_timeline(project, annotator, reviewer, manager):
    article, _ = annotate_and_submit(project, {annotator: [("CLAIM", 0, 32)]})
    html = _staff(manager).get(f"/admin/annotations/article/{article.id}/history/").content.decode()
    assert 'id="article-timeline"' in html
    assert "assignment.submitted" in html and "span.created" in html


def test_admin_pages_for_staff_do_not_query_per_model(project, editor, django_assert_max_num_queries):
    for i in range(5):
        make_article(project, text=f"Article {i} for the changelist.")
    client = _staff(editor)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/admin/annotations/article/").status_code == 200


def test_staff_annotators_do_not_read_other_peoples_work_in_the_admin(project, annotator, annotator2, manager):
    """An annotator who happens to be staff sees articles, but not the layers (spans, links,
    assignments), history, reviews, jobs or webhooks of their project: in a two-annotator study
    they would see each other's work. Managers still see everything."""
    from annotations.services.webhooks import webhook_create

    project.annotators_per_article = 2
    project.save()
    article, _ = annotate_and_submit(project, {annotator: [("CLAIM", 0, 6)], annotator2: [("SOURCE", 0, 6)]},
                                     text="Police said two people died.")
    webhook_create(project=project, url="https://example.org/h", events=["article.approved"])
    client = _staff(annotator)
    assert client.get("/admin/annotations/article/").status_code == 200
    for model in ("span", "relation", "assignment", "articleevent", "review", "webhook", "webhookdelivery",
                  "preannotationjob", "exportjob", "relationdecision"):
        assert client.get(f"/admin/annotations/{model}/").status_code == 403, model
    boss = _staff(manager)
    for model in ("span", "assignment", "webhook", "articleevent"):
        assert boss.get(f"/admin/annotations/{model}/").status_code == 200, model

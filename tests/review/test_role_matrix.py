"""The role x action matrix: every role tried against every state-changing action of the review
area, through the API and through the pages. Allowed: the documented success code and the state
changed. Refused: 403 for a member with the wrong role, 404 for someone outside the project, and
the state did not change."""

import pytest
from django.test import Client

from annotations.models import ArticleStatus, Assignment, AssignmentKind, Membership, Role
from annotations.services.workflow import assignment_next
from tests.review.helpers import annotate_and_submit, mark
from tests.support.factories import UserFactory, make_article

pytestmark = pytest.mark.django_db

ROLES = ["manager", "editor", "annotator", "reviewer", "outsider", "superuser"]


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root")
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def people(manager, editor, annotator, annotator2, reviewer, outsider, superuser):
    return {"manager": manager, "editor": editor, "annotator": annotator, "annotator2": annotator2,
            "reviewer": reviewer, "outsider": outsider, "superuser": superuser}


def _submitted(project, people):
    article, slots = annotate_and_submit(project, {people["annotator"]: [("CLAIM", 0, 32)]})
    return article


def _status(article):
    article.refresh_from_db()
    return article.status


# action: (allowed roles, success code, setup(project, people) -> (method, url, data, changed()))
def api_submit(project, people):
    article = make_article(project)
    assignment = assignment_next(user=people["annotator"], project=project)
    mark(assignment, "CLAIM", 0, 10)
    return "post", f"/api/articles/{article.id}/submit/", {}, lambda: _status(article) == ArticleStatus.SUBMITTED


def api_approve(project, people):
    article = _submitted(project, people)
    return "post", f"/api/articles/{article.id}/approve/", {}, lambda: _status(article) == ArticleStatus.APPROVED


def api_return(project, people):
    article = _submitted(project, people)
    return ("post", f"/api/articles/{article.id}/return/", {"comment": "Mark the second claim."},
            lambda: _status(article) == ArticleStatus.RETURNED)


def api_assign(project, people):
    article = make_article(project)
    return ("post", f"/api/articles/{article.id}/assign/", {"users": ["annotator2"]},
            lambda: Assignment.objects.filter(article=article, user=people["annotator2"]).exists())


def api_members_add(project, people):
    newbie = UserFactory(username="newbie")
    return ("post", f"/api/projects/{project.id}/members/", {"user": "newbie", "roles": ["annotator"]},
            lambda: Membership.objects.filter(project=project, user=newbie, role=Role.ANNOTATOR).exists())


def api_members_remove(project, people):
    gone = people["annotator2"]
    return ("delete", f"/api/projects/{project.id}/members/{gone.id}/", None,
            lambda: not Membership.objects.filter(project=project, user=gone).exists())


def api_distribute(project, people):
    article = make_article(project)
    return ("post", f"/api/projects/{project.id}/distribute/", {},
            lambda: Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).exists())


def page_start(project, people):
    article = _submitted(project, people)
    return ("page", f"/review/{article.id}/", {"action": "start"},
            lambda: _status(article) == ArticleStatus.IN_REVIEW)


def page_take_all(project, people):
    article = _submitted(project, people)
    slot = Assignment.objects.get(article=article, kind=AssignmentKind.ANNOTATION)
    return ("page", f"/review/{article.id}/", {"action": "take_all", "assignment": slot.id},
            lambda: Assignment.objects.filter(article=article, kind=AssignmentKind.REVIEW).exists())


def page_approve(project, people):
    article = _submitted(project, people)
    return ("page", f"/review/{article.id}/", {"action": "approve"},
            lambda: _status(article) == ArticleStatus.APPROVED)


def page_return(project, people):
    article = _submitted(project, people)
    return ("page", f"/review/{article.id}/", {"action": "return", "comment": "Please split the claim."},
            lambda: _status(article) == ArticleStatus.RETURNED)


def page_distribute(project, people):
    article = make_article(project)
    return ("page", f"/projects/{project.id}/distribute/", {},
            lambda: Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).exists())


REVIEWERS = {"manager", "reviewer", "superuser"}
EDITORS = {"manager", "editor", "superuser"}
MANAGERS = {"manager", "superuser"}
ACTIONS = {
    "api_submit": (api_submit, {"annotator"}, 200),  # only the annotator holding the slot
    "api_approve": (api_approve, REVIEWERS, 200),
    "api_return": (api_return, REVIEWERS, 200),
    "api_assign": (api_assign, EDITORS, 200),
    "api_members_add": (api_members_add, MANAGERS, 201),
    "api_members_remove": (api_members_remove, MANAGERS, 204),
    "api_distribute": (api_distribute, EDITORS, 200),
    "page_start": (page_start, REVIEWERS, 302),
    "page_take_all": (page_take_all, REVIEWERS, 302),
    "page_approve": (page_approve, REVIEWERS, 302),
    "page_return": (page_return, REVIEWERS, 302),
    "page_distribute": (page_distribute, EDITORS, 302),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_role_action_matrix(role, action, project, people, api_client):
    setup, allowed, success = ACTIONS[action]
    method, url, data, changed = setup(project, people)
    user = people[role]
    if method == "page":
        client = Client()
        client.force_login(user)
        response = client.post(url, data)
    else:
        api_client.force_authenticate(user)
        response = getattr(api_client, method)(url, data, format="json")
    if role in allowed:
        assert response.status_code == success, response.content
        assert changed(), f"{role} was allowed {action} but nothing changed"
    else:
        expected = 404 if role == "outsider" else 403
        assert response.status_code == expected, (role, action, response.status_code)
        assert not changed(), f"{role} was refused {action} but the state changed"


@pytest.mark.parametrize("role", ROLES)
def test_figures_and_pages_are_for_editors_reviewers_and_managers(role, project, people, api_client):
    user = people[role]
    api_client.force_authenticate(user)
    client = Client()
    client.force_login(user)
    article = _submitted(project, people)
    urls = [f"/api/projects/{project.id}/agreement/", f"/api/projects/{project.id}/progress/"]
    pages = [f"/projects/{project.id}/", f"/projects/{project.id}/progress/", f"/review/{article.id}/"]
    allowed = {"manager", "editor", "reviewer", "superuser"}
    for url in urls:
        code = api_client.get(url).status_code
        assert code == (200 if role in allowed else 404 if role == "outsider" else 403), (role, url, code)
    for url in pages:
        ok = allowed - {"editor"} if url.startswith("/review/") else allowed
        code = client.get(url).status_code
        assert code == (200 if role in ok else 404 if role == "outsider" else 403), (role, url, code)


def test_return_needs_a_comment(project, people, api_client):
    article = _submitted(project, people)
    api_client.force_authenticate(people["reviewer"])
    response = api_client.post(f"/api/articles/{article.id}/return/", {"comment": "  "}, format="json")
    assert response.status_code == 400
    assert _status(article) == ArticleStatus.SUBMITTED


def test_double_approve_through_the_api_changes_state_once(project, people, api_client):
    article = _submitted(project, people)
    api_client.force_authenticate(people["reviewer"])
    first = api_client.post(f"/api/articles/{article.id}/approve/", {}, format="json")
    second = api_client.post(f"/api/articles/{article.id}/approve/", {}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["review"]["id"] == second.json()["review"]["id"]
    assert first.json()["version"] == second.json()["version"]


def test_members_api_lists_and_replaces_roles(project, people, api_client):
    api_client.force_authenticate(people["manager"])
    listed = api_client.get(f"/api/projects/{project.id}/members/").json()
    assert {"user": "reviewer", "user_id": people["reviewer"].id, "roles": ["reviewer"]} in listed
    target = people["annotator2"]
    response = api_client.put(f"/api/projects/{project.id}/members/{target.id}/",
                              {"roles": ["annotator", "reviewer"]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["annotator", "reviewer"]
    # the last manager cannot be removed
    response = api_client.delete(f"/api/projects/{project.id}/members/{people['manager'].id}/")
    assert response.status_code == 400
    assert api_client.post(f"/api/projects/{project.id}/members/", {"user": "nobody", "roles": ["editor"]},
                           format="json").status_code == 400

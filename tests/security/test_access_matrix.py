"""Access: every API endpoint is scoped to the caller's projects, in one place.

1. Introspection: every view under /api/ is a ProjectScopedMixin or OwnerScopedMixin subclass, or
   listed below as unscoped by design, with the reason.
2. The role x endpoint x method matrix: every member role (and an outsider) calling every
   endpoint and method with ANOTHER project's ids gets 404, and nothing changes there.
3. The same matrix on the caller's own project: outsiders get 404; no call is a 5xx; roles
   that may not do something get 403.
4. `?ordering=author__password` / `created_by__password` is a 400 on every GET endpoint.
The route table is read from the URL resolver, so a new endpoint is covered the day it lands.
"""

import re

import pytest
from django.urls import URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView

from annotations.api.base import OwnerScopedMixin, ProjectScopedMixin
from annotations.api.views.auth import TokenObtainView
from annotations.api.views.workspace import NextArticleViewSet
from annotations.models import Article, Membership, Relation, Span, Webhook
from tests.support.factories import UserFactory
from tests.support.world import build_world

pytestmark = pytest.mark.django_db

UNSCOPED_BY_DESIGN = {
    SpectacularAPIView: "the schema describes endpoints, no data",
    SpectacularSwaggerSplitView: "the documentation page, no data",
    APIRootView: "the list of endpoint addresses, no data",
    TokenObtainView: "login with a password; answers only about the caller",
    NextArticleViewSet: "the caller's own queue: picks from their own memberships (tested below)",
}
ROLES = ["manager", "editor", "annotator", "reviewer"]
BODY = {
    "expected_version": 1, "label": "CLAIM", "start": 0, "end": 3, "text": "The minister said.",
    "threshold": 0.5, "roles": ["annotator"], "user": "annotator", "comment": "ok", "format": "jsonl",
    "url": "https://hooks.example.org/x", "events": ["article.submitted"], "name": "n1", "title": "t",
    "active": True, "articles": [], "users": [],
}


def api_routes():
    """(route, view class, {method: action}) for every /api/ URL, format-suffix twins left out."""
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    out = []
    for route, p in walk(get_resolver().url_patterns):
        if not route.startswith("api/") or "format" in route:
            continue
        cb = p.callback
        cls = getattr(cb, "cls", None) or getattr(cb, "view_class", None)
        actions = getattr(cb, "actions", None)
        if actions:
            methods = {m.upper(): a for m, a in actions.items() if m not in ("head", "options")}
        else:
            methods = {m.upper(): m for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)}
        out.append((route, cls, methods))
    return out


def object_key(route: str, kwarg: str) -> str:
    fixed = {"project_pk": "project", "span_id": "span", "suggestion_id": "suggestion"}
    if kwarg in fixed:
        return fixed[kwarg]
    if kwarg == "relation_id":
        return "relation_suggestion" if "relation-suggestions" in route else "relation"
    assert kwarg == "pk", (route, kwarg)
    for marker, key in [("/members/", "member"), ("/webhooks/", "webhook"), ("auth/tokens/", "token"),
                        ("import-jobs/", "import_job"), ("assignments/", "assignment"), ("exports/", "export_job"),
                        ("articles/", "article"), ("projects", "project")]:
        if marker in route:
            return key
    raise AssertionError(f"no object for {kwarg} in {route}")


def url_for(route: str, ids: dict) -> str:
    path = route.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(ids[object_key(route, m.group(1))]), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[object_key(route, m.group(1))]), path)
    assert not set("^$()?<>[]") & set(path), path
    return "/" + path


def scoped_routes():
    return [(r, c, m) for r, c, m in api_routes() if c not in UNSCOPED_BY_DESIGN]


def call(client, method, url, **extra):
    fn = getattr(client, method.lower())
    if method in ("GET", "DELETE"):
        return fn(url, **extra)
    return fn(url, BODY, format="json", **extra)


@pytest.fixture
def worlds(manager, editor, annotator, reviewer, outsider):
    mine = build_world("mine", users={"manager": manager, "editor": editor, "annotator": annotator,
                                      "reviewer": reviewer})
    theirs = build_world("theirs")
    return mine, theirs


def test_every_api_view_is_scoped_in_one_place():
    seen = set()
    for route, cls, _ in api_routes():
        seen.add(cls)
        assert issubclass(cls, ProjectScopedMixin | OwnerScopedMixin) or cls in UNSCOPED_BY_DESIGN, (
            f"{cls.__module__}.{cls.__name__} ({route}) is not scoped: derive it from ProjectScopedMixin")
    assert ProjectScopedMixin in {b for c in seen for b in c.__mro__}
    for cls in seen:
        fields = getattr(cls, "ordering_fields", None)
        assert fields is None or isinstance(fields, list | tuple), f"{cls.__name__}.ordering_fields must be explicit"
        assert getattr(cls, "filterset_fields", None) != "__all__", cls


def test_the_matrix_covers_every_scoped_route():
    routes = scoped_routes()
    assert len(routes) >= 10
    pairs = sum(len(m) for _, _, m in routes)
    assert pairs >= 20


def snapshot(world):
    p = world.project
    return (
        sorted(Article.objects.filter(project=p).values_list("id", "title", "status", "version")),
        sorted(Span.objects.filter(article__project=p).values_list("id", "label_id", "start", "end", "state")),
        Relation.objects.filter(article__project=p).count(),
        sorted(Membership.objects.filter(project=p).values_list("user_id", "role")),
        sorted(Webhook.objects.filter(project=p).values_list("id", "url", "active")),
    )


def test_another_projects_ids_answer_404_for_every_role_endpoint_and_method(api_client, worlds, outsider):
    mine, theirs = worlds
    before = snapshot(theirs)
    failures = []
    calls = 0
    for role in [*ROLES, "outsider"]:
        api_client.force_authenticate(outsider if role == "outsider" else mine.users[role])
        for route, _cls, methods in scoped_routes():
            if "<" not in route and "(?P" not in route:
                continue  # no id in the address: nothing of another project to name
            url = url_for(route, theirs.ids)
            for method in methods:
                response = call(api_client, method, url)
                calls += 1
                if response.status_code != 404:
                    failures.append(f"{role}: {method} {url} ({route}) -> {response.status_code}")
    assert calls >= 5 * 20
    assert failures == [], "\n".join(failures)
    assert snapshot(theirs) == before


MANAGER_ONLY = ("/members/", "/webhooks/")
NOT_FOR_ANNOTATORS = [
    ("POST", "api/projects/<int:project_pk>/articles/"),
    ("POST", "api/projects/<int:project_pk>/articles/import/"),
    ("GET", "api/projects/<int:project_pk>/agreement/"),
    ("GET", "api/projects/<int:project_pk>/progress/"),
    ("POST", "api/projects/<int:project_pk>/distribute/"),
    ("PATCH", "api/articles/<int:pk>/"),
]


def test_own_project_matrix(api_client, worlds, outsider):
    mine, _ = worlds
    failures = []
    # Least privileged first: the manager's writes (deleting members, hooks) come last.
    for role in ["outsider", "annotator", "reviewer", "editor", "manager"]:
        api_client.force_authenticate(outsider if role == "outsider" else mine.users[role])
        failures += _own_project_failures(api_client, mine, role)
    assert failures == [], "\n".join(failures)


def _own_project_failures(api_client, mine, role):
    failures = []
    for route, _cls, methods in scoped_routes():
        if "<" not in route and "(?P" not in route:
            continue
        if role != "manager" and "auth/tokens/" in route:
            continue  # tokens are the owner's (the annotator's), covered in test_tokens
        url = url_for(route, mine.ids)
        for method in methods:
            status = call(api_client, method, url).status_code
            if status >= 500:
                failures.append(f"{method} {url} -> {status}")
            elif role == "outsider" and "auth/tokens/" not in route and status != 404:
                failures.append(f"outsider {method} {url} -> {status}, expected 404")
            elif role != "manager" and role != "outsider" and any(m in route for m in MANAGER_ONLY) \
                    and status != 403:
                failures.append(f"{role} {method} {url} -> {status}, expected 403 (managers only)")
            elif role == "annotator" and (method, route) in NOT_FOR_ANNOTATORS and status != 403:
                failures.append(f"annotator {method} {url} -> {status}, expected 403")
    return failures


def test_a_member_of_both_projects_reaches_both_and_loses_one(api_client, worlds, annotator):
    mine, theirs = worlds
    Membership.objects.create(project=theirs.project, user=annotator, role="reviewer")
    api_client.force_authenticate(annotator)
    assert api_client.get(f"/api/articles/{theirs.ids['article']}/").status_code == 200
    Membership.objects.filter(project=theirs.project, user=annotator).delete()
    assert api_client.get(f"/api/articles/{theirs.ids['article']}/").status_code == 404


def test_next_article_never_hands_out_another_projects_article(api_client, worlds):
    mine, theirs = worlds
    loner = UserFactory(username="loner")
    api_client.force_authenticate(loner)
    response = api_client.post("/api/next-article/", {"project": theirs.project.id}, format="json")
    assert response.status_code in (204, 400, 404), response.status_code
    assert str(theirs.ids["article"]) not in response.content.decode() if response.content else True


BAD_ORDERINGS = ["author__password", "created_by__password", "-created_by__password", "user__password",
                 "requested_by__password", "name,created_by__password", "project__memberships__user__password",
                 "?", ""]


def test_ordering_outside_the_allowlist_is_a_400_everywhere(api_client, worlds, manager):
    mine, _ = worlds
    api_client.force_authenticate(manager)
    failures = []
    gets = [(r, c) for r, c, m in api_routes()
            if "GET" in m and c not in (SpectacularAPIView, SpectacularSwaggerSplitView, APIRootView)]
    assert len(gets) >= 10
    for route, _cls in gets:
        url = url_for(route, mine.ids)
        for bad in BAD_ORDERINGS:
            response = api_client.get(url, {"ordering": bad})
            if response.status_code != 400:
                failures.append(f"GET {url}?ordering={bad} -> {response.status_code}")
            elif "password" in bad and "ordering" not in response.json():
                failures.append(f"GET {url}?ordering={bad}: 400 without naming the parameter")
    assert failures == [], "\n".join(failures)


def test_allowed_ordering_still_works(api_client, worlds, manager):
    api_client.force_authenticate(manager)
    names = [p["name"] for p in api_client.get("/api/projects/", {"ordering": "-name"}).json()["results"]]
    assert names == sorted(names, reverse=True)
    assert api_client.get("/api/auth/tokens/", {"ordering": "name"}).status_code == 200


def test_undeclared_filter_parameters_are_ignored_not_applied(api_client, worlds, manager):
    mine, _ = worlds
    api_client.force_authenticate(manager)
    url = f"/api/projects/{mine.project.id}/articles/"
    everything = api_client.get(url).json()
    probing = api_client.get(url, {"created_by__password__startswith": "pbkdf2", "project__id": 0}).json()
    assert probing == everything


ADMIN_OBJECTS = [("article", "article"), ("span", "span"), ("importjob", "import_job"), ("exportjob", "export_job"),
                 ("webhook", "webhook"), ("assignment", "assignment"), ("project", "project")]


def test_admin_is_scoped_too(client, worlds):
    """A staff member who manages one project sees nothing of another in the admin either."""
    from django.urls import reverse

    mine, theirs = worlds
    manager = mine.users["manager"]
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager)
    failures = []
    for model, key in ADMIN_OBJECTS:
        for view in ("change", "delete", "history"):
            url = reverse(f"admin:annotations_{model}_{view}", args=[theirs.ids[key]])
            status = client.get(url).status_code
            if status not in (302, 403, 404):
                failures.append(f"{url} -> {status}")
        changelist = client.get(reverse(f"admin:annotations_{model}_changelist"))
        if changelist.status_code == 200 and "theirs desk" in changelist.content.decode():
            failures.append(f"{model} changelist lists another project's rows")
    assert failures == [], "\n".join(failures)
    own = client.get(reverse("admin:annotations_article_change", args=[mine.ids["article"]]))
    assert own.status_code == 200

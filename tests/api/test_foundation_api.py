import pytest

from annotations.models import ApiToken
from annotations.services.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db


def test_schema_generates(api_client, annotator):
    api_client.force_authenticate(annotator)
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/projects/" in response.content


def test_token_obtain_and_use(api_client, project, annotator):
    response = api_client.post("/api/auth/token/", {"username": "annotator", "password": "pass-word-123"})
    assert response.status_code == 201
    key = response.json()["token"]
    assert ApiToken.objects.get(user=annotator).key_hash != key  # only the hash is stored
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    listed = api_client.get("/api/projects/")
    assert listed.status_code == 200
    assert [p["slug"] for p in listed.json()["results"]] == ["wire-desk"]


def test_wrong_password_and_revoked_token_are_refused(api_client, project, annotator):
    assert api_client.post("/api/auth/token/", {"username": "annotator", "password": "nope"}).status_code == 401
    token, key = token_create(user=annotator)
    token_revoke(token=token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/projects/").status_code == 401


def test_outsider_sees_no_project(api_client, project, outsider):
    api_client.force_authenticate(outsider)
    assert api_client.get("/api/projects/").json()["results"] == []
    assert api_client.get(f"/api/projects/{project.id}/").status_code == 404

"""Personal API tokens: created, listed (prefix only), revoked and rotated by their owner only."""

import pytest

from annotations.models import ApiToken, Membership
from annotations.services.tokens import token_create

pytestmark = pytest.mark.django_db


def bearer(client, key):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_owner_creates_lists_and_uses_a_token(api_client, project, annotator):
    api_client.force_authenticate(annotator)
    created = api_client.post("/api/auth/tokens/", {"name": "export script"}, format="json")
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    key = body["token"]
    assert key.startswith(body["prefix"]) and body["name"] == "export script" and body["active"] is True
    row = ApiToken.objects.get(id=body["id"])
    assert key not in (row.key_hash, row.prefix) and len(row.prefix) < len(key)

    listed = api_client.get("/api/auth/tokens/")
    assert listed.status_code == 200
    assert [t["prefix"] for t in listed.json()["results"]] == [body["prefix"]]
    assert key not in listed.content.decode()
    assert "token" not in listed.json()["results"][0]
    detail = api_client.get(f"/api/auth/tokens/{body['id']}/")
    assert detail.status_code == 200 and key not in detail.content.decode()

    api_client.force_authenticate(None)
    assert bearer(api_client, key).get("/api/projects/").json()["results"][0]["slug"] == "wire-desk"
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_revoke_refuses_the_token_at_once(api_client, project, annotator):
    token, key = token_create(user=annotator, name="ci")
    bearer(api_client, key)
    assert api_client.get("/api/projects/").status_code == 200
    revoked = api_client.post(f"/api/auth/tokens/{token.id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert api_client.get("/api/projects/").status_code == 401


def test_rotate_issues_a_new_key_and_revokes_the_old(api_client, project, annotator):
    token, old_key = token_create(user=annotator, name="nightly")
    api_client.force_authenticate(annotator)
    rotated = api_client.post(f"/api/auth/tokens/{token.id}/rotate/")
    assert rotated.status_code == 201 and rotated["Cache-Control"] == "no-store"
    new_key = rotated.json()["token"]
    assert new_key != old_key and rotated.json()["name"] == "nightly"
    token.refresh_from_db()
    assert token.revoked_at is not None
    api_client.force_authenticate(None)
    assert bearer(api_client, old_key).get("/api/projects/").status_code == 401
    assert bearer(api_client, new_key).get("/api/projects/").status_code == 200
    # A revoked token cannot be rotated back to life.
    api_client.force_authenticate(annotator)
    again = api_client.post(f"/api/auth/tokens/{token.id}/rotate/")
    assert again.status_code == 400
    assert ApiToken.objects.filter(user=annotator, revoked_at__isnull=True).count() == 1


def test_someone_elses_token_answers_404(api_client, project, annotator, annotator2):
    theirs, _ = token_create(user=annotator2)
    api_client.force_authenticate(annotator)
    assert api_client.get(f"/api/auth/tokens/{theirs.id}/").status_code == 404
    assert api_client.post(f"/api/auth/tokens/{theirs.id}/revoke/").status_code == 404
    assert api_client.post(f"/api/auth/tokens/{theirs.id}/rotate/").status_code == 404
    assert api_client.get("/api/auth/tokens/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_token_management_needs_authentication(api_client, project, annotator):
    token, _ = token_create(user=annotator)
    assert api_client.get("/api/auth/tokens/").status_code == 401
    assert api_client.post("/api/auth/tokens/", {"name": "x"}).status_code == 401
    assert api_client.post(f"/api/auth/tokens/{token.id}/revoke/").status_code == 401


def test_removed_member_loses_access_through_every_token_at_once(api_client, project, annotator):
    keys = [token_create(user=annotator, name=f"t{i}")[1] for i in range(3)]
    for key in keys:
        assert bearer(api_client, key).get(f"/api/projects/{project.id}/").status_code == 200
    Membership.objects.filter(user=annotator, project=project).delete()
    for key in keys:
        bearer(api_client, key)
        assert api_client.get(f"/api/projects/{project.id}/").status_code == 404
        assert api_client.get("/api/projects/").json()["results"] == []


def test_deactivated_user_tokens_are_refused(api_client, project, annotator):
    _, key = token_create(user=annotator)
    annotator.is_active = False
    annotator.save(update_fields=["is_active"])
    assert bearer(api_client, key).get("/api/projects/").status_code == 401


def test_account_page_shows_prefixes_never_keys(client, project, annotator):
    client.force_login(annotator)
    page = client.get("/account/")
    assert page.status_code == 200
    assert "Wire desk" in page.content.decode() and "Annotator" in page.content.decode()

    form_id = page.content.decode().split('name="form_id" value="', 1)[1].split('"', 1)[0]
    created = client.post("/account/", {"action": "create", "name": "laptop", "form_id": form_id})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=annotator)
    # the page that showed the key, reloaded (the same form sent again): nothing more is made
    resent = client.post("/account/", {"action": "create", "name": "laptop", "form_id": form_id})
    assert resent.status_code == 409 and "already sent" in resent.content.decode()
    assert ApiToken.objects.filter(user=annotator).count() == 1
    assert client.post("/account/", {"action": "create", "name": "x"}).status_code == 409  # no form id
    html = created.content.decode()
    key_start = html.index('id="new-token-key"')
    key = html[key_start:].split('value="', 1)[1].split('"', 1)[0]
    assert key.startswith(token.prefix) and len(key) > 30

    # Every later GET shows the prefix only.
    again = client.get("/account/").content.decode()
    assert token.prefix in again and key not in again
    assert "new-token-key" not in again

    rotated = client.post("/account/", {"action": "rotate", "token": token.id})
    assert rotated.status_code == 200
    new_key = rotated.content.decode().split('id="new-token-key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert new_key != key
    assert new_key not in client.get("/account/").content.decode()

    new_token = ApiToken.objects.get(user=annotator, revoked_at__isnull=True)
    assert client.post("/account/", {"action": "revoke", "token": new_token.id}).status_code == 200
    assert not ApiToken.objects.filter(user=annotator, revoked_at__isnull=True).exists()


def test_account_page_cannot_touch_other_users_tokens(client, project, annotator, annotator2):
    theirs, _ = token_create(user=annotator2)
    client.force_login(annotator)
    assert client.post("/account/", {"action": "revoke", "token": theirs.id}).status_code == 404
    assert client.post("/account/", {"action": "rotate", "token": theirs.id}).status_code == 404
    assert client.post("/account/", {"action": "revoke", "token": "x"}).status_code == 404
    assert client.post("/account/", {"action": "bogus"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_account_page_needs_login(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

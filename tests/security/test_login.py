"""Login: rate-limited per (username, address) by django-axes, generic errors, local `next` only."""

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from annotations.models import ApiToken

pytestmark = pytest.mark.django_db

GENERIC = "Please enter a correct username and password"
LIMIT = settings.AXES_FAILURE_LIMIT


def login_post(client, username, password, addr="10.0.0.1", next_path=None):
    url = "/accounts/login/" + (f"?next={next_path}" if next_path else "")
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_axes_is_installed_first_and_keyed_on_username_and_address():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_ENABLED and 3 <= LIMIT <= 10


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, annotator):
    wrong_password = login_post(client, "annotator", "nope").content.decode()
    unknown_user = login_post(client, "nobody-here", "nope").content.decode()
    assert GENERIC in wrong_password and GENERIC in unknown_user
    annotator.is_active = False
    annotator.save(update_fields=["is_active"])
    inactive = login_post(client, "annotator", "pass-word-123").content.decode()
    assert GENERIC in inactive and "inactive" not in inactive.lower()


def test_login_locks_the_username_address_pair_after_the_limit(client, annotator):
    for _ in range(LIMIT - 1):
        assert login_post(client, "annotator", "wrong").status_code == 200
    locked = login_post(client, "annotator", "wrong")
    assert locked.status_code == 429
    # Even the right password is refused from that address while locked.
    right = login_post(client, "annotator", "pass-word-123")
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in right.content.decode()
    assert "Retry-After" in right
    # The same user from another address, and another user from this address, still log in.
    assert login_post(client, "annotator", "pass-word-123", addr="10.0.0.2").status_code == 302
    client.logout()


def test_other_user_from_a_locked_address_is_not_locked(client, annotator, annotator2):
    for _ in range(LIMIT):
        login_post(client, "annotator", "wrong")
    assert login_post(client, "annotator", "pass-word-123").status_code == 429
    assert login_post(client, "annotator2", "pass-word-123").status_code == 302


def test_lockout_of_an_unknown_username_looks_the_same(client, annotator):
    for _ in range(LIMIT):
        login_post(client, "ghost", "wrong")
    ghost = login_post(client, "ghost", "wrong")
    for _ in range(LIMIT):
        login_post(client, "annotator", "wrong")
    real = login_post(client, "annotator", "wrong")
    assert ghost.status_code == real.status_code == 429
    assert ghost.content == real.content


def test_success_resets_the_failure_count(client, annotator):
    for _ in range(LIMIT - 1):
        login_post(client, "annotator", "wrong")
    assert login_post(client, "annotator", "pass-word-123").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        login_post(client, "annotator", "wrong")
    assert login_post(client, "annotator", "pass-word-123").status_code == 302


def test_token_endpoint_is_rate_limited_by_axes_too(api_client, annotator):
    for _ in range(LIMIT - 1):
        r = api_client.post("/api/auth/token/", {"username": "annotator", "password": "bad"}, REMOTE_ADDR="10.0.0.9")
        assert r.status_code == 401 and r.json() == {"detail": "Invalid credentials."}
    assert api_client.post(
        "/api/auth/token/", {"username": "nobody", "password": "bad"}, REMOTE_ADDR="10.0.0.9"
    ).json() == {"detail": "Invalid credentials."}
    r = api_client.post("/api/auth/token/", {"username": "annotator", "password": "bad"}, REMOTE_ADDR="10.0.0.9")
    assert r.status_code == 429
    r = api_client.post(
        "/api/auth/token/", {"username": "annotator", "password": "pass-word-123"}, REMOTE_ADDR="10.0.0.9"
    )
    assert r.status_code == 429 and "Too many failed login attempts" in r.json()["detail"]
    assert not ApiToken.objects.filter(user=annotator).exists()
    # The web login shares the count: it is locked for that pair too.
    from django.test import Client

    assert login_post(Client(), "annotator", "pass-word-123", addr="10.0.0.9").status_code == 429


def test_forwarded_for_header_does_not_dodge_the_lockout(client, annotator):
    for i in range(LIMIT + 2):
        client.post(
            "/accounts/login/", {"username": "annotator", "password": "wrong"},
            REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    r = client.post("/accounts/login/", {"username": "annotator", "password": "pass-word-123"},
                    REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert r.status_code == 429


@pytest.mark.parametrize("target", [
    "https://evil.example.com/", "//evil.example.com/", "http:evil.example.com", "/\\evil.example.com",
    "javascript:alert(1)", "\\\\evil.example.com", "https:/evil.example.com",
])
def test_next_only_redirects_to_local_paths(client, annotator, target):
    from urllib.parse import quote

    response = login_post(client, "annotator", "pass-word-123", next_path=quote(target, safe=""))
    assert response.status_code == 302
    location = response["Location"]
    assert location == settings.LOGIN_REDIRECT_URL or location.startswith("/"), location
    assert not location.startswith("//") and "evil" not in location and "javascript" not in location


def test_next_to_a_local_path_is_followed(client, annotator):
    response = login_post(client, "annotator", "pass-word-123", next_path="/account/")
    assert response.status_code == 302 and response["Location"] == "/account/"


def test_password_validators_are_on(annotator):
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"UserAttributeSimilarityValidator", "MinimumLengthValidator",
            "CommonPasswordValidator", "NumericPasswordValidator"} <= names
    for weak in ["password", "12345678", "short", "annotator1"]:
        with pytest.raises(ValidationError):
            password_validation.validate_password(weak, user=annotator)
    password_validation.validate_password("correct horse battery staple 91", user=annotator)

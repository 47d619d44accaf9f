import pytest

from annotations.models import Role
from tests.support.factories import UserFactory, make_project

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs about a second per user on this machine; tests need no slow hash."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def manager(db):
    return UserFactory(username="manager")


@pytest.fixture
def editor(db):
    return UserFactory(username="editor")


@pytest.fixture
def annotator(db):
    return UserFactory(username="annotator")


@pytest.fixture
def annotator2(db):
    return UserFactory(username="annotator2")


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def project(manager, editor, annotator, annotator2, reviewer):
    """A project with one member per role (fallback pre-annotator: no trained model needed)."""
    return make_project(
        name="Wire desk",
        slug="wire-desk",
        members=[
            (manager, Role.MANAGER),
            (editor, Role.EDITOR),
            (annotator, Role.ANNOTATOR),
            (annotator2, Role.ANNOTATOR),
            (reviewer, Role.REVIEWER),
        ],
    )


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()

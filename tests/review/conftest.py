import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The per-role fixtures create users with a password; PBKDF2 makes each one cost ~1 s on a
    loaded machine. The tests here are about roles, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

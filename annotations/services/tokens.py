import hashlib
import secrets

from django.utils import timezone

from annotations.models import ApiToken

PREFIX_LENGTH = 8


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns (row, key). The key is shown once and only its hash is stored."""
    key = "nr_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[: PREFIX_LENGTH + 3], key_hash=token_hash(key)
    )
    return token, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_rotate(*, token: ApiToken) -> tuple[ApiToken, str]:
    """Revoke `token` and issue a new one with the same name."""
    token_revoke(token=token)
    return token_create(user=token.user, name=token.name)

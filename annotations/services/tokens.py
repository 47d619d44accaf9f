"""Personal API tokens. Only a SHA-256 of a key is stored; the key itself is returned once."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotations.models import ApiToken

PREFIX_LENGTH = 8
MAX_ACTIVE_TOKENS = 50


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns (row, key). The key is shown once and only its hash is stored."""
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(f"At most {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    key = "nr_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=(name or "").strip()[:100], prefix=key[: PREFIX_LENGTH + 3], key_hash=token_hash(key)
    )
    return token, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke `token` (idempotent). Every request made with it afterwards is refused."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def token_rotate(*, token: ApiToken) -> tuple[ApiToken, str]:
    """Revoke `token` and issue a new one with the same name, in one transaction.

    The row is locked so two concurrent rotations cannot both succeed; rotating a revoked
    token is refused (create a new one instead)."""
    locked = ApiToken.objects.select_for_update().get(id=token.id)
    if locked.revoked_at is not None:
        raise ValidationError("This token is revoked; create a new one instead.")
    token_revoke(token=locked)
    return token_create(user=locked.user, name=locked.name)

from django.db.models import QuerySet

from annotations.models import ApiToken


def token_list(*, user, include_revoked: bool = True) -> QuerySet[ApiToken]:
    """The tokens `user` owns, newest first (never anyone else's)."""
    tokens = ApiToken.objects.filter(user=user)
    if not include_revoked:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens.order_by("-created_at", "-id")

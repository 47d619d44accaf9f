"""Pages of the account area: the caller's roles and personal API tokens (`/account/`).

A new key is shown in the answer to the POST that made it (create or rotate), with
`Cache-Control: no-store`, never on a page reachable by GET, and never kept in the session.
"""

import secrets

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from annotations.models import Membership
from annotations.selectors.tokens import token_list
from annotations.services.tokens import token_create, token_revoke, token_rotate

FORM_IDS = "account_form_ids"


def _new_form_id(request) -> str:
    """A one-time id for the create form: sending the same form twice (reloading the page that
    showed a new key) creates nothing the second time."""
    form_id = secrets.token_urlsafe(16)
    request.session[FORM_IDS] = [*request.session.get(FORM_IDS, [])[-19:], form_id]
    return form_id


def _use_form_id(request, form_id: str) -> bool:
    ids = request.session.get(FORM_IDS, [])
    if not form_id or form_id not in ids:
        return False
    request.session[FORM_IDS] = [i for i in ids if i != form_id]
    return True


def _render(request, *, new_key=None, new_token=None, message="", error="", status=200):
    memberships = (
        Membership.objects.filter(user=request.user).select_related("project").order_by("project__name", "role")
    )
    roles: dict = {}
    for m in memberships:
        roles.setdefault(m.project, []).append(m.get_role_display())
    context = {
        **admin.site.each_context(request),
        "title": "Your account",
        "project_roles": sorted(roles.items(), key=lambda item: item[0].name),
        "tokens": token_list(user=request.user),
        "new_key": new_key,
        "new_token": new_token,
        "message": message,
        "error": error,
        "form_id": _new_form_id(request),
    }
    response = TemplateResponse(request, "annotations/account/account.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    if request.method == "GET":
        return _render(request)
    action = request.POST.get("action")
    try:
        if action == "create":
            if not _use_form_id(request, request.POST.get("form_id", "")):
                return _render(request, error="This form was already sent (was the page reloaded?), so no token was "
                               "made this time. A key is shown once, when it is made.", status=409)
            token, key = token_create(user=request.user, name=request.POST.get("name", ""))
            return _render(request, new_key=key, new_token=token, message="Token created.")
        token = get_object_or_404(token_list(user=request.user), id=_int(request.POST.get("token")))
        if action == "revoke":
            token_revoke(token=token)
            return _render(request, message=f"Token {token.prefix}… revoked.")
        if action == "rotate":
            new_token, key = token_rotate(token=token)
            return _render(request, new_key=key, new_token=new_token, message=f"Token {token.prefix}… rotated.")
    except ValidationError as exc:
        return _render(request, error=" ".join(exc.messages), status=400)
    return _render(request, error="Unknown action.", status=400)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


urlpatterns = [
    path("account/", account, name="account"),
]

"""Security plumbing pages: the CSP violation report endpoint and the login lockout answer."""

import json
import logging

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("newsroom.csp")

MAX_REPORT_BYTES = 16 * 1024
LOCKOUT_MESSAGE = "Too many failed login attempts. Try again later, or ask a manager to unlock the account."


@csrf_exempt  # browsers send reports without cookies' CSRF token; the endpoint only logs
@require_POST
def csp_report(request):
    """Record a Content-Security-Policy violation report (report-uri) in the `newsroom.csp` log.

    Accepts `application/csp-report` and `application/reports+json`; anything else or oversized
    is dropped with a 400. Always answers without a body, never a 500.
    """
    body = request.body[: MAX_REPORT_BYTES + 1]
    if len(body) > MAX_REPORT_BYTES:
        return HttpResponse(status=400)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return HttpResponse(status=400)
    reports = payload if isinstance(payload, list) else [payload]
    for report in reports:
        if not isinstance(report, dict):
            continue
        detail = report.get("csp-report") or report.get("body") or report
        if not isinstance(detail, dict):
            continue
        logger.warning(
            "CSP violation: %s blocked %s on %s",
            str(detail.get("violated-directive") or detail.get("effectiveDirective") or "?")[:200],
            str(detail.get("blocked-uri") or detail.get("blockedURL") or "?")[:500],
            str(detail.get("document-uri") or detail.get("documentURL") or "?")[:500],
            extra={"csp_report": {k: str(v)[:500] for k, v in list(detail.items())[:30]}},
        )
    return HttpResponse(status=204)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out (username, address): a 429 with a generic message.

    The same text whether or not the username exists, so a lockout reveals nothing about it.
    """
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    headers = {"Retry-After": str(int(cooloff.total_seconds()))} if cooloff else {}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKOUT_MESSAGE}, status=429, headers=headers)
    context = {**admin.site.each_context(request), "title": "Log in", "message": LOCKOUT_MESSAGE}
    response = TemplateResponse(request, "registration/locked_out.html", context, status=429, headers=headers)
    return response.render()


urlpatterns = [
    path(settings.CSP_REPORT_PATH.lstrip("/"), csp_report, name="csp-report"),
]

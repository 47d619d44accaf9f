"""Annotator pages: My queue, Next article, the annotate page (driven by an assignment id).

The annotate page renders the layer once into a `json_script` block (no second round trip) and
annotations/static/annotations/js/annotate.js draws it and talks to the workspace API.
No inline script or event handler: the page works under a Content-Security-Policy without
'unsafe-inline'.
"""

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from annotations.models import Assignment
from annotations.selectors.layers import assignment_get_for_page, layer_payload, queue_for_user
from annotations.selectors.review import return_comment_for_assignment
from annotations.services.workflow import assignment_next


def _context(request, **extra):
    """What admin/base_site.html needs, without admin.site.each_context's app list (two permission
    queries per page for a sidebar these pages don't show)."""
    site = admin.site
    return {
        "site_header": site.site_header, "site_title": site.site_title, "site_url": site.site_url,
        "has_permission": False, "is_nav_sidebar_enabled": False, "available_apps": [], "is_popup": False,
        **extra,
    }


@login_required
def queue(request):
    data = queue_for_user(user=request.user)
    return TemplateResponse(request, "annotations/workspace/queue.html", _context(request, title="My queue", **data))


@login_required
@require_POST
def next_article(request):
    assignment = assignment_next(user=request.user)
    if assignment is None:
        messages.info(request, "Nothing left to annotate in your projects right now.")
        return redirect("web:queue")
    return redirect("web:annotate", assignment_id=assignment.id)


@login_required
def annotate(request, assignment_id: int):
    try:
        assignment = assignment_get_for_page(user=request.user, assignment_id=assignment_id)
    except Assignment.DoesNotExist as exc:
        raise Http404("No such assignment.") from exc
    payload = layer_payload(assignment=assignment, user=request.user)
    payload["api"] = reverse("api:assignment-layer", args=[assignment.id])
    payload["next_url"] = reverse("web:next")
    payload["queue_url"] = reverse("web:queue")
    title = assignment.article.title or f"Article {assignment.article_id}"
    return TemplateResponse(
        request,
        "annotations/workspace/annotate.html",
        _context(request, title=title, assignment=assignment, article=assignment.article, layer=payload,
                 read_only=payload["read_only"], labels=payload["labels"],
                 return_review=return_comment_for_assignment(assignment=assignment)),
    )


urlpatterns = [
    path("queue/", queue, name="queue"),
    path("next/", next_article, name="next"),
    path("annotate/<int:assignment_id>/", annotate, name="annotate"),
]

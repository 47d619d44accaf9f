"""Pages of the review area: review queue, review (compare) page, project overview with agreement,
progress (with CSV), and an article's timeline.

Views parse input and call services/selectors. Outsiders get 404, members without the role 403.
No inline script: the pages work under a Content-Security-Policy without 'unsafe-inline'.
"""

import csv

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from annotations.models import Article, Assignment, AssignmentKind, Project, Relation, Role, Span
from annotations.selectors.projects import project_list_for_user, user_roles
from annotations.selectors.review import (
    article_timeline,
    latest_return_comments,
    progress_csv_rows,
    project_agreement,
    project_progress,
    project_timeline,
    review_compare,
    review_queue,
)
from annotations.services import review as review_services
from annotations.services import workflow
from annotations.services.errors import ConflictError

REVIEW_ROLES = {Role.REVIEWER, Role.MANAGER}
LOWEST_AGREEMENT_ROWS = 50
FIGURE_ROLES = {Role.MANAGER, Role.EDITOR, Role.REVIEWER}


def _context(request, **extra):
    return {**admin.site.each_context(request), **extra}


def _project(request, project_id, roles) -> tuple[Project, set[str]]:
    try:
        project = project_list_for_user(user=request.user).get(id=project_id)
    except Project.DoesNotExist as exc:
        raise Http404("No such project.") from exc
    held = user_roles(user=request.user, project=project)
    if roles and not held & set(roles):
        raise PermissionDenied("Your role in this project does not allow this page.")
    return project, held


def _article(request, article_id, roles) -> tuple[Article, set[str]]:
    try:
        article = (
            Article.objects.filter(project__in=project_list_for_user(user=request.user))
            .select_related("project").get(id=article_id)
        )
    except Article.DoesNotExist as exc:
        raise Http404("No such article.") from exc
    held = user_roles(user=request.user, project=article.project)
    if roles and not held & set(roles):
        raise PermissionDenied("Your role in this project does not allow this page.")
    return article, held


@login_required
def queue(request):
    """Submitted articles waiting for review, with filters. Reviewers and managers only (403 for
    anyone who reviews in no project, rather than an empty queue that looks like no work)."""
    if not project_list_for_user(user=request.user, roles=[Role.REVIEWER, Role.MANAGER]).exists():
        raise PermissionDenied("The review queue is for reviewers and managers.")
    filters = {k: request.GET.get(k, "") for k in
               ("project", "annotator", "since", "until", "status", "label", "min_count", "disagreement")}
    rows, choices, paging = review_queue(user=request.user, filters=filters, page=request.GET.get("page") or 1)
    agreeing = [row.article.id for row in rows
                if not row.disagreement and row.annotators and row.article.status == "submitted"]
    return TemplateResponse(request, "annotations/review/queue.html",
                            _context(request, title="Review queue", rows=rows, filters=filters, choices=choices,
                                     paging=paging, agreeing=agreeing))


@login_required
@require_POST
def approve_agreed(request):
    """Approve, in one step, the listed articles whose annotators agree (spans and links); the
    others are left in the queue with the reason."""
    ids = [int(v) for v in request.POST.getlist("article") if v.isdigit()]
    projects = project_list_for_user(user=request.user, roles=[Role.REVIEWER, Role.MANAGER])
    articles = list(Article.objects.filter(id__in=ids, project__in=projects).order_by("id"))
    result = review_services.review_approve_agreed(articles=articles, user=request.user)
    if result["approved"]:
        messages.success(request, f"Approved {len(result['approved'])} article(s) where the annotators agree.")
    for article_id, reason in result["skipped"][:10]:
        messages.warning(request, f"Article {article_id} not approved: {reason}.")
    if not result["approved"] and not result["skipped"]:
        messages.info(request, "No article to approve.")
    query = request.POST.get("query", "")
    url = reverse("web:review-queue")
    return redirect(f"{url}?{query}" if query and "\n" not in query and "\r" not in query else url)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("Bad request.") from exc


@login_required
def review_page(request, article_id: int):
    """Each annotator's spans side by side and merged with differences highlighted; take, drop,
    take all from one annotator, approve, return with a comment."""
    article, held = _article(request, article_id, REVIEW_ROLES)
    if request.method == "POST":
        return _review_post(request, article)
    data = review_compare(article=article)
    returns = latest_return_comments(article_ids=[article.id])
    return TemplateResponse(
        request, "annotations/review/review.html",
        _context(request, title=f"Review: {article}", article=article, last_return=returns.get(article.id),
                 can_act=article.status in workflow.REVIEWABLE, **data),
    )


def _review_post(request, article):
    action = request.POST.get("action", "")
    version = request.POST.get("version")
    expected = int(version) if version and version.isdigit() else None
    try:
        if action == "start":
            workflow.review_start(article=article, user=request.user)
            messages.success(request, "Review started.")
        elif action == "take_all":
            source = Assignment.objects.get(id=_int(request.POST.get("assignment")), article=article,
                                            kind=AssignmentKind.ANNOTATION)
            review_services.review_take_all(article=article, source=source, user=request.user,
                                            expected_version=expected)
            messages.success(request, f"Took {source.user.username}'s version.")
        elif action == "take":
            span = Span.objects.select_related("assignment").get(id=_int(request.POST.get("span")), article=article)
            review_services.review_take_span(article=article, span=span, user=request.user, expected_version=expected)
            messages.success(request, f"Took “{span.text[:60]}”.")
        elif action == "drop":
            span = Span.objects.get(id=_int(request.POST.get("span")), article=article)
            review_services.review_drop_span(article=article, span=span, user=request.user, expected_version=expected)
            messages.success(request, f"Removed “{span.text[:60]}” from the final version.")
        elif action == "take_link":
            relation = Relation.objects.select_related("assignment", "from_span", "to_span", "type").get(
                id=_int(request.POST.get("relation")), article=article)
            review_services.review_take_relation(article=article, relation=relation, user=request.user,
                                                 expected_version=expected)
            messages.success(request, f"Took the link “{relation.from_span.text[:40]}” → "
                                      f"“{relation.to_span.text[:40]}”.")
        elif action == "drop_link":
            relation = Relation.objects.select_related("type").get(id=_int(request.POST.get("relation")),
                                                                   article=article)
            review_services.review_drop_relation(article=article, relation=relation, user=request.user,
                                                 expected_version=expected)
            messages.success(request, "Removed the link from the final version.")
        elif action == "approve":
            workflow.review_approve(article=article, user=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, "Approved.")
        elif action == "return":
            workflow.review_return(article=article, user=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, "Returned to the annotators.")
        else:
            messages.error(request, "Unknown action.")
    except (Assignment.DoesNotExist, Span.DoesNotExist, Relation.DoesNotExist):
        messages.error(request, "That no longer exists; the page was out of date.")
    except ConflictError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("web:review", article_id=article.id)


@login_required
def project_page(request, project_id: int):
    """Project overview: statuses, agreement per label and annotator pair, and a small chart."""
    project, held = _project(request, project_id, FIGURE_ROLES)
    agreement = project_agreement(project=project)
    timeline = project_timeline(project=project, agreement=agreement)
    progress = project_progress(project=project)
    # where annotators disagree most first: what an editor looks at (the API has every article)
    articles = sorted(agreement["articles"],
                      key=lambda r: (r["f1_overlap"] is None, r["f1_overlap"] or 0.0, r["article"]))
    titles = dict(Article.objects.filter(id__in=[r["article"] for r in articles[:LOWEST_AGREEMENT_ROWS]])
                  .values_list("id", "title"))
    lowest = [{**r, "title": titles.get(r["article"]) or f"Article {r['article']}"}
              for r in articles[:LOWEST_AGREEMENT_ROWS]]
    return TemplateResponse(
        request, "annotations/review/project.html",
        _context(request, title=str(project), project=project, agreement=agreement, progress=progress,
                 lowest_agreement=lowest, articles_compared=len(articles),
                 charts=_charts(timeline), can_distribute=bool(held & {Role.EDITOR, Role.MANAGER}),
                 is_round_robin=project.assignment_policy == "round_robin"),
    )


@login_required
@require_POST
def project_distribute(request, project_id: int):
    project, _ = _project(request, project_id, {Role.EDITOR, Role.MANAGER})
    try:
        created = workflow.assignments_distribute(project=project, actor=request.user)
        messages.success(request, f"{len(created)} assignments made.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("web:project", project_id=project.id)


PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _charts(timeline: dict) -> list[dict]:
    """Two small line charts (throughput, agreement per week) as SVG coordinates, drawn by the template."""
    weeks = timeline["weeks"]
    width, height, pad = 420, 140, 28
    charts = []
    for key, title, top in (("throughput", "Articles submitted per week", None),
                            ("agreement", "Mean overlap F1 with the others per week", 1.0)):
        series = timeline[key]
        values = [v for vals in series.values() for v in vals if v is not None]
        vmax = top or max(values or [1]) or 1
        step = (width - 2 * pad) / max(len(weeks) - 1, 1)
        lines = []
        for i, (user, vals) in enumerate(sorted(series.items())):
            pts = [(pad + j * step, height - pad - (v / vmax) * (height - 2 * pad))
                   for j, v in enumerate(vals) if v is not None]
            lines.append({"user": user, "color": PALETTE[i % len(PALETTE)],
                          "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
                          "dots": [{"x": f"{x:.1f}", "y": f"{y:.1f}"} for x, y in pts]})
        charts.append({
            "key": key, "title": title, "width": width, "height": height, "pad": pad,
            "x_end": width - pad, "y_end": height - pad, "vmax": round(vmax, 2),
            "weeks": [{"x": f"{pad + j * step:.1f}", "label": w.strftime("%d %b")} for j, w in enumerate(weeks)],
            "lines": lines,
        })
    return charts


@login_required
def progress_page(request, project_id: int):
    """Counts by status, per annotator and per label; `?format=csv` downloads them."""
    project, _ = _project(request, project_id, FIGURE_ROLES)
    progress = project_progress(project=project)
    if request.GET.get("format") == "csv":
        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        response = StreamingHttpResponse((writer.writerow(r) for r in progress_csv_rows(progress)),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="progress-{project.slug}.csv"'
        return response
    return TemplateResponse(request, "annotations/review/progress.html",
                            _context(request, title=f"Progress: {project}", project=project, progress=progress,
                                     csv_url=reverse("web:progress", args=[project.id]) + "?format=csv"))


@login_required
def timeline_page(request, article_id: int):
    """The article's history: every status and span change, who and when, before and after."""
    article, _ = _article(request, article_id, None)
    return TemplateResponse(request, "annotations/review/timeline.html",
                            _context(request, title=f"Timeline: {article}", article=article,
                                     events=article_timeline(article=article)))


urlpatterns = [
    path("review/", queue, name="review-queue"),
    path("review/approve-agreed/", approve_agreed, name="review-approve-agreed"),
    path("review/<int:article_id>/", review_page, name="review"),
    path("projects/<int:project_id>/", project_page, name="project"),
    path("projects/<int:project_id>/distribute/", project_distribute, name="project-distribute"),
    path("projects/<int:project_id>/progress/", progress_page, name="progress"),
    path("articles/<int:article_id>/timeline/", timeline_page, name="timeline"),
]

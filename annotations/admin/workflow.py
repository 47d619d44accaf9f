from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from annotations import models as m
from annotations.admin.scoping import EDITORS, STAFF_READERS, ProjectScopedAdminMixin, ReadOnlyRecordMixin
from annotations.models import Role
from annotations.selectors.projects import project_list_for_user
from annotations.services.workflow import assignments_assign, assignments_distribute


class AssignForm(forms.Form):
    annotators = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text="Each chosen annotator gets a slot on each selected article.",
    )

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annotators"].queryset = (
            get_user_model().objects.filter(
                memberships__project__in=projects or [], memberships__role=Role.ANNOTATOR, is_active=True
            ).distinct().order_by("username")
        )


@admin.action(description="Assign to annotators…")
def assign_to_annotators(modeladmin, request, queryset):
    """Admin action with an intermediate page: choose the annotator(s) for the selected articles."""
    articles = list(queryset.select_related("project"))
    allowed = set(project_list_for_user(user=request.user, roles=list(EDITORS)).values_list("id", flat=True))
    if not request.user.is_superuser and any(a.project_id not in allowed for a in articles):
        raise PermissionDenied("Only editors and managers assign articles.")
    projects = {a.project_id for a in articles}
    if request.POST.get("post"):
        form = AssignForm(request.POST, projects=projects)
        if form.is_valid():
            try:
                created = assignments_assign(articles=articles, users=form.cleaned_data["annotators"],
                                             actor=request.user)
            except ValidationError as exc:
                modeladmin.message_user(request, " ".join(exc.messages), messages.ERROR)
                return None
            modeladmin.message_user(request, f"{len(created)} assignments made.", messages.SUCCESS)
            return None
    else:
        form = AssignForm(projects=projects)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Assign articles to annotators",
        "form": form,
        "articles": articles,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": "assign_to_annotators",
    }
    return TemplateResponse(request, "admin/annotations/article/assign.html", context)


@admin.action(description="Distribute round-robin over the project's annotators")
def distribute_round_robin(modeladmin, request, queryset):
    total = 0
    by_project: dict[int, list] = {}
    for article in queryset.select_related("project"):
        by_project.setdefault(article.project_id, [article.project, []])[1].append(article.id)
    for project, ids in by_project.values():
        try:
            total += len(assignments_distribute(project=project, articles=ids, actor=request.user))
        except ValidationError as exc:
            modeladmin.message_user(request, f"{project}: {' '.join(exc.messages)}", messages.ERROR)
    modeladmin.message_user(request, f"{total} assignments made.", messages.SUCCESS)


@admin.register(m.Assignment)
class AssignmentAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    list_display = ["article", "user", "kind", "status", "version", "submitted_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["article"]
    list_select_related = ["article", "user"]
    project_field = "article__project"
    change_roles = EDITORS


@admin.register(m.Review)
class ReviewAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    list_display = ["article", "reviewer", "decision", "created_at"]
    list_filter = ["decision"]
    raw_id_fields = ["article"]
    project_field = "article__project"
    change_roles = ()  # decisions are made on the review page, never edited

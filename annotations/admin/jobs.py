from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from django.utils.text import Truncator

from annotations import models as m
from annotations.admin.scoping import EDITORS, STAFF_READERS, ProjectScopedAdminMixin, ReadOnlyRecordMixin
from annotations.selectors.projects import user_roles

RERUN_ROLES = {"editor", "manager"}


def _allowed_articles(request, articles):
    """Split `articles` into those the user may re-run (editor/manager of the project) and the rest."""
    allowed, refused = [], 0
    roles: dict[int, set] = {}
    for article in articles:
        if article.project_id not in roles:
            roles[article.project_id] = user_roles(user=request.user, project=article.project)
        if roles[article.project_id] & RERUN_ROLES:
            allowed.append(article)
        else:
            refused += 1
    return allowed, refused


def _rerun(modeladmin, request, articles, what: str):
    from annotations.services.preannotation import preannotation_rerun

    allowed, refused = _allowed_articles(request, articles)
    if refused:
        modeladmin.message_user(request, f"{refused} article(s) skipped: you are not an editor of their project.",
                                messages.WARNING)
    if not allowed:
        return
    before = set(m.PreannotationJob.objects.filter(article__in=allowed, status__in=["queued", "running"])
                 .values_list("id", flat=True))
    jobs = preannotation_rerun(articles=allowed, requested_by=request.user)
    new = [j for j in jobs if j.id not in before]
    modeladmin.message_user(
        request, f"{what}: {len(new)} job(s) queued; {len(jobs) - len(new)} already queued or running.",
        messages.SUCCESS,
    )


class PreannotationStateFilter(admin.SimpleListFilter):
    title = "pre-annotation"
    parameter_name = "preannotation"

    def lookups(self, request, model_admin):
        return [*m.JobStatus.choices, ("none", "Never run")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(preannotation_status__isnull=True)
        return queryset.filter(preannotation_status=value)


class ArticlePreannotationMixin:
    """Pre-annotation state (latest job + reason) as a column and filter, and the editor actions.

    Mixed into ArticleAdmin (annotations/admin/articles.py). One query: the latest job's status and
    error come in as subquery annotations.
    """

    def get_queryset(self, request):
        latest = m.PreannotationJob.objects.filter(article=OuterRef("pk")).order_by("-created_at", "-id")
        return super().get_queryset(request).annotate(
            preannotation_status=Subquery(latest.values("status")[:1]),
            preannotation_error=Subquery(latest.values("error")[:1]),
        )

    def get_list_display(self, request):
        return [*super().get_list_display(request), "preannotation_state"]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), PreannotationStateFilter]

    @admin.display(description="Pre-annotation", ordering="preannotation_status")
    def preannotation_state(self, obj):
        status = getattr(obj, "preannotation_status", None)
        if not status:
            return "–"
        label = m.JobStatus(status).label
        if status == m.JobStatus.FAILED:
            error = getattr(obj, "preannotation_error", "") or ""
            return format_html('<span class="preannotation-failed" title="{}">{}: {}</span>', error, label,
                               Truncator(error).chars(120))
        return label

    def get_actions(self, request):
        actions = super().get_actions(request)
        for func in (rerun_preannotation, retry_failed_preannotation):
            actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions


class ProjectPreannotationMixin:
    """On ProjectAdmin: the pre-annotator is chosen from the plug-ins, and editors can train a model."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "preannotator":
            from django import forms

            from annotations.preannotators.registry import AVAILABLE

            return forms.ChoiceField(choices=[(k, f"{k}: {v}") for k, v in AVAILABLE.items()],
                                     label="Pre-annotator", initial="builtin",
                                     help_text='"trained" uses the active trained model; "ml_backend" needs '
                                               'preannotator_config {"url": ...}.')
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions["train_preannotator_model"] = (train_preannotator_model, "train_preannotator_model",
                                               train_preannotator_model.short_description)
        return actions


@admin.action(description="Train a pre-annotation model on the approved articles")
def train_preannotator_model(modeladmin, request, queryset):
    from django.core.exceptions import ValidationError

    from annotations.services.training import trained_model_request

    for project in queryset:
        if not user_roles(user=request.user, project=project) & RERUN_ROLES:
            modeladmin.message_user(request, f"{project}: only editors and managers may train.", messages.WARNING)
            continue
        try:
            model = trained_model_request(project=project, requested_by=request.user)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{project}: {'; '.join(exc.messages)}", messages.ERROR)
            continue
        modeladmin.message_user(request, f"{project}: training {model} (a worker job; see Trained models).",
                                messages.SUCCESS)


@admin.action(description="Re-run pre-annotation on the selected articles")
def rerun_preannotation(modeladmin, request, queryset):
    _rerun(modeladmin, request, list(queryset.select_related("project")), "Re-run")


@admin.action(description="Retry failed pre-annotation")
def retry_failed_preannotation(modeladmin, request, queryset):
    latest = m.PreannotationJob.objects.filter(article=OuterRef("pk")).order_by("-created_at", "-id")
    failed = list(
        queryset.model.objects.filter(pk__in=queryset.values("pk"))
        .annotate(last=Subquery(latest.values("status")[:1]))
        .filter(last=m.JobStatus.FAILED)
        .select_related("project")
    )
    if not failed:
        modeladmin.message_user(request, "None of the selected articles has a failed pre-annotation.",
                                messages.INFO)
        return
    _rerun(modeladmin, request, failed, "Retry")


@admin.action(description="Retry the selected failed jobs")
def retry_failed_jobs(modeladmin, request, queryset):
    articles = [j.article for j in queryset.filter(status=m.JobStatus.FAILED).select_related("article__project")]
    if not articles:
        modeladmin.message_user(request, "No failed job selected.", messages.INFO)
        return
    _rerun(modeladmin, request, articles, "Retry")


@admin.register(m.PreannotationJob)
class PreannotationJobAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    project_field = "article__project"
    change_roles = EDITORS
    list_display = ["id", "article", "status", "preannotator", "model_version", "attempts", "span_count",
                    "short_error", "created_at", "finished_at"]
    list_filter = ["status", "preannotator"]
    list_select_related = ["article"]
    raw_id_fields = ["article", "requested_by"]
    readonly_fields = ["error", "claim", "text_hash", "attempts", "enqueued_at", "started_at", "finished_at"]
    actions = [retry_failed_jobs]

    @admin.display(description="Reason")
    def short_error(self, obj):
        return Truncator(obj.error).chars(100)


@admin.register(m.ImportJob)
class ImportJobAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    change_roles = EDITORS
    list_display = ["id", "project", "original_name", "status", "processed", "total", "created_at"]
    list_filter = ["status"]


@admin.register(m.ExportJob)
class ExportJobAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    change_roles = EDITORS
    list_display = ["id", "name", "project", "format", "status", "sha256", "created_at"]
    list_filter = ["status", "format"]

    # A dataset version is immutable: the export service makes it, nobody edits it here.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Use the selected model version for pre-annotation")
def activate_trained_model(modeladmin, request, queryset):
    from django.core.exceptions import PermissionDenied, ValidationError

    from annotations.services.training import trained_model_activate

    models_ = list(queryset.select_related("project"))
    if len(models_) != 1:
        modeladmin.message_user(request, "Choose exactly one model version.", messages.ERROR)
        return
    try:
        model = trained_model_activate(model=models_[0], actor=request.user)
    except (PermissionDenied, ValidationError) as exc:
        modeladmin.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
        return
    modeladmin.message_user(request, f"{model.project}: new pre-annotation jobs use {model}.", messages.SUCCESS)


@admin.register(m.TrainedModel)
class TrainedModelAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    actions = [activate_trained_model]
    list_display = ["project", "version", "status", "activated", "f1", "baseline_f1", "train_count", "eval_count",
                    "created_at"]
    list_filter = ["status", "activated", "project"]
    readonly_fields = ["path", "metrics", "baseline_metrics", "error", "train_count", "eval_count", "finished_at"]

    @admin.display(description="Overlap F1")
    def f1(self, obj):
        value = (obj.metrics or {}).get("overlap", {}).get("ALL", {}).get("f1")
        return "–" if value is None else f"{value:.3f}"

    @admin.display(description="Baseline F1")
    def baseline_f1(self, obj):
        value = (obj.baseline_metrics or {}).get("overlap", {}).get("ALL", {}).get("f1")
        return "–" if value is None else f"{value:.3f}"

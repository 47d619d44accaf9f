from django.contrib import admin

from annotations import models as m
from annotations.admin.scoping import EDITORS, ProjectScopedAdminMixin


@admin.register(m.PreannotationJob)
class PreannotationJobAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    project_field = "article__project"
    change_roles = EDITORS
    list_display = ["id", "article", "status", "preannotator", "model_version", "attempts", "span_count", "created_at"]
    list_filter = ["status", "preannotator"]
    raw_id_fields = ["article"]
    readonly_fields = ["error"]


@admin.register(m.ImportJob)
class ImportJobAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    change_roles = EDITORS
    list_display = ["id", "project", "original_name", "status", "processed", "total", "created_at"]
    list_filter = ["status"]


@admin.register(m.ExportJob)
class ExportJobAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    change_roles = EDITORS
    list_display = ["id", "name", "project", "format", "status", "sha256", "created_at"]
    list_filter = ["status", "format"]


@admin.register(m.TrainedModel)
class TrainedModelAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    list_display = ["project", "version", "status", "activated", "train_count", "eval_count", "created_at"]

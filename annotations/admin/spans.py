from django.contrib import admin

from annotations import models as m
from annotations.admin.scoping import STAFF_READERS, ProjectScopedAdminMixin, ReadOnlyRecordMixin


@admin.register(m.Span)
class SpanAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    project_field = "article__project"
    list_display = ["id", "article", "label", "start", "end", "text", "origin", "state", "confidence", "assignment"]
    list_filter = ["origin", "state", "label__name"]
    raw_id_fields = ["article", "assignment", "job", "from_suggestion"]
    list_select_related = ["article", "label", "assignment"]


@admin.register(m.Relation)
class RelationAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    project_field = "article__project"
    list_display = ["id", "article", "from_span", "type", "to_span", "origin", "state"]
    raw_id_fields = ["article", "assignment", "from_span", "to_span", "job"]


@admin.register(m.RelationDecision)
class RelationDecisionAdmin(ReadOnlyRecordMixin, ProjectScopedAdminMixin, admin.ModelAdmin):
    """Rejected link suggestions, per layer: a record written by the workspace, read-only here."""

    view_roles = STAFF_READERS
    project_field = "assignment__article__project"
    list_display = ["id", "assignment", "suggestion", "state", "created_by", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["assignment", "suggestion"]

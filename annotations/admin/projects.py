from django.contrib import admin

from annotations import models as m
from annotations.admin.jobs import ProjectPreannotationMixin
from annotations.admin.scoping import ProjectScopedAdminMixin, ProjectScopedInlineMixin


class LabelTypeInline(ProjectScopedInlineMixin, admin.TabularInline):
    model = m.LabelType
    extra = 0


class RelationTypeInline(ProjectScopedInlineMixin, admin.TabularInline):
    model = m.RelationType
    extra = 0


class MembershipInline(ProjectScopedInlineMixin, admin.TabularInline):
    model = m.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(m.Project)
class ProjectAdmin(ProjectScopedAdminMixin, ProjectPreannotationMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "annotators_per_article", "assignment_policy", "preannotator", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelTypeInline, RelationTypeInline, MembershipInline]
    project_field = "self"

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_staff and request.user.has_perm("annotations.add_project")


@admin.register(m.Membership)
class MembershipAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]


@admin.register(m.LabelType)
class LabelTypeAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "project", "color", "hotkey", "order"]
    list_filter = ["project"]


@admin.register(m.RelationType)
class RelationTypeAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "project", "from_label", "to_label"]
    list_filter = ["project"]

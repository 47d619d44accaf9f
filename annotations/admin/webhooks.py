from django.contrib import admin

from annotations import models as m
from annotations.admin.scoping import ProjectScopedAdminMixin, ProjectScopedInlineMixin


class WebhookDeliveryInline(ProjectScopedInlineMixin, admin.TabularInline):
    parent_project_field = "project"
    model = m.WebhookDelivery
    extra = 0
    readonly_fields = ["event", "status", "attempts", "response_code", "error", "created_at", "delivered_at"]
    can_delete = False


@admin.register(m.Webhook)
class WebhookAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    list_display = ["url", "project", "active", "created_at"]
    inlines = [WebhookDeliveryInline]


@admin.register(m.WebhookDelivery)
class WebhookDeliveryAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    project_field = "webhook__project"
    list_display = ["webhook", "event", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]

    # The delivery log is a record: written by the webhook task only.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

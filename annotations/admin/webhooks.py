from django.contrib import admin

from annotations import models as m


class WebhookDeliveryInline(admin.TabularInline):
    model = m.WebhookDelivery
    extra = 0
    readonly_fields = ["event", "status", "attempts", "response_code", "error", "created_at", "delivered_at"]
    can_delete = False


@admin.register(m.Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "project", "active", "created_at"]
    inlines = [WebhookDeliveryInline]


@admin.register(m.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook", "event", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]

from django.contrib import admin

from annotations import models as m
from annotations.admin.scoping import OwnerScopedAdminMixin


@admin.register(m.ApiToken)
class ApiTokenAdmin(OwnerScopedAdminMixin, admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash"]

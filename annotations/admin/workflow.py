from django.contrib import admin

from annotations import models as m


@admin.register(m.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["article", "user", "kind", "status", "version", "submitted_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["article"]
    list_select_related = ["article", "user"]


@admin.register(m.Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["article", "reviewer", "decision", "created_at"]
    list_filter = ["decision"]
    raw_id_fields = ["article"]

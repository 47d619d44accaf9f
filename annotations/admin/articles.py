from django.contrib import admin

from annotations import models as m


@admin.register(m.Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "outlet", "published_at", "status", "status_changed_at", "created_at"]
    list_filter = ["status", "project", "outlet"]
    search_fields = ["title", "outlet", "author"]
    date_hierarchy = "created_at"
    readonly_fields = ["text_hash", "version", "status_changed_at", "created_at", "updated_at"]
    list_select_related = ["project"]


@admin.register(m.ArticleEvent)
class ArticleEventAdmin(admin.ModelAdmin):
    list_display = ["article", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["article", "actor"]

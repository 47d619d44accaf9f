from django.contrib import admin

from annotations import models as m
from annotations.admin.intake import ArticleIntakeAdminMixin
from annotations.admin.jobs import ArticlePreannotationMixin
from annotations.admin.scoping import EDITORS, STAFF_READERS, ProjectScopedAdminMixin
from annotations.admin.workflow import assign_to_annotators, distribute_round_robin
from annotations.selectors.review import article_timeline


@admin.register(m.Article)
class ArticleAdmin(ProjectScopedAdminMixin, ArticleIntakeAdminMixin, ArticlePreannotationMixin, admin.ModelAdmin):
    list_display = ["__str__", "project", "outlet", "published_at", "status", "status_changed_at", "created_at"]
    list_filter = ["status", "project", "outlet"]
    search_fields = ["title", "outlet", "author"]
    date_hierarchy = "created_at"
    readonly_fields = ["text_hash", "version", "status_changed_at", "created_at", "updated_at"]
    list_select_related = ["project"]
    change_roles = EDITORS
    actions = [assign_to_annotators, distribute_round_robin]

    def history_view(self, request, object_id, extra_context=None):
        """Django's change log plus the article's own timeline (every status and span change)."""
        obj = self.get_object(request, object_id)
        timeline = list(article_timeline(article=obj)) if obj is not None else []
        return super().history_view(request, object_id, {**(extra_context or {}), "timeline": timeline})


@admin.register(m.ArticleEvent)
class ArticleEventAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = STAFF_READERS
    list_display = ["article", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["article", "actor"]
    project_field = "article__project"
    change_roles = ()  # history is append-only

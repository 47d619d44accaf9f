"""Admin registrations. Every model is here; the workflow pages live in annotations/web/."""

from django.contrib import admin

from annotations import models as m


class LabelTypeInline(admin.TabularInline):
    model = m.LabelType
    extra = 0


class RelationTypeInline(admin.TabularInline):
    model = m.RelationType
    extra = 0


class MembershipInline(admin.TabularInline):
    model = m.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(m.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "annotators_per_article", "assignment_policy", "preannotator", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelTypeInline, RelationTypeInline, MembershipInline]


@admin.register(m.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]


@admin.register(m.LabelType)
class LabelTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "color", "hotkey", "order"]
    list_filter = ["project"]


@admin.register(m.RelationType)
class RelationTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "from_label", "to_label"]
    list_filter = ["project"]


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


@admin.register(m.Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["id", "article", "label", "start", "end", "text", "origin", "state", "confidence", "assignment"]
    list_filter = ["origin", "state", "label__name"]
    raw_id_fields = ["article", "assignment", "job", "from_suggestion"]
    list_select_related = ["article", "label", "assignment"]


@admin.register(m.Relation)
class RelationAdmin(admin.ModelAdmin):
    list_display = ["id", "article", "from_span", "type", "to_span", "origin", "state"]
    raw_id_fields = ["article", "assignment", "from_span", "to_span", "job"]


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


@admin.register(m.PreannotationJob)
class PreannotationJobAdmin(admin.ModelAdmin):
    list_display = ["id", "article", "status", "preannotator", "model_version", "attempts", "span_count", "created_at"]
    list_filter = ["status", "preannotator"]
    raw_id_fields = ["article"]
    readonly_fields = ["error"]


@admin.register(m.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "original_name", "status", "processed", "total", "created_at"]
    list_filter = ["status"]


@admin.register(m.ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "format", "status", "sha256", "created_at"]
    list_filter = ["status", "format"]


@admin.register(m.TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "status", "activated", "train_count", "eval_count", "created_at"]


@admin.register(m.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash"]


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

from rest_framework import serializers

from annotations.models import Article, ImportJob, Relation, Span


class ArticleListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["id", "project", "title", "outlet", "author", "published_at", "url", "status",
                  "status_changed_at", "version", "source_name", "created_at"]
        read_only_fields = fields


class ArticleSpanSerializer(serializers.ModelSerializer):
    """Offsets are Unicode code points into the article's stored text, [start, end)."""

    label = serializers.CharField(source="label.name", read_only=True)
    layer = serializers.SerializerMethodField()
    user = serializers.IntegerField(source="assignment.user_id", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Span
        fields = ["id", "label", "start", "end", "text", "origin", "state", "confidence", "needs_review",
                  "assignment", "layer", "user", "from_suggestion", "preannotator", "model_version"]
        read_only_fields = fields

    def get_layer(self, span) -> str:
        return "machine" if span.assignment_id is None else span.assignment.kind


class ArticleRelationSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type.name", read_only=True)

    class Meta:
        model = Relation
        fields = ["id", "type", "from_span", "to_span", "origin", "state", "confidence", "assignment"]
        read_only_fields = fields


class ArticleDetailSerializer(serializers.ModelSerializer):
    spans = ArticleSpanSerializer(source="visible_spans", many=True, read_only=True)
    relations = ArticleRelationSerializer(source="visible_relations", many=True, read_only=True)

    class Meta:
        model = Article
        fields = ["id", "project", "title", "text", "text_hash", "outlet", "author", "published_at", "url", "meta",
                  "source_name", "status", "status_changed_at", "version", "created_at", "updated_at", "spans",
                  "relations"]
        read_only_fields = fields


class ArticleUpdateSerializer(serializers.Serializer):
    """PATCH body: `version` (the one you loaded) and the fields to change."""

    version = serializers.IntegerField(min_value=1)
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    outlet = serializers.CharField(required=False, allow_blank=True, max_length=200)
    author = serializers.CharField(required=False, allow_blank=True, max_length=200)
    published_at = serializers.DateField(required=False, allow_null=True)
    url = serializers.URLField(required=False, allow_blank=True, max_length=1000)
    meta = serializers.JSONField(required=False)

    def validate_meta(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("meta must be a JSON object.")
        return value


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:import-job-detail", read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "url", "project", "status", "original_name", "options", "total", "processed", "report",
                  "error", "created_at", "finished_at"]
        read_only_fields = fields


class ImportReportSerializer(serializers.Serializer):
    committed = serializers.BooleanField()
    imported_count = serializers.IntegerField()
    duplicate_count = serializers.IntegerField()
    rejected_count = serializers.IntegerField()
    span_count = serializers.IntegerField()
    relation_count = serializers.IntegerField()
    imported = serializers.ListField(child=serializers.DictField())
    duplicates = serializers.ListField(child=serializers.DictField())
    rejected = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.CharField())

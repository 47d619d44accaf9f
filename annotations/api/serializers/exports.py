from rest_framework import serializers

from annotations.exporters.registry import FORMATS
from annotations.models import ExportJob, Webhook, WebhookDelivery
from annotations.services.webhooks import EVENTS


class ExportJobSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id", "project", "name", "format", "filters", "status", "total", "processed", "progress",
            "sha256", "size_bytes", "counts", "error", "requested_by", "created_at", "finished_at", "download",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> float:
        if job.status == "done":
            return 1.0
        return round(job.processed / job.total, 4) if job.total else 0.0

    def get_download(self, job) -> str | None:
        return f"/api/exports/{job.id}/download/" if job.status == "done" else None


class ExportJobCreateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    format = serializers.ChoiceField(choices=list(FORMATS))
    filters = serializers.DictField(required=False, help_text=(
        "The same options as the streaming export's query parameters: status, date_field, date_from, "
        "date_to, annotator, labels, ids, include_suggestions, layer, offsets."))


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENTS)), allow_empty=False)

    class Meta:
        model = Webhook
        fields = ["id", "project", "url", "events", "active", "created_at"]
        read_only_fields = ["id", "project", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook", "event", "status", "attempts", "response_code", "error", "created_at",
                  "delivered_at"]
        read_only_fields = fields

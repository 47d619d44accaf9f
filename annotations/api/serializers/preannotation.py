from rest_framework import serializers

from annotations.models import PreannotationJob, TrainedModel


class PreannotateRequestSerializer(serializers.Serializer):
    article_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                        max_length=10000)


class PreannotationJobSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="status")
    reason = serializers.CharField(source="error")

    class Meta:
        model = PreannotationJob
        fields = ["id", "article", "state", "reason", "preannotator", "model_version", "attempts", "span_count",
                  "created_at", "enqueued_at", "started_at", "finished_at"]


class TrainedModelSerializer(serializers.ModelSerializer):
    overlap_f1 = serializers.SerializerMethodField()
    baseline_overlap_f1 = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = TrainedModel
        fields = ["id", "version", "status", "activated", "active", "overlap_f1", "baseline_overlap_f1", "metrics",
                  "baseline_metrics", "train_count", "eval_count", "error", "created_at", "finished_at"]

    def _f1(self, metrics) -> float | None:
        value = ((metrics or {}).get("overlap") or {}).get("ALL", {}).get("f1")
        return None if value is None else round(float(value), 4)

    def get_overlap_f1(self, obj) -> float | None:
        return self._f1(obj.metrics)

    def get_baseline_overlap_f1(self, obj) -> float | None:
        return self._f1(obj.baseline_metrics)

    def get_active(self, obj) -> bool:
        return obj.project.active_model_id == obj.id and obj.project.preannotator == "trained"


class PreannotatorChoiceSerializer(serializers.Serializer):
    preannotator = serializers.CharField(max_length=50)
    config = serializers.DictField(required=False, default=dict)
    model_version = serializers.IntegerField(required=False, min_value=1, allow_null=True, default=None)
    check = serializers.BooleanField(required=False, default=True)

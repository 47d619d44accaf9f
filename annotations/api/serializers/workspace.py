"""Input and output shapes of the workspace API (the annotate page). Offsets are code points."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class LabelField(serializers.Field):
    """A label given by id (int) or by name (str)."""

    default_error_messages = {"invalid": "label must be a label id or a label name."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or data == "":
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=0, help_text="The layer version the client last saw; a stale one answers 409."
    )


class SpanCreateSerializer(VersionedSerializer):
    label = LabelField(help_text="Label id or name, e.g. CLAIM.")
    start = serializers.IntegerField(min_value=0, help_text="Code-point offset, inclusive.")
    end = serializers.IntegerField(min_value=1, help_text="Code-point offset, exclusive.")
    text = serializers.CharField(
        trim_whitespace=False,
        help_text="The quoted text; must equal article.text[start:end] (code points).",
    )


class SpanUpdateSerializer(VersionedSerializer):
    label = LabelField()


class AcceptAboveSerializer(VersionedSerializer):
    threshold = serializers.FloatField(min_value=0, max_value=1)


class RelationCreateSerializer(VersionedSerializer):
    from_span = serializers.IntegerField()
    to_span = serializers.IntegerField()
    type = LabelField(required=False, allow_null=True, help_text="Link type id or name; default: the one that fits.")


class SpanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.IntegerField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField()
    origin = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    model_version = serializers.CharField()
    from_suggestion = serializers.IntegerField(allow_null=True)


class RelationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.IntegerField()
    to = serializers.IntegerField()
    origin = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)


class WriteResultSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    span = SpanSerializer(required=False)
    relation = RelationSerializer(required=False)
    spans = SpanSerializer(many=True, required=False)
    relations = RelationSerializer(many=True, required=False)

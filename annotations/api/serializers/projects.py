from rest_framework import serializers

from annotations.models import LabelType, Project, RelationType


class LabelTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelType
        fields = ["id", "name", "description", "color", "hotkey", "order"]


class RelationTypeSerializer(serializers.ModelSerializer):
    from_label = serializers.SlugRelatedField(slug_field="name", read_only=True)
    to_label = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = RelationType
        fields = ["id", "name", "from_label", "to_label", "hotkey"]


class ProjectSerializer(serializers.ModelSerializer):
    label_types = LabelTypeSerializer(many=True, read_only=True)
    relation_types = RelationTypeSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "name", "slug", "description", "guidelines", "annotators_per_article",
            "assignment_policy", "preannotator", "label_types", "relation_types", "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"slug": {"required": False}}

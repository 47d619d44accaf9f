from rest_framework import serializers

from annotations.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it: the prefix, never the key (only its hash is stored)."""

    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active"]
        read_only_fields = fields

    def get_active(self, obj) -> bool:
        return obj.revoked_at is None


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    """Answer to a create or rotate: the one and only time the key is shown."""

    token = serializers.CharField(read_only=True, help_text="The key. Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

from django.contrib.auth import get_user_model
from rest_framework import serializers

from annotations.models import Article, Review, Role


class MemberSerializer(serializers.Serializer):
    """A project member and their roles. `user` is a username (or a user id) when writing."""

    user = serializers.CharField()
    user_id = serializers.IntegerField(read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=True)

    def validate_user(self, value):
        User = get_user_model()
        lookup = {"id": int(value)} if str(value).isdigit() else {"username": value}
        try:
            return User.objects.get(is_active=True, **lookup)
        except User.DoesNotExist:
            raise serializers.ValidationError("No such user.")


class MemberRolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=True)


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=False, trim_whitespace=True, max_length=5000)


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class AssignSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(), allow_empty=False,
                                  help_text="Usernames (or user ids) of annotators.")

    def validate_users(self, values):
        User = get_user_model()
        ids = [int(v) for v in values if str(v).isdigit()]
        names = [v for v in values if not str(v).isdigit()]
        found = list(User.objects.filter(is_active=True, id__in=ids)) + list(
            User.objects.filter(is_active=True, username__in=names)
        )
        if len(found) != len(set(values)):
            raise serializers.ValidationError("Unknown user.")
        return found


class DistributeSerializer(serializers.Serializer):
    articles = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="Article ids; all open articles of the project if left out.")


class ReviewDecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "article", "reviewer", "decision", "comment", "created_at"]


class ArticleStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["id", "project", "status", "status_changed_at", "version"]

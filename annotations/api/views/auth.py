"""Tokens: obtain one with a password, and the owner's token management.

Keys appear only in the body of the POST that created them (create, rotate), with
`Cache-Control: no-store`; every GET shows the prefix only.
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.base import OwnerScopedMixin
from annotations.api.serializers.accounts import (
    ApiTokenCreateSerializer,
    ApiTokenIssuedSerializer,
    ApiTokenSerializer,
)
from annotations.models import ApiToken
from annotations.services.tokens import token_create, token_revoke, token_rotate

GENERIC_LOGIN_ERROR = "Invalid credentials."


def _issued(token, key, code=status.HTTP_201_CREATED):
    data = ApiTokenIssuedSerializer(token).data
    data["token"] = key
    return Response(data, status=code, headers={"Cache-Control": "no-store"})


class TokenObtainView(APIView):
    """`POST /api/auth/token/` with username and password: a new personal token (shown once).

    Failures are counted by django-axes per (username, client address); a locked-out pair gets a
    429 even with the right password. The error never says which of the two was wrong.
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=inline_serializer("TokenRequest", {
            "username": serializers.CharField(), "password": serializers.CharField(),
            "name": serializers.CharField(required=False),
        }),
        responses={201: inline_serializer("TokenResponse", {
            "token": serializers.CharField(), "prefix": serializers.CharField(), "id": serializers.IntegerField(),
        })},
    )
    def post(self, request):
        username = request.data.get("username")
        password = request.data.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            return Response({"detail": "username and password are required."}, status=status.HTTP_400_BAD_REQUEST)
        # The Django request, not DRF's wrapper: axes flags a lockout on it for its middleware.
        user = authenticate(request._request, username=username, password=password)
        if user is None:
            return Response({"detail": GENERIC_LOGIN_ERROR}, status=status.HTTP_401_UNAUTHORIZED)
        name = request.data.get("name") if isinstance(request.data.get("name"), str) else "api"
        token, key = token_create(user=user, name=name)
        return Response(
            {"token": key, "prefix": token.prefix, "id": token.id},
            status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"},
        )


class ApiTokenViewSet(OwnerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: list (prefix only), create, revoke, rotate.

    Another user's token ids answer 404.
    """

    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at", "last_used_at", "name"]

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenIssuedSerializer})
    def create(self, request):
        params = ApiTokenCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        token, key = token_create(user=request.user, name=params.validated_data["name"])
        return _issued(token, key)

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = token_revoke(token=self.get_object())
        return Response(ApiTokenSerializer(token).data)

    @extend_schema(request=None, responses={201: ApiTokenIssuedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        token, key = token_rotate(token=self.get_object())
        return _issued(token, key)

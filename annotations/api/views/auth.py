from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.services.tokens import token_create


class TokenObtainView(APIView):
    """`POST /api/auth/token/` with username and password: a new personal token (shown once)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_scope = "token"

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
        user = authenticate(request, username=username, password=password)
        if user is None:
            return Response({"detail": "Invalid credentials."}, status=status.HTTP_401_UNAUTHORIZED)
        name = request.data.get("name") if isinstance(request.data.get("name"), str) else "api"
        token, key = token_create(user=user, name=name)
        return Response({"token": key, "prefix": token.prefix, "id": token.id}, status=status.HTTP_201_CREATED)

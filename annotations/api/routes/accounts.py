"""Tokens and accounts."""

from django.urls import path

from annotations.api.views.auth import ApiTokenViewSet, TokenObtainView

token_list = ApiTokenViewSet.as_view({"get": "list", "post": "create"})
token_detail = ApiTokenViewSet.as_view({"get": "retrieve"})
token_revoke = ApiTokenViewSet.as_view({"post": "revoke"})
token_rotate = ApiTokenViewSet.as_view({"post": "rotate"})

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/tokens/", token_list, name="token-list"),
    path("auth/tokens/<int:pk>/", token_detail, name="token-detail"),
    path("auth/tokens/<int:pk>/revoke/", token_revoke, name="token-revoke"),
    path("auth/tokens/<int:pk>/rotate/", token_rotate, name="token-rotate"),
]

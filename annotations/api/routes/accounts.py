"""Tokens and accounts."""

from django.urls import path

from annotations.api.views.auth import TokenObtainView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
]

"""API routes of the workspace area (the annotate page). See annotations/api/views/workspace.py."""

from django.urls import path

from annotations.api.views.workspace import AssignmentLayerViewSet, NextArticleViewSet

V = AssignmentLayerViewSet

urlpatterns = [
    path("next-article/", NextArticleViewSet.as_view({"post": "create"}), name="next-article"),
    path("assignments/<int:pk>/", V.as_view({"get": "retrieve"}), name="assignment-layer"),
    path("assignments/<int:pk>/spans/", V.as_view({"post": "span_create"}), name="assignment-spans"),
    path("assignments/<int:pk>/spans/<int:span_id>/", V.as_view({"patch": "span_update", "delete": "span_delete"}),
         name="assignment-span"),
    path("assignments/<int:pk>/suggestions/accept-above/", V.as_view({"post": "accept_above"}),
         name="assignment-accept-above"),
    path("assignments/<int:pk>/suggestions/<int:suggestion_id>/accept/", V.as_view({"post": "suggestion_accept"}),
         name="assignment-suggestion-accept"),
    path("assignments/<int:pk>/suggestions/<int:suggestion_id>/reject/", V.as_view({"post": "suggestion_reject"}),
         name="assignment-suggestion-reject"),
    path("assignments/<int:pk>/suggestions/<int:suggestion_id>/reset/", V.as_view({"post": "suggestion_reset"}),
         name="assignment-suggestion-reset"),
    path("assignments/<int:pk>/relation-suggestions/<int:relation_id>/accept/",
         V.as_view({"post": "relation_suggestion_accept"}), name="assignment-relation-suggestion-accept"),
    path("assignments/<int:pk>/relation-suggestions/<int:relation_id>/reject/",
         V.as_view({"post": "relation_suggestion_reject"}), name="assignment-relation-suggestion-reject"),
    path("assignments/<int:pk>/relation-suggestions/<int:relation_id>/reset/",
         V.as_view({"post": "relation_suggestion_reset"}), name="assignment-relation-suggestion-reset"),
    path("assignments/<int:pk>/relations/", V.as_view({"post": "relation_create"}), name="assignment-relations"),
    path("assignments/<int:pk>/relations/<int:relation_id>/", V.as_view({"delete": "relation_delete"}),
         name="assignment-relation"),
    path("assignments/<int:pk>/submit/", V.as_view({"post": "submit"}), name="assignment-submit"),
]

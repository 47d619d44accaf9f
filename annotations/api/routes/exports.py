"""API routes of the exports area: streamed exports, export jobs and webhooks."""

from django.urls import path

from annotations.api.views.exports import (
    ExportJobViewSet,
    LabelConfigView,
    ProjectExportJobViewSet,
    ProjectExportView,
)
from annotations.api.views.webhooks import WebhookViewSet

urlpatterns = [
    path("projects/<int:project_pk>/export/", ProjectExportView.as_view(), name="project-export"),
    path("projects/<int:project_pk>/export/label-config/", LabelConfigView.as_view(),
         name="project-export-label-config"),
    path("projects/<int:project_pk>/exports/",
         ProjectExportJobViewSet.as_view({"get": "list", "post": "create"}), name="project-exports"),
    path("exports/<int:pk>/", ExportJobViewSet.as_view({"get": "retrieve"}), name="export-detail"),
    path("exports/<int:pk>/download/", ExportJobViewSet.as_view({"get": "download"}), name="export-download"),
    path("projects/<int:project_pk>/webhooks/", WebhookViewSet.as_view({"get": "list", "post": "create"}),
         name="project-webhooks"),
    path("projects/<int:project_pk>/webhooks/<int:pk>/",
         WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
         name="project-webhook-detail"),
    path("projects/<int:project_pk>/webhooks/<int:pk>/deliveries/",
         WebhookViewSet.as_view({"get": "deliveries"}), name="project-webhook-deliveries"),
]

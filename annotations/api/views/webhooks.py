"""`/api/projects/{id}/webhooks/`: a project's webhooks, managed by its managers.

Non-members get 404; members who are not managers get 403. The secret is shown once, on creation.
"""

from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.permissions import has_role
from annotations.api.serializers.exports import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)
from annotations.models import Role, Webhook
from annotations.services.webhooks import webhook_create, webhook_update


class WebhookViewSet(ProjectScopedMixin, viewsets.ModelViewSet):
    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.project = self.get_project()
        if not has_role(request.user, self.project, Role.MANAGER):
            raise PermissionDenied("Only the project's managers manage its webhooks.")

    def get_queryset(self):
        return super().get_queryset().filter(project_id=self.kwargs.get("project_pk"))

    def create(self, request, *args, **kwargs):
        data = WebhookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hook = webhook_create(project=self.project, **data.validated_data)
        return Response(WebhookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        hook = self.get_object()
        data = WebhookSerializer(hook, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        hook = webhook_update(webhook=hook, **data.validated_data)
        return Response(WebhookSerializer(hook).data)

    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request, *args, **kwargs):
        hook = self.get_object()
        page = self.paginate_queryset(hook.deliveries.all())
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

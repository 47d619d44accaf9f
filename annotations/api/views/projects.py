from django.db import IntegrityError
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from annotations.api.base import ProjectScopedMixin
from annotations.api.serializers.projects import ProjectSerializer
from annotations.models import Project
from annotations.services.projects import project_create


class ProjectViewSet(
    ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Projects the caller belongs to. Creating one needs `add_project` permission (or superuser)."""

    queryset = Project.objects.prefetch_related("label_types", "relation_types__from_label", "relation_types__to_label")
    serializer_class = ProjectSerializer
    project_field = "self"
    ordering = ["name"]
    ordering_fields = ["name", "created_at"]

    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("annotations.add_project"):
            raise PermissionDenied("Only managers may create projects.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            project = project_create(created_by=request.user, **serializer.validated_data)
        except IntegrityError as exc:
            raise ValidationError({"slug": "A project with this slug already exists."}) from exc
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

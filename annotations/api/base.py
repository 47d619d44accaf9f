"""Base classes every API view uses, so that no endpoint can forget to scope by project."""

from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated

from annotations.api.filters import validate_ordering_param
from annotations.api.permissions import ProjectRole
from annotations.models import Project
from annotations.selectors.projects import project_list_for_user


class ProjectScopedMixin:
    """`get_queryset()` goes through `scope_queryset()` restricted to the caller's projects.

    Subclasses set `queryset` and `project_field` (the lookup from the model to its Project,
    e.g. "project" or "article__project"). Objects of other projects answer 404, not 403.
    """

    project_field = "project"
    permission_classes = [IsAuthenticated, ProjectRole]
    required_roles: dict[str, list[str]] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Every view, generic or not, refuses an `?ordering=` outside its own `ordering_fields`.
        validate_ordering_param(request, self)

    def scope_queryset(self, queryset):
        projects = project_list_for_user(user=self.request.user)
        if self.project_field == "self":
            return queryset.filter(id__in=projects.values("id"))
        return queryset.filter(**{f"{self.project_field}__in": projects})

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())

    def get_project(self, project_id=None) -> Project:
        """The project named in the URL (`project_pk`), 404 unless the caller is a member."""
        project_id = project_id or self.kwargs.get("project_pk")
        try:
            return project_list_for_user(user=self.request.user).get(id=int(project_id))
        except (Project.DoesNotExist, TypeError, ValueError) as exc:
            raise NotFound("No such project.") from exc


class ScopedModelViewSet(ProjectScopedMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OwnerScopedMixin:
    """For the caller's own things (API tokens): `get_queryset()` keeps only rows whose
    `owner_field` is the caller; anyone else's ids answer 404. Not tied to a project."""

    owner_field = "user"
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        validate_ordering_param(request, self)

    def get_queryset(self):
        return super().get_queryset().filter(**{self.owner_field: self.request.user})

"""Project scoping for the admin: every staff user sees only the projects they belong to.

`ProjectScopedAdminMixin` goes first in the bases of every project-bound ModelAdmin. It
- filters `get_queryset()` to the user's projects (superusers see everything),
- replaces Django's model permissions by the project roles: viewing needs any role in the object's
  project (`view_roles`), changing / adding / deleting the roles in `change_roles` (`add_roles`,
  `delete_roles` when they differ),
- limits foreign-key choices (project, article, label ...) to the projects where the user may change.

Objects of other projects are simply not in the queryset, so their change pages answer 404.
"""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.db import models

from annotations.models import Membership, Role
from annotations.selectors.projects import project_list_for_user

ALL_ROLES = tuple(Role.values)
# who may read other people's work (layers, history, reviews, jobs): not annotators, who would
# see each other's layers in an agreement study
STAFF_READERS = (Role.MANAGER, Role.EDITOR, Role.REVIEWER)
MANAGER = (Role.MANAGER,)
EDITORS = (Role.EDITOR, Role.MANAGER)


def roles_by_project(request) -> dict[int, set[str]]:
    """{project id: roles} of the request's user, read once per request (the admin asks for
    permissions on every registered model to draw one page)."""
    cached = getattr(request, "_newsroom_roles", None)
    if cached is None:
        cached = {}
        for project_id, role in Membership.objects.filter(user=request.user).values_list("project_id", "role"):
            cached.setdefault(project_id, set()).add(role)
        request._newsroom_roles = cached
    return cached


def _held(request, roles, project) -> bool:
    """The user holds one of `roles` in `project` (any project when `project` is None)."""
    by_project = roles_by_project(request)
    if project is None:
        return any(held & set(roles) for held in by_project.values())
    return bool(by_project.get(project.id, set()) & set(roles))


def _project_of(obj, path: str):
    if path == "self":
        return obj
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _project_path_of_model(model) -> str | None:
    """How a related model reaches its Project, for limiting foreign-key choices."""
    from annotations.models import Project

    if model is Project:
        return "self"
    names = {f.name for f in model._meta.get_fields()}
    if "project" in names:
        return "project"
    if "article" in names:
        return "article__project"
    if "webhook" in names:
        return "webhook__project"
    return None


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Like AllValuesFieldListFilter, but the values come from the admin's (scoped) queryset."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request).exclude(**{f"{field_path}__isnull": True})
            .order_by(field_path).values_list(field_path, flat=True).distinct()
        )


def _scoped_filter(model, entry):
    if not isinstance(entry, str):
        return entry
    try:
        fields = get_fields_from_path(model, entry)
    except Exception:
        return entry
    if fields[-1].is_relation:
        return (entry, admin.RelatedOnlyFieldListFilter)
    if len(fields) > 1:
        return (entry, ScopedAllValuesFieldListFilter)
    return entry


class ProjectScopedAdminMixin:
    project_field = "project"
    # Django 6 makes https the scheme a URL without one gets; say so now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    view_roles: tuple = ALL_ROLES
    change_roles: tuple = MANAGER
    add_roles: tuple | None = None
    delete_roles: tuple | None = None

    # --- queryset ---------------------------------------------------------------------------
    def scope(self, request, queryset, roles=None):
        if request.user.is_superuser:
            return queryset
        projects = project_list_for_user(user=request.user, roles=list(roles) if roles else None)
        if self.project_field == "self":
            return queryset.filter(id__in=projects.values("id"))
        return queryset.filter(**{f"{self.project_field}__in": projects})

    def get_queryset(self, request):
        """Rows of the projects where the user holds a role that may see this model."""
        roles = set(self.view_roles) | set(self.change_roles or ())
        return self.scope(request, super().get_queryset(request),
                          None if roles >= set(ALL_ROLES) else tuple(roles))

    def get_list_filter(self, request):
        """Sidebar filters offer only values from the scoped queryset: Django's default filters on
        a foreign key (`project`) or across one (`label__name`) list every row of the other table,
        which would show other projects' names."""
        return [_scoped_filter(self.model, f) for f in super().get_list_filter(request)]

    # --- permissions --------------------------------------------------------------------------
    def _allowed(self, request, roles, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if not roles:
            return False
        if obj is None:
            return _held(request, roles, None)
        project = _project_of(obj, self.project_field)
        return project is not None and _held(request, roles, project)

    def has_module_permission(self, request):
        return self._allowed(request, self.view_roles)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_roles, obj) or self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.change_roles, obj)

    def has_add_permission(self, request, *args):
        roles = self.add_roles if self.add_roles is not None else self.change_roles
        return self._allowed(request, roles)

    def has_delete_permission(self, request, obj=None):
        roles = self.delete_roles if self.delete_roles is not None else self.change_roles
        return self._allowed(request, roles, obj)

    # --- choices ---------------------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        related = db_field.related_model
        if not user.is_superuser and related is not get_user_model():
            path = _project_path_of_model(related)
            if path is not None:
                projects = project_list_for_user(user=user, roles=list(self.change_roles) or None)
                qs = kwargs.get("queryset", related._default_manager.all())
                if path == "self":
                    kwargs["queryset"] = qs.filter(id__in=projects.values("id"))
                else:
                    kwargs["queryset"] = qs.filter(**{f"{path}__in": projects})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProjectScopedInlineMixin:
    """Inlines of a project-bound parent: editable by the parent's `change_roles` in its project."""

    parent_project_field = "self"
    change_roles: tuple = MANAGER

    def _allowed(self, request, obj=None) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        project = None if obj is None else _project_of(obj, self.parent_project_field)
        if obj is not None and project is None:
            return False
        return _held(request, self.change_roles, project)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        project = None if obj is None else _project_of(obj, self.parent_project_field)
        if obj is not None and project is None:
            return False
        return _held(request, Role.values, project)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)


class OwnerScopedAdminMixin:
    """For per-user objects (API tokens): staff see and revoke only their own; superusers all."""

    owner_field = "user"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(**{self.owner_field: request.user})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or obj is None or getattr(obj, f"{self.owner_field}_id") == request.user.id

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)


class ReadOnlyRecordMixin:
    """For records that only services write (spans and links, assignments, reviews, jobs, models):
    the admin lists, filters and shows them, and changes happen through its actions or the
    workspace, review and upload pages, which keep versions, history and invariants. Editing a row
    by hand here could move a span off its quote or jump the review workflow, so nobody can."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


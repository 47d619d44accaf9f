from rest_framework.permissions import BasePermission

from annotations.selectors.projects import user_roles


def has_role(user, project, *roles: str) -> bool:
    return bool(user_roles(user=user, project=project) & set(roles))


class ProjectRole(BasePermission):
    """Object permission: the user holds one of `view.required_roles[action]` in the object's project."""

    def has_object_permission(self, request, view, obj):
        required = getattr(view, "required_roles", {}).get(view.action)
        if not required:
            return True
        project = obj if obj.__class__.__name__ == "Project" else obj.project
        return has_role(request.user, project, *required)

"""Project membership: who holds which roles (managers only)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.models import Membership, Project, Role
from annotations.services.workflow import check_role


def _managers_left(project: Project, *, without_user=None, without_roles=None) -> int:
    qs = Membership.objects.filter(project=project, role=Role.MANAGER)
    if without_user is not None and Role.MANAGER in (without_roles or []):
        qs = qs.exclude(user=without_user)
    return qs.count()


@transaction.atomic
def member_set_roles(*, project: Project, user, roles, actor) -> list[str]:
    """Give `user` exactly `roles` in `project` (an empty list removes them from it). The project
    always keeps at least one manager. Returns the roles held afterwards."""
    check_role(user=actor, project=project, roles=[Role.MANAGER], what="manage members")
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": [f"Unknown role: {r}." for r in unknown]})
    Project.objects.select_for_update().get(id=project.id)
    current = set(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))
    removed = current - set(roles)
    if Role.MANAGER in removed and _managers_left(project, without_user=user, without_roles=list(removed)) == 0:
        raise ValidationError({"roles": ["A project needs at least one manager."]})
    Membership.objects.filter(project=project, user=user, role__in=removed).delete()
    Membership.objects.bulk_create(
        [Membership(project=project, user=user, role=r) for r in roles if r not in current]
    )
    return roles


def member_remove(*, project: Project, user, actor) -> None:
    member_set_roles(project=project, user=user, roles=[], actor=actor)

from django.db.models import QuerySet

from annotations.models import Article, Membership, Project


def project_list_for_user(*, user, roles: list[str] | None = None) -> QuerySet[Project]:
    """Projects `user` belongs to (with one of `roles`, if given). Superusers see all."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    memberships = Membership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return Project.objects.filter(id__in=memberships.values("project_id"))


def user_roles(*, user, project: Project) -> set[str]:
    """The roles `user` holds in `project`; a superuser holds them all."""
    if user.is_superuser:
        return {"manager", "editor", "annotator", "reviewer"}
    return set(Membership.objects.filter(user=user, project=project).values_list("role", flat=True))


def article_list_for_user(*, user, roles: list[str] | None = None) -> QuerySet[Article]:
    return Article.objects.filter(project__in=project_list_for_user(user=user, roles=roles))

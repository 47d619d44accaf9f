from django.db import transaction
from django.utils.text import slugify

from annotations.models import LabelType, Membership, Project, RelationType, Role

DEFAULT_LABELS = [
    {"name": "CLAIM", "color": "#ffcc80", "hotkey": "1", "description": "A check-worthy assertion."},
    {"name": "SOURCE", "color": "#90caf9", "hotkey": "2", "description": "Who or what a claim is attributed to."},
]


@transaction.atomic
def project_create(
    *,
    name: str,
    slug: str = "",
    created_by=None,
    description: str = "",
    guidelines: str = "",
    preannotator: str = "builtin",
    annotators_per_article: int = 1,
    assignment_policy: str = "pool",
) -> Project:
    """Create a project with the default schema: CLAIM and SOURCE, linked by attributed_to."""
    project = Project.objects.create(
        name=name,
        slug=slug or slugify(name)[:100],
        created_by=created_by,
        description=description,
        guidelines=guidelines,
        preannotator=preannotator,
        annotators_per_article=annotators_per_article,
        assignment_policy=assignment_policy,
    )
    labels = {
        spec["name"]: LabelType.objects.create(project=project, order=i, **spec)
        for i, spec in enumerate(DEFAULT_LABELS)
    }
    RelationType.objects.create(
        project=project, name="attributed_to", from_label=labels["CLAIM"], to_label=labels["SOURCE"]
    )
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


def membership_add(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(project=project, user=user, role=role)
    return membership

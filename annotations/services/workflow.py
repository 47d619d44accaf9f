"""The article life cycle and the assignment of work.

new -> preannotated (or preannotation_failed) -> in_annotation -> submitted -> in_review
-> approved, or returned (back to the annotators with the reviewer's comment) -> submitted ...

Rules that span rows (how many annotators an article gets, who may take the next one) are checked
here under row locks, never in Model.save().
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotations.models import (
    Article,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    Project,
    Role,
)
from annotations.selectors.projects import project_list_for_user
from annotations.services.events import event_record

OPEN_FOR_ANNOTATION = [
    ArticleStatus.NEW,
    ArticleStatus.PREANNOTATED,
    ArticleStatus.PREANNOTATION_FAILED,
    ArticleStatus.IN_ANNOTATION,
]
OPEN_ASSIGNMENT = [AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED]


def article_status_set(*, article: Article, status: str, actor=None, comment: str = "") -> Article:
    """Change the status, record it in the history and bump the version. Call inside a transaction."""
    if article.status == status:
        return article
    before = article.status
    article.status = status
    article.status_changed_at = timezone.now()
    article.version += 1
    article.save(update_fields=["status", "status_changed_at", "version", "updated_at"])
    event_record(article=article, actor=actor, kind="status", before={"status": before},
                 after={"status": status}, comment=comment)
    return article


def assignment_open_for_user(*, user, project: Project | None = None):
    """The user's unfinished annotation assignments, oldest first."""
    qs = Assignment.objects.filter(user=user, kind=AssignmentKind.ANNOTATION, status__in=OPEN_ASSIGNMENT)
    if project is not None:
        qs = qs.filter(article__project=project)
    return qs.select_related("article").order_by("created_at", "id")


def assignment_next(*, user, project: Project | None = None) -> Assignment | None:
    """Hand `user` their next article: an unfinished assignment first, else a new slot.

    A slot is taken under a row lock on the article (SKIP LOCKED on PostgreSQL), so two
    annotators clicking "Next article" at the same moment never get the same slot.
    """
    existing = assignment_open_for_user(user=user, project=project).first()
    if existing:
        return existing
    projects = project_list_for_user(user=user, roles=[Role.ANNOTATOR])
    if project is not None:
        projects = projects.filter(id=project.id)
    candidates = (
        Article.objects.filter(project__in=projects, status__in=OPEN_FOR_ANNOTATION)
        .exclude(assignments__user=user, assignments__kind=AssignmentKind.ANNOTATION)
        .annotate(taken=Count("assignments", filter=Q(assignments__kind=AssignmentKind.ANNOTATION)))
        .order_by("id")
    )
    for _attempt in range(20):
        with transaction.atomic():
            ids = list(candidates.values("id", "taken", "project__annotators_per_article")[:50])
            open_ids = [row["id"] for row in ids if row["taken"] < row["project__annotators_per_article"]]
            if not open_ids:
                return None
            article = (
                Article.objects.select_for_update(skip_locked=True).filter(id__in=open_ids).order_by("id").first()
            )
            if article is None:
                continue  # every candidate is being taken by someone else right now: look again
            taken = Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).count()
            if taken >= article.project.annotators_per_article or Assignment.objects.filter(
                article=article, user=user, kind=AssignmentKind.ANNOTATION
            ).exists():
                continue
            assignment = Assignment.objects.create(article=article, user=user, kind=AssignmentKind.ANNOTATION)
            if article.status != ArticleStatus.IN_ANNOTATION:
                article_status_set(article=article, status=ArticleStatus.IN_ANNOTATION, actor=user)
            event_record(article=article, actor=user, kind="assignment.taken", after={"user": user.username})
            return assignment
    return None


def assignment_start(*, assignment: Assignment, user) -> Assignment:
    """Mark an assignment in progress when its owner first edits it."""
    if assignment.user_id != user.id:
        raise PermissionDenied("This is not your assignment.")
    if assignment.status == AssignmentStatus.ASSIGNED:
        assignment.status = AssignmentStatus.IN_PROGRESS
        assignment.save(update_fields=["status", "updated_at"])
    return assignment


@transaction.atomic
def assignment_submit(*, assignment: Assignment, user) -> Assignment:
    """Send the annotator's work to review. Once every slot of the article is in, the article is
    `submitted`. Submitting twice is a no-op; a submitted assignment is read-only for its owner."""
    assignment = Assignment.objects.select_for_update().select_related("article").get(id=assignment.id)
    if assignment.user_id != user.id:
        raise PermissionDenied("Only the annotator can submit their own work.")
    if assignment.status == AssignmentStatus.SUBMITTED:
        return assignment
    if assignment.status not in OPEN_ASSIGNMENT:
        raise ValidationError(f"An assignment that is {assignment.get_status_display().lower()} cannot be submitted.")
    article = Article.objects.select_for_update().get(id=assignment.article_id)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = timezone.now()
    assignment.save(update_fields=["status", "submitted_at", "updated_at"])
    event_record(article=article, actor=user, kind="assignment.submitted", after={"user": user.username})
    slots = Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION)
    all_in = (
        slots.count() >= article.project.annotators_per_article
        and not slots.exclude(status=AssignmentStatus.SUBMITTED).exists()
    )
    if all_in:
        article_status_set(article=article, status=ArticleStatus.SUBMITTED, actor=user)
    return assignment

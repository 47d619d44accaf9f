"""The article life cycle and the assignment of work.

new -> preannotated (or preannotation_failed) -> in_annotation -> submitted -> in_review
-> approved, or returned (back to the annotators with the reviewer's comment) -> submitted ...

Rules that span rows (how many annotators an article gets, who may take the next one) are checked
here under row locks, never in Model.save(). Every function that authorises takes the acting user
and raises PermissionDenied for a missing role; callers (views, admin actions) only parse input.
"""

from collections import Counter

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotations.models import (
    Article,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentPolicy,
    AssignmentStatus,
    Membership,
    Project,
    Review,
    ReviewDecision,
    Role,
)
from annotations.selectors.projects import project_list_for_user, user_roles
from annotations.services.events import event_record
from annotations.services.exports import article_tokens_fill_later
from annotations.services.webhooks import article_event_payload, webhook_event_emit

OPEN_FOR_ANNOTATION = [
    ArticleStatus.NEW,
    ArticleStatus.PREANNOTATED,
    ArticleStatus.PREANNOTATION_FAILED,
    ArticleStatus.IN_ANNOTATION,
]
OPEN_ASSIGNMENT = [AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED]
REVIEWABLE = [ArticleStatus.SUBMITTED, ArticleStatus.IN_REVIEW]

# The article life cycle: the only status changes article_status_set makes. Pre-annotation moves
# new articles to pre-annotated / pre-annotation failed on its own (a guarded UPDATE in
# services/preannotation.py); everything after that goes through here.
ARTICLE_TRANSITIONS: dict[str, frozenset[str]] = {
    ArticleStatus.NEW: frozenset({ArticleStatus.IN_ANNOTATION}),
    ArticleStatus.PREANNOTATED: frozenset({ArticleStatus.IN_ANNOTATION}),
    ArticleStatus.PREANNOTATION_FAILED: frozenset({ArticleStatus.IN_ANNOTATION}),
    ArticleStatus.IN_ANNOTATION: frozenset({ArticleStatus.SUBMITTED}),
    ArticleStatus.SUBMITTED: frozenset({ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED, ArticleStatus.RETURNED}),
    ArticleStatus.IN_REVIEW: frozenset({ArticleStatus.APPROVED, ArticleStatus.RETURNED}),
    ArticleStatus.RETURNED: frozenset({ArticleStatus.SUBMITTED}),
    ArticleStatus.APPROVED: frozenset(),
}

REVIEW_ROLES = (Role.REVIEWER, Role.MANAGER)
ASSIGN_ROLES = (Role.EDITOR, Role.MANAGER)


def check_role(*, user, project: Project, roles, what: str) -> None:
    """Raise PermissionDenied unless `user` holds one of `roles` in `project` (superusers hold all)."""
    if not (user_roles(user=user, project=project) & set(roles)):
        raise PermissionDenied(f"You may not {what} in this project.")


def article_status_set(*, article: Article, status: str, actor=None, comment: str = "") -> Article:
    """Change the status, record it in the history and bump the version. Call inside a transaction,
    holding the article's row lock. Only the moves in ARTICLE_TRANSITIONS are allowed; any other
    raises ValidationError and changes nothing."""
    if article.status == status:
        return article
    if status not in ARTICLE_TRANSITIONS.get(article.status, ()):
        raise ValidationError(
            f"An article that is {article.get_status_display().lower()} cannot become "
            f"{ArticleStatus(status).label.lower()}."
        )
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

    Projects with the round-robin policy only hand out work distributed beforehand
    (`assignments_distribute`); pool projects hand out the next open slot. A slot is taken under
    a row lock on the article (SKIP LOCKED on PostgreSQL) and re-counted under that lock, and the
    user's own row is locked first, so neither two annotators clicking "Next article" at the same
    moment nor one annotator clicking twice ever get the same or an extra slot.
    """
    existing = assignment_open_for_user(user=user, project=project).first()
    if existing:
        return existing
    projects = project_list_for_user(user=user, roles=[Role.ANNOTATOR]).filter(
        assignment_policy=AssignmentPolicy.POOL
    )
    if user.is_superuser:  # a superuser sees everything but only annotates where they are an annotator
        projects = projects.filter(memberships__user=user, memberships__role=Role.ANNOTATOR)
    if project is not None:
        projects = projects.filter(id=project.id)
    candidates = (
        Article.objects.filter(project__in=projects, status__in=OPEN_FOR_ANNOTATION)
        .exclude(assignments__user=user, assignments__kind=AssignmentKind.ANNOTATION)
        .annotate(taken=Count("assignments", filter=Q(assignments__kind=AssignmentKind.ANNOTATION)))
        .order_by("id")
    )
    User = get_user_model()
    for _attempt in range(50):
        with transaction.atomic():
            User.objects.select_for_update().filter(id=user.id).first()
            mine = assignment_open_for_user(user=user, project=project).first()
            if mine:  # a concurrent request of the same user took one meanwhile
                return mine
            rows = list(candidates.values("id", "taken", "project__annotators_per_article")[:50])
            open_ids = [row["id"] for row in rows if row["taken"] < row["project__annotators_per_article"]]
            if not open_ids:
                return None
            article = (
                Article.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("project").filter(id__in=open_ids).order_by("id").first()
            )
            if article is None:
                continue  # every candidate is being taken by someone else right now: look again
            taken = Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).count()
            if taken >= article.project.annotators_per_article or article.status not in OPEN_FOR_ANNOTATION or (
                Assignment.objects.filter(article=article, user=user, kind=AssignmentKind.ANNOTATION).exists()
            ):
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
    `submitted` (also after a return: re-submitting brings it back to the review queue).
    Submitting twice is a no-op; a submitted assignment is read-only for its owner."""
    assignment = Assignment.objects.select_for_update().select_related("article").get(id=assignment.id)
    if assignment.user_id != user.id:
        raise PermissionDenied("Only the annotator can submit their own work.")
    if assignment.kind != AssignmentKind.ANNOTATION:
        raise ValidationError("A review is approved or returned, not submitted.")
    if assignment.status == AssignmentStatus.SUBMITTED:
        return assignment
    if assignment.status not in OPEN_ASSIGNMENT:
        raise ValidationError(f"An assignment that is {assignment.get_status_display().lower()} cannot be submitted.")
    article = Article.objects.select_for_update(of=("self",)).select_related("project").get(id=assignment.article_id)
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
        webhook_event_emit(project=article.project_id, event="article.submitted",
                           payload=article_event_payload(article))
    return assignment


def assignment_submit_for_article(*, article: Article, user) -> Assignment:
    """Submit the caller's own annotation assignment on `article` (the API's submit action)."""
    assignment = Assignment.objects.filter(article=article, user=user, kind=AssignmentKind.ANNOTATION).first()
    if assignment is None:
        raise PermissionDenied("You have no annotation assignment on this article.")
    return assignment_submit(assignment=assignment, user=user)


# --- Assignment by policy and by hand ---------------------------------------------------------


def _annotator_ids(project: Project) -> list[int]:
    return list(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR, user__is_active=True)
        .order_by("user_id").values_list("user_id", flat=True)
    )


@transaction.atomic
def assignments_distribute(*, project: Project, articles=None, actor=None) -> list[Assignment]:
    """Round-robin: give every open article of `project` (or of `articles`) annotators until it has
    `annotators_per_article` of them, taking annotators in turn, least loaded first.

    The project row is locked, so two distributions never run at once; articles being handed out
    by "Next article" at the same moment are skipped (SKIP LOCKED) and picked up next time.
    Returns the assignments created.
    """
    if actor is not None:
        check_role(user=actor, project=project, roles=ASSIGN_ROLES, what="distribute articles")
    Project.objects.select_for_update().get(id=project.id)
    annotators = _annotator_ids(project)
    if not annotators:
        raise ValidationError("The project has no annotators to distribute articles to.")
    qs = Article.objects.filter(project=project, status__in=OPEN_FOR_ANNOTATION)
    if articles is not None:
        qs = qs.filter(id__in=[a.id if isinstance(a, Article) else a for a in articles])
    locked = list(qs.select_for_update(skip_locked=True, of=("self",)).order_by("id"))
    existing = Assignment.objects.filter(article__in=locked, kind=AssignmentKind.ANNOTATION)
    holders: dict[int, set[int]] = {a.id: set() for a in locked}
    for article_id, user_id in existing.values_list("article_id", "user_id"):
        holders[article_id].add(user_id)
    load = Counter(
        dict(
            Assignment.objects.filter(
                article__project=project, kind=AssignmentKind.ANNOTATION, status__in=OPEN_ASSIGNMENT
            ).values_list("user_id").annotate(n=Count("id")).values_list("user_id", "n")
        )
    )
    order = {uid: i for i, uid in enumerate(annotators)}
    turn = 0  # the round-robin pointer: ties in load go to the next annotator in turn
    created = []
    user_names = dict(get_user_model().objects.filter(id__in=annotators).values_list("id", "username"))
    for article in locked:
        need = project.annotators_per_article - len(holders[article.id])
        for _ in range(max(need, 0)):
            free = [u for u in annotators if u not in holders[article.id]]
            if not free:
                break
            pick = min(free, key=lambda u: (load[u], (order[u] - turn) % len(annotators)))
            turn = (order[pick] + 1) % len(annotators)
            holders[article.id].add(pick)
            load[pick] += 1
            created.append(Assignment(article=article, user_id=pick, kind=AssignmentKind.ANNOTATION,
                                      assigned_by=actor if actor is not None else None))
            event_record(article=article, actor=actor, kind="assignment.assigned",
                         after={"user": user_names.get(pick), "policy": "round_robin"})
        if holders[article.id] and article.status != ArticleStatus.IN_ANNOTATION:
            article_status_set(article=article, status=ArticleStatus.IN_ANNOTATION, actor=actor)
    Assignment.objects.bulk_create(created)
    return created


@transaction.atomic
def assignments_assign(*, articles, users, actor) -> list[Assignment]:
    """Assign each of `users` to each of `articles` by hand (editors). All or nothing: refused if an
    article is not open for annotation, a user is not an annotator of its project, or the article
    would get more than `annotators_per_article` annotators. Existing slots are kept as they are."""
    users = list(users)
    if not users:
        raise ValidationError("Choose at least one annotator.")
    ids = [a.id if isinstance(a, Article) else a for a in articles]
    locked = list(
        Article.objects.select_for_update(of=("self",)).select_related("project").filter(id__in=ids).order_by("id")
    )
    if not locked:
        raise ValidationError("Choose at least one article.")
    problems = []
    created = []
    for article in locked:
        check_role(user=actor, project=article.project, roles=ASSIGN_ROLES, what="assign articles")
        if article.status not in OPEN_FOR_ANNOTATION:
            problems.append(f"Article {article.id} is {article.get_status_display().lower()}, not open for annotation.")
            continue
        annotators = set(_annotator_ids(article.project))
        holders = set(
            Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).values_list("user_id", flat=True)
        )
        new = [u for u in users if u.id not in holders]
        for u in new:
            if u.id not in annotators:
                problems.append(f"{u.username} is not an annotator of {article.project}.")
        if len(holders) + len(new) > article.project.annotators_per_article:
            problems.append(
                f"Article {article.id} would have {len(holders) + len(new)} annotators; "
                f"the project asks for {article.project.annotators_per_article}."
            )
        for u in new:
            created.append(Assignment(article=article, user=u, kind=AssignmentKind.ANNOTATION, assigned_by=actor))
    if problems:
        raise ValidationError(problems)
    Assignment.objects.bulk_create(created)
    by_article = {a.id: a for a in locked}
    for assignment in created:
        article = by_article[assignment.article_id]
        event_record(article=article, actor=actor, kind="assignment.assigned",
                     after={"user": assignment.user.username, "policy": "manual"})
        if article.status != ArticleStatus.IN_ANNOTATION:
            article_status_set(article=article, status=ArticleStatus.IN_ANNOTATION, actor=actor)
    return created


# --- Review ---------------------------------------------------------------------------------


def _lock_article(article: Article) -> Article:
    return Article.objects.select_for_update(of=("self",)).select_related("project").get(id=article.id)


def review_assignment_get_or_create(*, article: Article, user) -> Assignment:
    """The article's review layer (one per article), created for `user` and seeded with the spans
    every annotator agrees on. Call while holding the article's row lock."""
    review = Assignment.objects.filter(article=article, kind=AssignmentKind.REVIEW).first()
    if review is not None:
        return review
    review = Assignment.objects.create(
        article=article, user=user, kind=AssignmentKind.REVIEW, status=AssignmentStatus.IN_PROGRESS
    )
    from annotations.services.review import review_layer_seed

    review_layer_seed(review=review, actor=user)
    return review


@transaction.atomic
def review_start(*, article: Article, user) -> Assignment:
    """A reviewer opens a submitted article: it becomes `in_review` and gets its review layer.
    Starting an article already in review is a no-op that returns the existing layer."""
    check_role(user=user, project=article.project, roles=REVIEW_ROLES, what="review articles")
    article = _lock_article(article)
    if article.status not in REVIEWABLE:
        raise ValidationError(f"Only submitted articles can be reviewed; this one is {article.get_status_display()}.")
    review = review_assignment_get_or_create(article=article, user=user)
    if review.status not in (AssignmentStatus.IN_PROGRESS, AssignmentStatus.ASSIGNED):
        review.status = AssignmentStatus.IN_PROGRESS
        review.save(update_fields=["status", "updated_at"])
    if article.status == ArticleStatus.SUBMITTED:
        article_status_set(article=article, status=ArticleStatus.IN_REVIEW, actor=user)
    return review


@transaction.atomic
def review_approve(*, article: Article, user, comment: str = "") -> Review:
    """Approve: the review layer becomes the article's final version. Idempotent: the article row
    is locked, and approving an approved article returns the existing decision and changes nothing."""
    check_role(user=user, project=article.project, roles=REVIEW_ROLES, what="approve articles")
    article = _lock_article(article)
    if article.status == ArticleStatus.APPROVED:
        return Review.objects.filter(article=article, decision=ReviewDecision.APPROVED).first()
    if article.status not in REVIEWABLE:
        raise ValidationError(f"Only submitted articles can be approved; this one is {article.get_status_display()}.")
    review_layer = review_assignment_get_or_create(article=article, user=user)
    now = timezone.now()
    Assignment.objects.filter(id=review_layer.id).update(status=AssignmentStatus.DONE, submitted_at=now, updated_at=now)
    Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).update(
        status=AssignmentStatus.DONE, updated_at=now
    )
    decision = Review.objects.create(article=article, reviewer=user, decision=ReviewDecision.APPROVED, comment=comment)
    event_record(article=article, actor=user, kind="review.approved", after={"review_layer": review_layer.id},
                 comment=comment)
    article_status_set(article=article, status=ArticleStatus.APPROVED, actor=user, comment=comment)
    webhook_event_emit(project=article.project_id, event="article.approved", payload=article_event_payload(article))
    article_tokens_fill_later(article_ids=[article.id])  # its conll/spacy exports need no tokenizer
    return decision


@transaction.atomic
def review_return(*, article: Article, user, comment: str) -> Review:
    """Return the article to its annotators with `comment` (required): their assignments become
    `returned` and editable again. Returning a returned article again is a no-op."""
    check_role(user=user, project=article.project, roles=REVIEW_ROLES, what="return articles")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": ["Say what the annotators should fix."]})
    article = _lock_article(article)
    if article.status == ArticleStatus.RETURNED:
        return Review.objects.filter(article=article, decision=ReviewDecision.RETURNED).first()
    if article.status not in REVIEWABLE:
        raise ValidationError(f"Only submitted articles can be returned; this one is {article.get_status_display()}.")
    now = timezone.now()
    Assignment.objects.filter(article=article, kind=AssignmentKind.ANNOTATION).update(
        status=AssignmentStatus.RETURNED, updated_at=now
    )
    Assignment.objects.filter(article=article, kind=AssignmentKind.REVIEW).update(
        status=AssignmentStatus.ASSIGNED, updated_at=now
    )
    decision = Review.objects.create(article=article, reviewer=user, decision=ReviewDecision.RETURNED, comment=comment)
    event_record(article=article, actor=user, kind="review.returned", comment=comment)
    article_status_set(article=article, status=ArticleStatus.RETURNED, actor=user, comment=comment)
    return decision

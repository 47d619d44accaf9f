from django.conf import settings
from django.db import models
from django.db.models import Q


class AssignmentKind(models.TextChoices):
    ANNOTATION = "annotation", "Annotation"
    REVIEW = "review", "Review"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    DONE = "done", "Done"


class Assignment(models.Model):
    """One person's slot on one article, holding their layer of spans and relations.

    An annotator's slot (kind=annotation) or the reviewer's working copy (kind=review), whose
    layer is the article's final version once approved. `version` is bumped on every change to
    the layer, for optimistic concurrency (a stale version gets 409).
    """

    article = models.ForeignKey("annotations.Article", on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=20, choices=AssignmentKind.choices, default=AssignmentKind.ANNOTATION)
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED)
    version = models.PositiveIntegerField(default=1)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["article", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["article", "user", "kind"], name="assignment_unique_per_user"),
            models.UniqueConstraint(
                fields=["article"], condition=Q(kind="review"), name="assignment_one_review_per_article"
            ),
        ]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self):
        return f"{self.user} on {self.article_id} ({self.kind})"


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


class Review(models.Model):
    """A reviewer's decision on an article, with the comment shown to the annotators if returned."""

    article = models.ForeignKey("annotations.Article", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.decision} {self.article_id} by {self.reviewer_id}"

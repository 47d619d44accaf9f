from django.conf import settings
from django.db import models
from django.db.models import Q


class ArticleStatus(models.TextChoices):
    NEW = "new", "New"
    PREANNOTATED = "preannotated", "Pre-annotated"
    PREANNOTATION_FAILED = "preannotation_failed", "Pre-annotation failed"
    IN_ANNOTATION = "in_annotation", "In annotation"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


class Article(models.Model):
    """A news article. `text` is the normalised text; every offset in the app points into it."""

    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the stored text.")
    outlet = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_at = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    meta = models.JSONField(default=dict, blank=True, help_text="Any other metadata from the source.")
    source_name = models.CharField(max_length=300, blank=True, help_text="File or row it was imported from.")
    status = models.CharField(max_length=30, choices=ArticleStatus.choices, default=ArticleStatus.NEW)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # Bumped on every change to the text or to its status; used for optimistic concurrency.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "text_hash"], name="article_unique_text_per_project"),
            models.CheckConstraint(condition=~Q(text=""), name="article_text_not_empty"),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["project", "published_at"]),
        ]

    def __str__(self):
        return self.title or f"Article {self.pk}"


class ArticleEvent(models.Model):
    """The history of an article: every status and span change, who made it and what it was before."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=50)  # e.g. "status", "span.created", "span.deleted", "review.returned"
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["article", "created_at"])]

    def __str__(self):
        return f"{self.kind} on {self.article_id} by {self.actor_id}"

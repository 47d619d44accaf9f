from django.conf import settings
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    EDITOR = "editor", "Editor"
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"


class AssignmentPolicy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round-robin over annotators"
    POOL = "pool", "Shared pool: take the next open one"


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Annotation guidelines shown to annotators.")
    annotators_per_article = models.PositiveSmallIntegerField(
        default=1, help_text="How many annotators label each article (2 or 3 for agreement studies)."
    )
    assignment_policy = models.CharField(
        max_length=20, choices=AssignmentPolicy.choices, default=AssignmentPolicy.POOL
    )
    # Which pre-annotator plug-in runs on new articles, and its settings (e.g. an ML backend URL).
    preannotator = models.CharField(max_length=50, default="builtin")
    preannotator_config = models.JSONField(default=dict, blank=True)
    active_model = models.ForeignKey(
        "annotations.TrainedModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annotators_per_article__gte=1) & Q(annotators_per_article__lte=5),
                name="project_annotators_per_article_1_to_5",
            ),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """One role of one user in one project. A person holding several roles has several rows."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "role"], name="membership_unique_role"),
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} in {self.project}"


class LabelType(models.Model):
    """A span label of a project: CLAIM and SOURCE by default."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_types")
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=300, blank=True)
    color = models.CharField(max_length=7, default="#ffd54f", help_text="Highlight colour, #rrggbb.")
    hotkey = models.CharField(max_length=1, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="labeltype_unique_name"),
            models.UniqueConstraint(
                fields=["project", "hotkey"], condition=~Q(hotkey=""), name="labeltype_unique_hotkey"
            ),
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="labeltype_color_hex"),
        ]

    def __str__(self):
        return self.name


class RelationType(models.Model):
    """A link type between spans: `attributed_to` (CLAIM -> SOURCE) by default."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relation_types")
    name = models.CharField(max_length=50)
    from_label = models.ForeignKey(LabelType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    to_label = models.ForeignKey(LabelType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    hotkey = models.CharField(max_length=1, blank=True, default="l")

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="relationtype_unique_name"),
        ]

    def __str__(self):
        return self.name

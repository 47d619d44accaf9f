from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Origin(models.TextChoices):
    HUMAN = "human", "Human"
    MACHINE = "machine", "Machine"


class SuggestionState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    # Could not be placed after an edit of the article text: kept with its quote and old offsets
    # (which no longer point into the text) until someone marks it again or removes it. Left out
    # of everything that reads offsets: pages, agreement, review, exports, training.
    UNPLACED = "unplaced", "Unplaced after a text edit"


class Span(models.Model):
    """A labelled stretch of an article's text, [start, end) in Unicode code points.

    Layers: machine suggestions have `assignment` NULL, origin=machine, state=pending. Everything a
    person decides lives in their assignment: their own spans (origin=human, state=accepted), and
    their decisions on suggestions, as rows pointing back at the suggestion through
    `from_suggestion` (state=accepted: a normal span that remembers the model; state=rejected: a
    tombstone, not shown). A reviewer's final version is the review assignment's layer.
    """

    article = models.ForeignKey("annotations.Article", on_delete=models.CASCADE, related_name="spans")
    assignment = models.ForeignKey(
        "annotations.Assignment", null=True, blank=True, on_delete=models.CASCADE, related_name="spans"
    )
    label = models.ForeignKey("annotations.LabelType", on_delete=models.RESTRICT, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="The quoted text, text[start:end] of the article when saved.")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.HUMAN)
    state = models.CharField(max_length=10, choices=SuggestionState.choices, default=SuggestionState.ACCEPTED)
    confidence = models.FloatField(null=True, blank=True)
    preannotator = models.CharField(max_length=100, blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)  # e.g. {"source_kind": "unnamed"}
    job = models.ForeignKey(
        "annotations.PreannotationJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="spans"
    )
    from_suggestion = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    needs_review = models.BooleanField(default=False, help_text="Could not be re-anchored after a text edit.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="span_start_before_end"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | (Q(confidence__gte=0) & Q(confidence__lte=1)),
                name="span_confidence_0_1",
            ),
            models.CheckConstraint(
                condition=Q(origin="machine") | Q(state__in=["accepted", "unplaced"]), name="span_human_is_accepted"
            ),
            models.UniqueConstraint(
                fields=["assignment", "from_suggestion"],
                condition=Q(from_suggestion__isnull=False),
                name="span_one_decision_per_suggestion",
            ),
        ]
        indexes = [
            models.Index(fields=["article", "assignment"]),
            models.Index(fields=["label"]),
        ]

    def __str__(self):
        return f"{self.label_id}[{self.start}:{self.end}]"


class Relation(models.Model):
    """A directed link between two spans of the same layer, e.g. CLAIM -attributed_to-> SOURCE."""

    article = models.ForeignKey("annotations.Article", on_delete=models.CASCADE, related_name="relations")
    assignment = models.ForeignKey(
        "annotations.Assignment", null=True, blank=True, on_delete=models.CASCADE, related_name="relations"
    )
    type = models.ForeignKey("annotations.RelationType", on_delete=models.RESTRICT, related_name="relations")
    from_span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="outgoing")
    to_span = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="incoming")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.HUMAN)
    state = models.CharField(max_length=10, choices=SuggestionState.choices, default=SuggestionState.ACCEPTED)
    confidence = models.FloatField(null=True, blank=True)
    job = models.ForeignKey(
        "annotations.PreannotationJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="relations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_span=F("to_span")), name="relation_not_self"),
            models.UniqueConstraint(fields=["from_span", "to_span", "type"], name="relation_unique"),
        ]

    def __str__(self):
        return f"{self.from_span_id} -{self.type_id}-> {self.to_span_id}"


class RelationDecision(models.Model):
    """One person's "no" to a suggested link (a machine Relation) in their layer, so it stops being
    offered to them. (A "yes" becomes a Relation of the layer, as with spans.) Re-running
    pre-annotation replaces the suggestions, and their decisions go with them."""

    assignment = models.ForeignKey(
        "annotations.Assignment", on_delete=models.CASCADE, related_name="relation_decisions"
    )
    suggestion = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="decisions")
    state = models.CharField(max_length=10, choices=SuggestionState.choices, default=SuggestionState.REJECTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "suggestion"], name="relationdecision_one_per_layer"),
        ]

    def __str__(self):
        return f"{self.state} link suggestion {self.suggestion_id} in {self.assignment_id}"


from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PreannotationJob(models.Model):
    """One run of a pre-annotator over one article. The row is the truth; the broker only delivers it."""

    article = models.ForeignKey("annotations.Article", on_delete=models.CASCADE, related_name="preannotation_jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    preannotator = models.CharField(max_length=50)
    model_version = models.CharField(max_length=100, blank=True)
    text_hash = models.CharField(max_length=64, help_text="Hash of the text the job was queued for.")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    span_count = models.PositiveIntegerField(default=0)
    # Id of the broker delivery (Celery task id) that claimed the job; a redelivery of the same message
    # (its worker died) may take the job back at once, any other delivery waits for the lease to expire.
    claim = models.CharField(max_length=255, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(status__in=["queued", "running"]),
                name="preannotationjob_one_active_per_article",
            ),
        ]
        indexes = [models.Index(fields=["status", "enqueued_at"])]

    def __str__(self):
        return f"Pre-annotation {self.pk} of article {self.article_id}: {self.status}"


class DeliveredJob(models.Model):
    """What a job run from a broker message needs so that no message loss strands it
    (services/jobs.py): when it was last sent, when a worker took it, and which delivery did."""

    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        abstract = True


class ImportJob(DeliveredJob):
    """A large import running in a worker; `report` lists what was imported, skipped and rejected."""

    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    file = models.FileField(upload_to="imports/", blank=True)
    original_name = models.CharField(max_length=300, blank=True)
    options = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import {self.pk} into {self.project_id}: {self.status}"


class ExportJob(DeliveredJob):
    """An export made by a worker: an immutable, named dataset version with its checksum."""

    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, related_name="export_jobs")
    name = models.CharField(max_length=200, blank=True)
    format = models.CharField(max_length=20)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    file = models.FileField(upload_to="exports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # a dataset version's name is unique in its project (empty only for a moment, while the
            # job gets its default name)
            models.UniqueConstraint(fields=["project", "name"], condition=~Q(name=""),
                                    name="exportjob_name_unique_per_project"),
        ]

    def __str__(self):
        return self.name or f"Export {self.pk} ({self.format})"


class TrainedModel(models.Model):
    """A project model trained on approved work; kept and versioned, active only if it beat the last."""

    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, related_name="trained_models")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    path = models.CharField(max_length=500, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    baseline_metrics = models.JSONField(default=dict, blank=True)
    train_count = models.PositiveIntegerField(default=0)
    eval_count = models.PositiveIntegerField(default=0)
    activated = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="trainedmodel_unique_version"),
        ]

    def __str__(self):
        return f"{self.project} model v{self.version}"

from django.db import models


class Webhook(models.Model):
    """A URL that receives signed JSON for project events (submitted, approved, export ready)."""

    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list, help_text='e.g. ["article.submitted", "article.approved"]')
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=10, default="queued")  # queued, delivered, failed
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next attempt is due (set when an attempt is sent or scheduled): a queued delivery
    # long past it lost its message, and the sweeper sends it again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} -> {self.webhook_id}: {self.status}"

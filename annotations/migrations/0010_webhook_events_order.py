"""Webhook events in one order (services.webhooks.EVENTS), as webhook_events_clean now stores them,
so a second hook for the same URL and events in another order is seen as a duplicate."""

from django.db import migrations

EVENTS = ("article.submitted", "article.approved", "export.ready")  # as services.webhooks.EVENTS then


def normalise(apps, schema_editor):
    Webhook = apps.get_model("annotations", "Webhook")
    for hook in Webhook.objects.all().only("id", "events"):
        events = [e for e in EVENTS if e in (hook.events or [])] + [
            e for e in dict.fromkeys(hook.events or []) if e not in EVENTS]
        if events != hook.events:
            Webhook.objects.filter(pk=hook.pk).update(events=events)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0009_span_unplaced")]
    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]

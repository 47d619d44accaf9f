"""Data migrations, run backwards and forwards on the real test database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_0010_puts_webhook_events_in_one_order(project):
    executor = MigrationExecutor(connection)
    executor.migrate([("annotations", "0009_span_unplaced")])
    apps = executor.loader.project_state([("annotations", "0009_span_unplaced")]).apps
    Webhook = apps.get_model("annotations", "Webhook")
    hook = Webhook.objects.create(project_id=project.id, url="https://example.org/h", secret="s" * 40,
                                  events=["export.ready", "article.submitted"])
    executor = MigrationExecutor(connection)
    executor.migrate([("annotations", "0010_webhook_events_order")])
    from annotations.models import Webhook as Current

    assert Current.objects.get(pk=hook.pk).events == ["article.submitted", "export.ready"]

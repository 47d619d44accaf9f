"""Settings: production mode refuses a default secret; CI runs on the real PostgreSQL."""

import os
import subprocess
import sys

from django.db import connection

from tests.support.services import IN_CI
from tests.support.worker import ROOT


def _check(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_refuses_missing_secret_key():
    result = _check({"DEBUG": "False"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_secret_key():
    result = _check({"DEBUG": "False", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "news.example.org"})
    assert result.returncode == 0, result.stderr


def test_ci_runs_against_postgresql(db):
    if IN_CI:
        assert connection.vendor == "postgresql", "make test must point DATABASE_URL at PostgreSQL under CI"


def test_beat_schedules_every_periodic_task_that_exists():
    """Each beat entry names a registered task: the job sweeper and the token cache refresh."""
    from django.conf import settings

    from newsroom.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert names == {"annotations.sweep_jobs", "annotations.refresh_token_cache"}
    assert names <= set(app.tasks)

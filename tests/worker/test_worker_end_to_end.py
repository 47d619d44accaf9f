"""Real worker processes: through the real Redis, and through make run's embedded broker and SQLite."""

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from annotations.models import JobStatus, Origin, PreannotationJob, Span
from annotations.services.articles import article_create
from tests.support.services import require_redis
from tests.support.worker import ROOT, broker, redis_test_url, running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TEXT = 'Officials said 42 people died in the floods. "We will rebuild," the mayor told reporters.'


def test_worker_through_redis_stores_suggestions(project, editor, tmp_path):
    url = redis_test_url(require_redis())
    with broker(url), running_worker(url, log_path=tmp_path / "worker.log"):
        article = article_create(project=project, text=TEXT, created_by=editor)
        job = PreannotationJob.objects.get(article=article)
        wait_until(
            lambda: PreannotationJob.objects.get(id=job.id).status in (JobStatus.DONE, JobStatus.FAILED),
            timeout=90, what="the worker to finish the job",
        )
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, (job.error, (tmp_path / "worker.log").read_text()[-3000:])
    spans = Span.objects.filter(article=article, origin=Origin.MACHINE, assignment__isnull=True)
    assert spans.count() == job.span_count > 0
    for span in spans:
        assert article.text[span.start : span.end] == span.text


def test_embedded_default_runs_a_task_through_its_worker(tmp_path):
    """`make run`'s configuration: SQLite file and kombu's filesystem broker, no server at all."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update({"NEWSROOM_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "newsroom.settings"})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = textwrap.dedent(f"""
        from django.db import transaction
        from annotations.services.projects import project_create
        from annotations.services.articles import article_create
        with transaction.atomic():
            p = project_create(name="Embedded", preannotator="fallback")
            article_create(project=p, text={TEXT!r})
    """)
    subprocess.run([*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True)
    assert list((tmp_path / "broker" / "queue").iterdir()), "the message should wait in the filesystem broker"
    log = tmp_path / "worker.log"
    db = tmp_path / "newsroom.sqlite3"

    def job_state():
        with sqlite3.connect(db, timeout=10) as con:
            row = con.execute("select status, span_count, error from annotations_preannotationjob").fetchone()
        return row if row and row[0] in ("done", "failed") else None

    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-P", "solo", "-l", "info"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            status, span_count, error = wait_until(job_state, timeout=90, what="the embedded worker")
        finally:
            worker.terminate()
            worker.wait(timeout=20)
    assert status == "done", (error, log.read_text()[-3000:])
    assert span_count > 0

"""A worker keeps its database connection between tasks (settings.CELERY_DB_REUSE_MAX).

Without it, Celery's Django fixup closes the connection before and after every task, and each task,
also each delivery that finds its job already taken by another batch, opens a new one.
"""

import pytest
from django.db import connection

from annotations.models import JobStatus, PreannotationJob
from annotations.services.articles import article_create
from annotations.tasks import preannotate_article
from tests.support.services import require_redis
from tests.support.worker import broker, redis_test_url, running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def sessions() -> int:
    """Sessions PostgreSQL has opened on the test database so far."""
    with connection.cursor() as cur:
        cur.execute("select pg_stat_clear_snapshot()")
        cur.execute("select sessions from pg_stat_database where datname = current_database()")
        return cur.fetchone()[0]


def finish(article) -> None:
    job = PreannotationJob.objects.get(article=article)
    wait_until(
        lambda: PreannotationJob.objects.get(id=job.id).status in (JobStatus.DONE, JobStatus.FAILED),
        timeout=90, what="the worker to finish the job",
    )
    assert PreannotationJob.objects.get(id=job.id).status == JobStatus.DONE


def test_worker_reuses_its_database_connection_across_tasks(project, editor, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's session count")
    url = redis_test_url(require_redis())
    with broker(url), running_worker(url, extra_env={"CONN_MAX_AGE": "60"}, log_path=tmp_path / "worker.log"):
        finish(article_create(project=project, text="Officials said 42 people died.", created_by=editor))
        before = sessions()
        for _ in range(20):
            preannotate_article.delay(10**9)  # no such job: one query, nothing to do
        finish(article_create(project=project, text="Police said 3 men were held.", created_by=editor))
        after = sessions()
    # 21 tasks ran in between; a connection per task would show 21 or more new sessions
    assert after - before <= 3, (before, after)

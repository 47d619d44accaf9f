"""Worker fault tolerance against real workers and real Redis servers.

* a worker SIGKILLed in the middle of pre-annotating: the message is redelivered and the article
  ends with exactly one set of suggestions;
* a job that always fails is failed with its reason after a bounded number of attempts, shows in
  the admin, and an editor's retry runs it again;
* Redis down while articles are uploaded, and Redis restarted with nothing kept: uploads succeed,
  jobs wait in the database, the beat-driven sweeper sends them when Redis is back, each article is
  pre-annotated exactly once. These start their OWN throwaway redis-server, never the shared one.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from annotations.models import Article, JobStatus, Origin, PreannotationJob, Span
from annotations.services.articles import article_create
from tests.support.ml_backend import FakeMLBackend
from tests.support.services import require, require_redis
from tests.support.worker import broker, redis_test_url, running_worker, wait_until, xdist_index

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TEXT = 'Officials said 42 people died in the floods. "We will rebuild," the mayor told reporters.'
VISIBILITY = 2


def machine_spans(article):
    return Span.objects.filter(article=article, assignment__isnull=True, origin=Origin.MACHINE)


def job_of(article) -> PreannotationJob:
    return PreannotationJob.objects.filter(article=article).order_by("-id").first()


def use_backend(project, fake):
    project.preannotator = "ml_backend"
    project.preannotator_config = {"url": fake.url, "retries": 0, "timeout": 30}
    project.save(update_fields=["preannotator", "preannotator_config"])


WORKER_ENV = {"NEWSROOM_OUTBOUND_ALLOWLIST": "127.0.0.1", "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}


def test_worker_killed_mid_prediction_is_redelivered_and_leaves_one_set(project, editor, tmp_path):
    url = redis_test_url(require_redis())
    with FakeMLBackend() as fake, broker(url):
        use_backend(project, fake)
        fake.mode = "block"
        with running_worker(url, extra_env=WORKER_ENV, log_path=tmp_path / "w1.log") as first:
            article = article_create(project=project, text=TEXT, created_by=editor)
            wait_until(fake.predict_started.is_set, timeout=60, what="the worker to call the backend")
            job = job_of(article)
            assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
            os.kill(first.pid, signal.SIGKILL)  # in the middle of the prediction
            first.wait(timeout=10)
        fake.mode = "ok"
        fake.release.set()
        # The broker hands the unacknowledged message out again once its visibility timeout is over.
        time.sleep(VISIBILITY + 0.5)
        with running_worker(url, extra_env=WORKER_ENV, log_path=tmp_path / "w2.log"):
            wait_until(lambda: job_of(article).status in (JobStatus.DONE, JobStatus.FAILED), timeout=90,
                       what="the redelivered job")
    job = job_of(article)
    assert job.status == JobStatus.DONE, (job.error, (tmp_path / "w2.log").read_text()[-3000:])
    assert job.attempts == 2  # the same job, taken back by the redelivered message
    assert PreannotationJob.objects.filter(article=article).count() == 1
    spans = machine_spans(article)
    assert spans.count() == job.span_count == 2
    assert set(spans.values_list("job_id", flat=True)) == {job.id}
    assert len(fake.predict_calls()) == 2


def test_always_failing_job_fails_after_bounded_attempts_and_editor_can_retry(project, editor, admin_client, tmp_path):
    url = redis_test_url(require_redis())
    with FakeMLBackend() as fake, broker(url):
        use_backend(project, fake)
        fake.mode = "error"
        with running_worker(url, extra_env=WORKER_ENV, log_path=tmp_path / "w.log"):
            article = article_create(project=project, text=TEXT, created_by=editor)
            wait_until(lambda: job_of(article).status == JobStatus.FAILED, timeout=90, what="the job to fail")
            failed = job_of(article)
            assert failed.attempts == 3 and len(fake.predict_calls()) == 3
            assert failed.error.startswith("Failed 3 times; last error: ML backend")
            assert "HTTP 500" in failed.error
            assert Article.objects.get(id=article.id).status == "preannotation_failed"
            assert not machine_spans(article).exists()

            page = admin_client.get("/admin/annotations/article/?preannotation=failed")
            assert page.status_code == 200
            assert "Failed 3 times; last error: ML backend" in page.content.decode()

            fake.mode = "ok"
            response = admin_client.post("/admin/annotations/article/", {
                "action": "retry_failed_preannotation", "_selected_action": [article.id],
            })
            assert response.status_code == 302
            wait_until(lambda: job_of(article).status in (JobStatus.DONE, JobStatus.FAILED) and
                       job_of(article).id != failed.id, timeout=60, what="the retried job")
    retried = job_of(article)
    assert retried.status == JobStatus.DONE and retried.attempts == 1
    assert machine_spans(article).count() == retried.span_count == 2
    assert Article.objects.get(id=article.id).status == "preannotated"


# ---------------------------------------------------------------------------------------------- Redis


def _free_port() -> int:
    base = 6390 + 10 * xdist_index()
    for port in range(base, base + 10):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for a throwaway redis-server")


class ThrowawayRedis:
    """Our own redis-server that keeps nothing (no RDB, no AOF); started and killed by the test."""

    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(up, timeout=20, what="redis-server to listen")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    require(shutil.which("redis-server") is not None, "redis-server binary")
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.kill()


SWEEP_ENV = {"NEWSROOM_SWEEP_INTERVAL": "1", "NEWSROOM_PREANNOTATION_REQUEUE_AFTER": "3"}


def _all_done(articles):
    return all(job_of(a).status in (JobStatus.DONE, JobStatus.FAILED) for a in articles)


def _assert_preannotated_once(articles):
    for article in articles:
        jobs = list(PreannotationJob.objects.filter(article=article))
        assert len(jobs) == 1 and jobs[0].status == JobStatus.DONE, [(j.status, j.error) for j in jobs]
        assert jobs[0].attempts == 1
        spans = machine_spans(article)
        assert spans.count() == jobs[0].span_count > 0
        assert set(spans.values_list("job_id", flat=True)) == {jobs[0].id}


def test_redis_down_during_uploads_then_back(project, editor, own_redis, tmp_path):
    beat = ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
    with broker(own_redis.url), running_worker(own_redis.url, extra_env=SWEEP_ENV, extra_args=beat,
                                               log_path=tmp_path / "worker.log"):
        own_redis.kill()
        started = time.monotonic()
        articles = [article_create(project=project, text=f"{TEXT} Story {i}.", created_by=editor) for i in range(3)]
        assert time.monotonic() - started < 15  # uploads do not hang on the dead broker
        for article in articles:
            job = job_of(article)
            assert job.status == JobStatus.QUEUED and job.enqueued_at is None  # waiting in the database
        own_redis.start()  # back, empty
        wait_until(lambda: _all_done(articles), timeout=120, what="the sweeper and worker after Redis returned")
    _assert_preannotated_once(articles)


def test_redis_restarted_with_nothing_kept(project, editor, own_redis, tmp_path):
    with broker(own_redis.url):
        articles = [article_create(project=project, text=f"{TEXT} Item {i}.", created_by=editor) for i in range(3)]
        assert all(job_of(a).enqueued_at is not None for a in articles)  # sent, no worker yet
        own_redis.kill()  # the messages die with it
        own_redis.start()
        beat = ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
        with running_worker(own_redis.url, extra_env=SWEEP_ENV, extra_args=beat, log_path=tmp_path / "worker.log"):
            wait_until(lambda: _all_done(articles), timeout=120, what="the sweeper to re-send the lost jobs")
    _assert_preannotated_once(articles)


def test_import_and_export_jobs_made_while_redis_is_down_run_once_when_it_returns(project, editor, manager,
                                                                                    own_redis, tmp_path, settings):
    """A large upload (an import job) and an export job while Redis is down: both accepted, both
    wait in the database, and the sweeper sends them when Redis is back; each runs once."""
    import json

    from annotations.models import ExportJob, ImportJob
    from annotations.services.exports import export_job_create
    from annotations.services.intake import import_job_create

    settings.MEDIA_ROOT = tmp_path / "media"
    body = "\n".join(json.dumps({"text": f"{TEXT} Import {i}."}) for i in range(5)).encode()
    beat = ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
    env = {**SWEEP_ENV, "NEWSROOM_VAR_DIR": str(tmp_path)}
    with broker(own_redis.url), running_worker(own_redis.url, extra_env=env, extra_args=beat,
                                               log_path=tmp_path / "worker.log"):
        own_redis.kill()
        job = import_job_create(project=project, user=editor, name="feed.jsonl", data=body)
        export = export_job_create(project=project, requested_by=manager, format_name="jsonl", name="while down",
                                   filters={"status": "all"})
        for row in (job, export):
            row.refresh_from_db()
            assert row.status == JobStatus.QUEUED and row.enqueued_at is None  # waiting in the database
        own_redis.start()  # back, empty
        wait_until(lambda: ImportJob.objects.filter(id=job.id, status__in=["done", "failed"]).exists()
                   and ExportJob.objects.filter(id=export.id, status__in=["done", "failed"]).exists(),
                   timeout=120, what="the sweeper and worker to run both jobs after Redis returned")
    export.refresh_from_db()
    assert export.status == JobStatus.DONE and export.sha256 and export.claim, export.error
    job.refresh_from_db()
    log = (tmp_path / "worker.log").read_text()[-2000:]
    assert job.status == JobStatus.DONE, (job.error, log)
    assert job.report["imported_count"] == 5
    assert Article.objects.filter(project=project, text__contains="Import").count() == 5


def test_webhook_delivery_lost_with_redis_is_sent_when_it_returns(project, own_redis, tmp_path):
    """An event while Redis is down: the delivery row waits, the sweeper sends it once Redis is back,
    and the receiver gets it (signed, once)."""
    from annotations.models import WebhookDelivery
    from annotations.services.webhooks import SIGNATURE_HEADER, webhook_create, webhook_event_emit
    from tests.webhooks.test_webhooks import Receiver

    beat = ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
    env = {**SWEEP_ENV, **WORKER_ENV}
    with Receiver() as rx, broker(own_redis.url), running_worker(own_redis.url, extra_env=env, extra_args=beat,
                                                                  log_path=tmp_path / "worker.log"):
        webhook_create(project=project, url=rx.url, events=["export.ready"])
        own_redis.kill()
        [delivery] = webhook_event_emit(project=project, event="export.ready", payload={"id": 1})
        delivery.refresh_from_db()
        assert delivery.status == "queued" and delivery.next_attempt_at is None  # never sent
        own_redis.start()
        wait_until(lambda: WebhookDelivery.objects.filter(id=delivery.id, status="delivered").exists(),
                   timeout=120, what="the sweeper to send the lost delivery")
    assert len(rx.requests) == 1
    headers = rx.requests[0][0]
    assert headers["X-Newsroom-Delivery"] == str(delivery.id) and headers[SIGNATURE_HEADER].startswith("sha256=")

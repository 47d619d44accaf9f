"""An export job through a real Celery worker and the real Redis."""

import hashlib

import pytest

from annotations.models import ExportJob, JobStatus
from annotations.services.exports import export_job_create, export_job_path
from tests.support.services import require_redis
from tests.support.worker import broker, redis_test_url, running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_writes_the_dataset_version(project, dataset, manager, tmp_path, settings):
    url = redis_test_url(require_redis())
    export_dir = tmp_path / "exports"
    settings.NEWSROOM = dict(settings.NEWSROOM, EXPORT_DIR=export_dir)
    env = {"NEWSROOM_VAR_DIR": str(tmp_path / "var")}
    with broker(url), running_worker(url, log_path=tmp_path / "worker.log", extra_env=env):
        job = export_job_create(project=project, requested_by=manager, format_name="conll", name="bio v1")
        wait_until(lambda: ExportJob.objects.get(id=job.id).status in (JobStatus.DONE, JobStatus.FAILED),
                   timeout=120, what="the worker to finish the export")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, (job.error, (tmp_path / "worker.log").read_text()[-3000:])
    # the worker wrote under ITS export dir (var/exports of its NEWSROOM_VAR_DIR)
    path = tmp_path / "var" / "exports" / job.file.name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == job.sha256
    assert job.counts["articles"] == 3 and job.processed == job.total == 3
    assert "-DOCSTART-" in path.read_text(encoding="utf-8")
    assert export_job_path(job).name == path.name

"""A large import through a real Celery worker and Redis: 202 with the job's URL, progress, the report."""

import json

import pytest

from annotations.models import Article, ImportJob, JobStatus, PreannotationJob
from tests.support.services import require_redis
from tests.support.worker import broker, redis_test_url, running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_async_import_runs_in_the_worker(api_client, project, editor, tmp_path, settings):
    url = redis_test_url(require_redis())
    settings.MEDIA_ROOT = tmp_path / "media"
    lines = [json.dumps({"text": f"Story number {i}: officials said {i} people were hurt."}) for i in range(1200)]
    lines.append(json.dumps({"text": "Story number 7: officials said 7 people were hurt."}))  # a duplicate
    body = ("\n".join(lines) + "\n").encode()
    api_client.force_authenticate(editor)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("feed.jsonl", body, content_type="application/octet-stream")
    with broker(url), running_worker(url, log_path=tmp_path / "worker.log",
                                     extra_env={"NEWSROOM_VAR_DIR": str(tmp_path)}):
        r = api_client.post(f"/api/projects/{project.id}/articles/import/", {"file": upload, "async": "true"},
                            format="multipart")
        assert r.status_code == 202, r.content
        job_url = r.json()["url"]
        upload_name = ImportJob.objects.values_list("file", flat=True).get()

        def finished():
            state = api_client.get(job_url).json()
            return state if state["status"] in ("done", "failed") else None

        state = wait_until(finished, timeout=120, interval=0.1, what="the import job to finish")
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert state["status"] == "done", (state, log)
    assert state["total"] == state["processed"] == 1201
    assert state["report"]["imported_count"] == 1200 and state["report"]["duplicate_count"] == 1
    assert Article.objects.filter(project=project).count() == 1200
    assert PreannotationJob.objects.filter(article__project=project).count() == 1200
    job = ImportJob.objects.get()
    assert job.status == JobStatus.DONE and job.original_name == "feed.jsonl"
    # the upload was stored under a server-chosen name, and is not kept once the job has finished
    assert upload_name.startswith("imports/") and upload_name.endswith(".upload")
    assert not job.file and not (settings.MEDIA_ROOT / upload_name).exists()
    assert job.claim and job.started_at and job.enqueued_at  # claimed by the worker's delivery

"""The export API: token auth, streaming, filters, permissions, export jobs, schema and docs."""

import hashlib
import json
import re

import pytest
from django.http import FileResponse, StreamingHttpResponse

from annotations.models import ExportJob, JobStatus
from annotations.services.exports import export_job_path
from annotations.services.tokens import token_create
from tests.exports.conftest import dataset  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_dir(tmp_path, settings):
    settings.NEWSROOM = dict(settings.NEWSROOM, EXPORT_DIR=tmp_path / "exports")
    return tmp_path / "exports"


@pytest.fixture
def inline_tasks(monkeypatch):
    """The broker is the edge of the world here: `.delay` runs the task in this process.
    (tests/worker/test_export_worker.py runs a job through a real worker and Redis.)"""
    from annotations import tasks

    for task in (tasks.export_run, tasks.webhook_deliver):
        monkeypatch.setattr(task, "delay", lambda *args, _t=task: _t.apply(args=args))


def bearer(client, user):
    _, key = token_create(user=user, name="t")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_token_from_password_then_streamed_jsonl(api_client, project, dataset, reviewer):  # noqa: F811
    r = api_client.post("/api/auth/token/", {"username": "reviewer", "password": "pass-word-123"}, format="json")
    assert r.status_code == 201
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    response = api_client.get(f"/api/projects/{project.id}/export/?format=jsonl")
    assert response.status_code == 200
    assert response.streaming and isinstance(response, StreamingHttpResponse)
    assert response["X-Offsets"] == "codepoint"
    assert re.match(r'attachment; filename="wire-desk-\d{8}T\d{6}Z\.jsonl"', response["Content-Disposition"])
    lines = [json.loads(line) for line in body(response).decode().splitlines()]
    assert [line["id"] for line in lines] == [a.id for a in dataset]
    assert all(line["offsets"] == "codepoint" for line in lines)


@pytest.mark.parametrize("fmt, ctype", [
    ("jsonl", "application/x-ndjson"), ("doccano", "application/x-ndjson"), ("label-studio", "application/json"),
    ("conll", "text/plain"), ("csv", "text/csv"), ("spacy", "application/octet-stream"),
])
def test_every_format_streams(api_client, project, dataset, manager, fmt, ctype):  # noqa: F811
    response = bearer(api_client, manager).get(f"/api/projects/{project.id}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    assert response.streaming and response["Content-Type"].startswith(ctype)
    if fmt == "spacy":
        assert isinstance(response, FileResponse)  # written to a temporary file first, then streamed
    assert body(response)


def test_filters_and_utf16_through_the_api(api_client, project, dataset, manager):  # noqa: F811
    c = bearer(api_client, manager)
    r = c.get(f"/api/projects/{project.id}/export/", {"format": "jsonl", "ids": f"{dataset[1].id}",
                                                      "label": "SOURCE", "offsets": "utf16"})
    assert r["X-Offsets"] == "utf16"
    [line] = [json.loads(x) for x in body(r).decode().splitlines()]
    assert {s["label"] for s in line["spans"]} == {"SOURCE"} and line["offsets"] == "utf16"
    reuters = next(s for s in line["spans"] if s["text"] == "Reuters")
    assert reuters["start"] == line["text"].index("Reuters") + 2  # the flag is 2 code points, 4 UTF-16 units
    r = c.get(f"/api/projects/{project.id}/export/", {"format": "jsonl", "include_suggestions": "true",
                                                      "ids": f"{dataset[2].id}"})
    [line] = [json.loads(x) for x in body(r).decode().splitlines()]
    assert any(s["origin"] == "machine" and s["state"] == "pending" for s in line["spans"])


@pytest.mark.parametrize("params, field", [
    ({"format": "xml"}, "format"), ({"format": "conll", "offsets": "utf16"}, "offsets"),
    ({"format": "spacy", "layer": "all"}, "layer"), ({"status": "nope"}, "status"),
    ({"date_from": "2024-13-01"}, "date_from"),
])
def test_bad_options_are_400_naming_the_parameter(api_client, project, manager, params, field):
    r = bearer(api_client, manager).get(f"/api/projects/{project.id}/export/", params)
    assert r.status_code == 400 and field in r.json()


def test_non_member_gets_404_and_anonymous_401(api_client, project, dataset, outsider):  # noqa: F811
    assert api_client.get(f"/api/projects/{project.id}/export/").status_code == 401
    c = bearer(api_client, outsider)
    assert c.get(f"/api/projects/{project.id}/export/").status_code == 404
    assert c.get(f"/api/projects/{project.id}/export/label-config/").status_code == 404
    assert c.get(f"/api/projects/{project.id}/exports/").status_code == 404
    assert c.post(f"/api/projects/{project.id}/exports/", {"format": "jsonl"}, format="json").status_code == 404
    assert c.get("/api/projects/999999/export/").status_code == 404


def test_export_job_end_to_end(api_client, project, dataset, reviewer, outsider, export_dir,  # noqa: F811
                               django_capture_on_commit_callbacks, inline_tasks):
    c = bearer(api_client, reviewer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = c.post(f"/api/projects/{project.id}/exports/",
                   {"name": "Claims v1", "format": "jsonl", "filters": {"label": ["CLAIM"]}}, format="json")
    assert r.status_code == 202, r.content
    assert len(callbacks) == 1
    job_id = r.json()["id"]
    job = ExportJob.objects.get(id=job_id)
    assert job.status == JobStatus.DONE and job.name == "Claims v1"
    detail = c.get(f"/api/exports/{job_id}/").json()
    assert detail["progress"] == 1.0 and detail["counts"]["articles"] == 3
    assert detail["counts"]["labels"] == {"CLAIM": 4} and detail["filters"]["labels"] == ["CLAIM"]
    assert detail["download"] == f"/api/exports/{job_id}/download/"
    download = c.get(detail["download"])
    assert download.status_code == 200 and download.streaming
    data = body(download)
    assert hashlib.sha256(data).hexdigest() == detail["sha256"] == download["X-Checksum-SHA256"]
    assert len(data) == detail["size_bytes"]
    path = export_job_path(job)
    assert export_dir in path.parents and not (path.stat().st_mode & 0o222)  # read-only
    assert [j["id"] for j in c.get(f"/api/projects/{project.id}/exports/").json()["results"]] == [job_id]
    # immutable: the same name is refused, a re-run changes nothing
    again = c.post(f"/api/projects/{project.id}/exports/", {"name": "Claims v1", "format": "csv"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    from annotations.services.exports import export_job_run

    export_job_run(job_id=job_id)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == detail["sha256"]
    # other people's jobs are invisible
    o = bearer(api_client.__class__(), outsider)
    assert o.get(f"/api/exports/{job_id}/").status_code == 404
    assert o.get(f"/api/exports/{job_id}/download/").status_code == 404


def test_job_not_run_when_the_transaction_rolls_back(project, manager, django_capture_on_commit_callbacks):
    from django.db import transaction

    from annotations.services.exports import export_job_create

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                export_job_create(project=project, requested_by=manager, format_name="csv")
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == [] and not ExportJob.objects.exists()


def test_unfinished_job_download_is_409(api_client, project, manager, django_capture_on_commit_callbacks):
    c = bearer(api_client, manager)
    with django_capture_on_commit_callbacks(execute=False):
        r = c.post(f"/api/projects/{project.id}/exports/", {"format": "spacy"}, format="json")
    assert r.status_code == 202 and r.json()["status"] == "queued" and r.json()["download"] is None
    assert c.get(f"/api/exports/{r.json()['id']}/download/").status_code == 409


def test_schema_generates_with_the_export_parameters(api_client, manager):
    api_client.force_authenticate(manager)
    r = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = json.loads(r.content)
    op = schema["paths"]["/api/projects/{project_pk}/export/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"format", "status", "date_from", "date_to", "annotator", "label", "ids", "include_suggestions",
            "layer", "offsets"} <= names
    assert "/api/exports/{id}/download/" in schema["paths"]
    assert "/api/projects/{project_pk}/webhooks/" in schema["paths"]


def test_docs_page_is_self_contained(client, manager):
    client.force_login(manager)
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger" in html.lower()
    refs = re.findall(r'(?:src|href)=["\']([^"\']+)', html)
    assert refs and all(not re.match(r"^(https?:)?//", ref) for ref in refs), refs
    for ref in refs:  # every asset it names is served by us
        if ref.startswith("/"):
            assert client.get(ref).status_code == 200, ref


def test_a_name_with_a_line_break_is_a_400_not_a_500(api_client, project, manager, django_capture_on_commit_callbacks):
    c = bearer(api_client, manager)
    with django_capture_on_commit_callbacks(execute=False):
        r = c.post(f"/api/projects/{project.id}/exports/", {"name": "v1\r\nX-Evil: 1", "format": "csv"},
                   format="json")
    assert r.status_code == 400 and "name" in r.json()
    assert not ExportJob.objects.exists()

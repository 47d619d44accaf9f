"""Uploads are judged by their content, stored under names the server chose and never served back
from a path a user chose; downloads name their file safely whatever the user called the export."""

import io
import zipfile

import pytest

from annotations.models import Article, ExportJob, ImportJob
from annotations.services.exports import export_job_create, export_job_run
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


def upload(api_client, project, name, data, **params):
    f = io.BytesIO(data)
    f.name = name
    return api_client.post(f"/api/projects/{project.id}/articles/import/", {"file": f, **params}, format="multipart")


@pytest.mark.parametrize("name,data", [
    ("article.txt", PNG), ("story.md", ELF), ("wire.html", b"%PDF-1.7\n" + b"\x00\x01" * 40),
    ("copy.docx", b"PK\x03\x04 not really a zip"),
])
def test_a_binary_with_a_text_name_is_rejected_by_its_content(api_client, project, editor, name, data):
    api_client.force_authenticate(editor)
    response = upload(api_client, project, name, data)
    assert response.status_code == 400, response.content
    assert response.json()["rejected"], response.json()
    assert not Article.objects.filter(project=project).exists()


def test_html_named_txt_is_read_as_html_and_never_stored_as_markup(api_client, project, editor):
    api_client.force_authenticate(editor)
    html = (b"<html><head><title>Mayor resigns</title><script>window.__xss=1</script></head>"
            b"<body><p>The mayor said she would resign.</p><img src=x onerror=alert(1)></body></html>")
    response = upload(api_client, project, "notes.txt", html)
    assert response.status_code == 201, response.content
    article = Article.objects.get(project=project)
    assert "The mayor said she would resign." in article.text
    assert "<script" not in article.text and "window.__xss" not in article.text and "onerror" not in article.text


def test_zip_entries_with_traversal_names_never_reach_the_disk_by_their_names(api_client, project, editor, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../../../tmp/nr_pwned.txt", "A minister said something in a zip.")
        z.writestr("/etc/cron.d/nr_pwned", "Another claim was made, police said.")
    api_client.force_authenticate(editor)
    response = upload(api_client, project, "batch.zip", buf.getvalue())
    assert response.status_code in (200, 201, 400), response.content
    import os

    assert not os.path.exists("/tmp/nr_pwned.txt") and not os.path.exists("/etc/cron.d/nr_pwned")


def test_async_upload_is_stored_under_a_server_chosen_name(api_client, project, editor, settings):
    api_client.force_authenticate(editor)
    response = upload(api_client, project, "../../../etc/passwd<script>.txt", b"The minister said 42 people died.",
                      **{"async": "1"})
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(project=project)
    stored = job.file.name
    assert ".." not in stored and "passwd" not in stored and "<" not in stored
    assert stored.startswith("imports/") and stored.endswith(".upload")
    assert "/" not in job.original_name and job.original_name.startswith("passwd")  # a label only
    # Nothing serves uploaded files back by path.
    assert api_client.get(f"/media/{stored}").status_code == 404
    assert api_client.get(f"/{stored}").status_code == 404
    job.file.delete(save=False)


@pytest.mark.parametrize("name", ['a";\r\nSet-Cookie: x=1', "../../etc/passwd", "résumé<script>", "名前"])
def test_export_download_filename_is_safe_whatever_the_export_is_called(api_client, project, manager, name):
    make_article(project, title="One")
    try:
        job = export_job_create(project=project, requested_by=manager, format_name="jsonl", name=name)
    except Exception as exc:  # a refused name is fine too, as long as it is a validation error
        from django.core.exceptions import ValidationError

        assert isinstance(exc, ValidationError), exc
        return
    export_job_run(job_id=job.id)
    job = ExportJob.objects.get(id=job.id)
    api_client.force_authenticate(manager)
    response = api_client.get(f"/api/exports/{job.id}/download/")
    assert response.status_code == 200, response.status_code
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename", 1)[1]
    assert "Set-Cookie" not in response.headers or "x=1" not in response.headers.get("Set-Cookie", "")
    b"".join(response.streaming_content) if response.streaming else response.content

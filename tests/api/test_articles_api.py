"""The articles API: create one or many, import files, list with filters, detail with layers, PATCH the text."""

import io
import json
import zipfile

import pytest

from annotations.models import (
    Article,
    Assignment,
    ImportJob,
    LabelType,
    PreannotationJob,
    Span,
    SuggestionState,
)
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Publishing to the broker is tested with a real worker elsewhere; here the job rows are checked."""
    monkeypatch.setattr("annotations.services.preannotation.preannotation_jobs_enqueue", lambda job_ids: None)
    monkeypatch.setattr("annotations.services.preannotation.preannotation_job_enqueue", lambda job_id: None)


def url(project):
    return f"/api/projects/{project.id}/articles/"


def test_editor_posts_one_object(api_client, project, editor):
    api_client.force_authenticate(editor)
    r = api_client.post(url(project), {"text": "Officials said 42 people died.\r\n", "title": "Toll",
                                       "outlet": "AP", "published_at": "2024-03-03", "meta": {"desk": "x"}},
                        format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["committed"] and body["imported_count"] == 1
    article = Article.objects.get(id=body["imported"][0]["id"])
    assert article.text == "Officials said 42 people died."
    assert (article.title, article.outlet, article.published_at.isoformat(), article.meta) == (
        "Toll", "AP", "2024-03-03", {"desk": "x"})
    assert PreannotationJob.objects.filter(article=article).count() == 1


def test_list_with_one_bad_item_writes_nothing_unless_partial(api_client, project, editor):
    api_client.force_authenticate(editor)
    items = [{"text": "Good one."}, {"title": "no text"}, {"text": "Good two.", "spans": [
        {"label": "CLAIM", "start": 0, "end": 4, "text": "Nope"}]}]
    r = api_client.post(url(project), items, format="json")
    assert r.status_code == 400
    assert r.json()["rejected"] == [
        {"source": "item 2", "reason": "has no 'text' field"},
        {"source": "item 3", "reason": "span 1 (CLAIM 0:4): quoted text 'Nope' does not match the text there "
                                       "('Good')"},
    ]
    assert not Article.objects.exists()
    r = api_client.post(url(project) + "?partial=true", items, format="json")
    assert r.status_code == 201 and r.json()["imported_count"] == 1 and r.json()["rejected_count"] == 2
    assert list(Article.objects.values_list("text", flat=True)) == ["Good one."]


def test_duplicates_are_reported(api_client, project, editor):
    make_article(project, text="Same text.")
    api_client.force_authenticate(editor)
    r = api_client.post(url(project), [{"text": "Same text."}], format="json")
    assert r.status_code == 200 and r.json()["duplicate_count"] == 1 and r.json()["imported_count"] == 0
    assert Article.objects.count() == 1


@pytest.mark.parametrize("who,code", [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_only_editors_and_managers_create(api_client, project, request, who, code):
    api_client.force_authenticate(request.getfixturevalue(who))
    assert api_client.post(url(project), {"text": "x y z"}, format="json").status_code == code
    assert not Article.objects.exists()


def test_superuser_and_manager_may_create(api_client, project, manager, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "b@example.org", "pass-word-123")
    for user, text in ((manager, "By the manager."), (boss, "By the superuser.")):
        api_client.force_authenticate(user)
        assert api_client.post(url(project), {"text": text}, format="json").status_code == 201


def test_import_files_multipart(api_client, project, editor):
    api_client.force_authenticate(editor)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "Zipped story one.")
        zf.writestr("b.html", "<p>Zipped <i>story</i> two.</p><script>alert(1)</script>")
    files = [io.BytesIO(b"title,text\nT,CSV story.\n"), io.BytesIO(buf.getvalue())]
    files[0].name, files[1].name = "rows.csv", "batch.zip"
    r = api_client.post(url(project) + "import/", {"file": files}, format="multipart")
    assert r.status_code == 201, r.json()
    assert sorted(Article.objects.values_list("text", flat=True)) == [
        "CSV story.", "Zipped story one.", "Zipped story two."]


def test_import_rejections_are_clear_and_never_500(api_client, project, editor):
    api_client.force_authenticate(editor)
    cases = [("scan.pdf", b"%PDF-1.4 " + bytes(range(256)), "PDF"),
             ("feed.jsonl", b'{"text": "ok"}\n{"text": \n', "feed.jsonl, line 2"),
             ("rows.csv", b"title,body\nA,B\n", "CSV without a 'text' column"),
             ("empty.txt", b"", "empty")]
    for name, data, expected in cases:
        f = io.BytesIO(data)
        f.name = name
        r = api_client.post(url(project) + "import/", {"file": f}, format="multipart")
        assert r.status_code == 400, (name, r.content)
        assert expected in json.dumps(r.json()), r.json()
    assert api_client.post(url(project) + "import/", {}, format="multipart").status_code == 400
    assert not Article.objects.exists()


def test_oversize_upload_is_rejected(api_client, project, editor, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "MAX_UPLOAD_BYTES": 100}
    api_client.force_authenticate(editor)
    f = io.BytesIO(b"word " * 100)
    f.name = "long.txt"
    r = api_client.post(url(project) + "import/", {"file": f}, format="multipart")
    assert r.status_code == 400 and "more than the limit of 100" in r.json()["rejected"][0]["reason"]


def test_large_import_becomes_a_job_with_a_server_chosen_file_name(api_client, project, editor,
                                                                  django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("annotations.tasks.run_import_job.delay", lambda job_id: sent.append(job_id))
    api_client.force_authenticate(editor)
    f = io.BytesIO(b'{"text": "One."}\n{"text": "Two."}\n')
    f.name = "../../etc/evil name.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post(url(project) + "import/", {"file": f, "async": "true"}, format="multipart")
    assert r.status_code == 202, r.content
    job = ImportJob.objects.get()
    assert sent == [job.id]
    assert r.json()["url"].endswith(f"/api/import-jobs/{job.id}/")
    assert job.original_name.endswith("evil name.jsonl")
    assert job.file.name.startswith("imports/") and ".." not in job.file.name and "evil" not in job.file.name
    from annotations.services.intake import import_job_run

    import_job_run(job_id=job.id)
    status = api_client.get(f"/api/import-jobs/{job.id}/").json()
    assert status["status"] == "done" and status["processed"] == status["total"] == 2
    assert status["report"]["imported_count"] == 2
    api_client.force_authenticate(None)


def test_import_job_is_hidden_from_outsiders_and_annotators(api_client, project, editor, annotator, outsider):
    job = ImportJob.objects.create(project=project, requested_by=editor)
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/import-jobs/{job.id}/").status_code == 404
    api_client.force_authenticate(annotator)
    assert api_client.get(f"/api/import-jobs/{job.id}/").status_code == 403


def test_list_paginated_and_filtered(api_client, project, annotator, outsider, django_assert_max_num_queries):
    import datetime

    a = make_article(project, text="Alpha story.", title="Budget vote", published_at=datetime.date(2024, 1, 5))
    make_article(project, text="Beta story.", title="Floods", published_at=datetime.date(2024, 2, 5))
    Article.objects.filter(id=a.id).update(status="approved")
    api_client.force_authenticate(annotator)
    with django_assert_max_num_queries(6):
        body = api_client.get(url(project)).json()
    assert body["count"] == 2 and "text" not in body["results"][0]
    assert [x["title"] for x in api_client.get(url(project) + "?status=approved").json()["results"]] == ["Budget vote"]
    assert [x["title"] for x in api_client.get(url(project) + "?search=flood").json()["results"]] == ["Floods"]
    r = api_client.get(url(project) + "?published_after=2024-02-01&published_before=2024-03-01").json()
    assert [x["title"] for x in r["results"]] == ["Floods"]
    api_client.force_authenticate(outsider)
    assert api_client.get(url(project)).status_code == 404


def _layers(project, editor, annotator, annotator2):
    article = make_article(project, text="Police said two people died in the flood.")
    claim = LabelType.objects.get(project=project, name="CLAIM")
    Span.objects.create(article=article, label=claim, start=12, end=27, text=article.text[12:27], origin="machine",
                        state=SuggestionState.PENDING, confidence=0.7)
    for user in (annotator, annotator2):
        a = Assignment.objects.create(article=article, user=user)
        Span.objects.create(article=article, assignment=a, label=claim, start=12, end=27, text=article.text[12:27])
    return article


def test_detail_shows_all_layers_to_editors_and_own_layer_to_annotators(
        api_client, project, editor, annotator, annotator2, reviewer, outsider, django_assert_max_num_queries):
    article = _layers(project, editor, annotator, annotator2)
    api_client.force_authenticate(editor)
    with django_assert_max_num_queries(8):
        body = api_client.get(f"/api/articles/{article.id}/").json()
    assert body["text"] == article.text and body["status"] == "new"
    assert sorted(s["layer"] for s in body["spans"]) == ["annotation", "annotation", "machine"]
    machine = next(s for s in body["spans"] if s["layer"] == "machine")
    assert (machine["label"], machine["start"], machine["end"], machine["text"], machine["origin"], machine["state"],
            machine["confidence"]) == ("CLAIM", 12, 27, "two people died", "machine", "pending", 0.7)
    api_client.force_authenticate(reviewer)
    assert len(api_client.get(f"/api/articles/{article.id}/").json()["spans"]) == 3
    api_client.force_authenticate(annotator)
    mine = api_client.get(f"/api/articles/{article.id}/").json()["spans"]
    assert sorted(s["layer"] for s in mine) == ["annotation", "machine"]
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/articles/{article.id}/").status_code == 404


def test_detail_query_count_does_not_grow_with_spans(api_client, project, editor, annotator, annotator2,
                                                      django_assert_max_num_queries):
    article = _layers(project, editor, annotator, annotator2)
    label = LabelType.objects.get(project=project, name="SOURCE")
    Span.objects.bulk_create([Span(article=article, label=label, start=0, end=6, text="Police", origin="machine",
                                   state="pending") for _ in range(100)])
    api_client.force_authenticate(editor)
    with django_assert_max_num_queries(8):
        assert len(api_client.get(f"/api/articles/{article.id}/").json()["spans"]) == 103


def test_patch_text_reanchors_and_409s_on_stale_version(api_client, project, editor, annotator, annotator2):
    article = _layers(project, editor, annotator, annotator2)
    api_client.force_authenticate(editor)
    new_text = "Update 😀: police said two people died in the flood."
    r = api_client.patch(f"/api/articles/{article.id}/", {"text": new_text, "version": 1}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["version"] == 2 and body["text"] == new_text
    assert {(s["start"], s["end"], s["text"], s["needs_review"]) for s in body["spans"]} == {
        (new_text.index("two"), new_text.index("two") + 15, "two people died", False)}
    stale = api_client.patch(f"/api/articles/{article.id}/", {"text": "Other.", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    meta = api_client.patch(f"/api/articles/{article.id}/", {"title": "New title", "version": 2}, format="json")
    assert meta.status_code == 200 and meta.json()["title"] == "New title"


@pytest.mark.parametrize("who,code", [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_patch_is_for_editors_only(api_client, project, request, who, code):
    article = make_article(project, text="Original text.")
    api_client.force_authenticate(request.getfixturevalue(who))
    r = api_client.patch(f"/api/articles/{article.id}/", {"text": "Changed.", "version": 1}, format="json")
    assert r.status_code == code
    article.refresh_from_db()
    assert article.text == "Original text."


def test_token_authentication_and_projects_listing(api_client, project, editor):
    from annotations.services.tokens import token_create

    _, key = token_create(user=editor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert [p["id"] for p in api_client.get("/api/projects/").json()["results"]] == [project.id]
    assert api_client.post(url(project), [{"text": "Via token."}], format="json").status_code == 201


def test_schema_still_generates(api_client, editor):
    api_client.force_authenticate(editor)
    r = api_client.get("/api/schema/")
    assert r.status_code == 200 and b"/api/projects/{project_pk}/articles/import/" in r.content


def test_malformed_json_body_is_a_400(api_client, project, editor):
    api_client.force_authenticate(editor)
    r = api_client.post(url(project), data=b'[{"text": "x"', content_type="application/json")
    assert r.status_code == 400 and "JSON parse error" in r.json()["detail"]
    r = api_client.post(url(project), data=b'{"text": NaN}', content_type="application/json")
    assert r.status_code == 400
    r = api_client.post(url(project), data=b'"just a string"', content_type="application/json")
    assert r.status_code == 400
    assert not Article.objects.exists()


def test_long_json_list_becomes_a_job(api_client, project, editor, settings, monkeypatch,
                                      django_capture_on_commit_callbacks):
    settings.NEWSROOM = {**settings.NEWSROOM, "IMPORT_ASYNC_ROWS": 2}
    sent = []
    monkeypatch.setattr("annotations.tasks.run_import_job.delay", lambda job_id: sent.append(job_id))
    api_client.force_authenticate(editor)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post(url(project) + "?partial=1", [{"text": "A."}, {"text": "B."}, {"text": ""}],
                            format="json")
    assert r.status_code == 202 and r.headers["Location"].endswith(f"/api/import-jobs/{sent[0]}/")
    assert not Article.objects.exists()  # nothing yet: the worker does it
    from annotations.services.intake import import_job_run

    job = import_job_run(job_id=sent[0])
    assert job.status == "done" and job.report["imported_count"] == 2 and job.report["rejected_count"] == 1
    assert job.report["rejected"] == [{"source": "api-request.json, item 3", "reason": "the text is empty"}]

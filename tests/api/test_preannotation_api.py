"""The pre-annotation API: re-run, job state, models, training request, plug-in choice."""

import pytest

from annotations.models import JobStatus, PreannotationJob, Project
from annotations.services import preannotation as svc
from tests.support.factories import make_article, make_project
from tests.support.ml_backend import FakeMLBackend

TEXT = "Officials said 42 people died in the floods."


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(svc, "preannotation_job_enqueue", lambda job_id, countdown=None: calls.append(job_id))
    return calls


@pytest.fixture
def as_user(api_client):
    def _as(user):
        api_client.force_authenticate(user)
        return api_client

    return _as


def test_editor_reruns_a_selection(project, editor, as_user, sent, django_capture_on_commit_callbacks):
    a, b = make_article(project, TEXT), make_article(project, TEXT + " Again.")
    with django_capture_on_commit_callbacks(execute=True):
        r = as_user(editor).post(f"/api/projects/{project.id}/preannotate/", {"article_ids": [a.id, b.id]},
                                 format="json")
    assert r.status_code == 202, r.content
    jobs = r.json()["jobs"]
    assert sorted(j["article"] for j in jobs) == [a.id, b.id] and {j["state"] for j in jobs} == {"queued"}
    assert sorted(sent) == sorted(j["id"] for j in jobs)


def test_rerun_refuses_other_roles_projects_and_bad_input(project, annotator, outsider, editor, as_user, sent):
    article = make_article(project, TEXT)
    other = make_project(name="Other", slug="other")
    foreign = make_article(other, TEXT)
    url = f"/api/projects/{project.id}/preannotate/"
    assert as_user(annotator).post(url, {"article_ids": [article.id]}, format="json").status_code == 403
    assert as_user(outsider).post(url, {"article_ids": [article.id]}, format="json").status_code == 404
    r = as_user(editor).post(url, {"article_ids": [article.id, foreign.id]}, format="json")
    assert r.status_code == 400 and str(foreign.id) in r.content.decode()
    assert as_user(editor).post(url, {"article_ids": []}, format="json").status_code == 400
    assert as_user(editor).post(url, {"article_ids": "x"}, format="json").status_code == 400
    assert not PreannotationJob.objects.exists() and sent == []


def test_article_preannotation_state_with_reason(project, annotator, outsider, as_user):
    article = make_article(project, TEXT)
    job = PreannotationJob.objects.create(article=article, preannotator="fallback", text_hash=article.text_hash)
    svc._mark_failed(job, "ML backend http://x failed after 3 tries: timed out after 30s", job.created_at)
    r = as_user(annotator).get(f"/api/articles/{article.id}/preannotation/")
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "failed" and "timed out" in body["reason"]
    assert body["jobs"][0]["id"] == job.id and body["jobs"][0]["reason"] == body["reason"]
    assert as_user(outsider).get(f"/api/articles/{article.id}/preannotation/").status_code == 404


def test_train_needs_approved_articles_and_models_list(project, editor, annotator, as_user):
    r = as_user(editor).post(f"/api/projects/{project.id}/train/")
    assert r.status_code == 400 and "approved articles" in r.content.decode()
    assert as_user(annotator).post(f"/api/projects/{project.id}/train/").status_code == 403
    r = as_user(annotator).get(f"/api/projects/{project.id}/models/")
    assert r.status_code == 200 and r.json() == []


def test_choose_preannotator(project, editor, annotator, as_user, settings):
    url = f"/api/projects/{project.id}/preannotator/"
    assert as_user(annotator).get(url).json()["preannotator"] == "fallback"
    assert as_user(annotator).put(url, {"preannotator": "builtin"}, format="json").status_code == 403
    r = as_user(editor).put(url, {"preannotator": "nonsense"}, format="json")
    assert r.status_code == 400
    r = as_user(editor).put(url, {"preannotator": "trained"}, format="json")
    assert r.status_code == 400 and "train one first" in r.content.decode()
    with FakeMLBackend() as fake:
        config = {"url": fake.url, "token": "s3cret"}
        r = as_user(editor).put(url, {"preannotator": "ml_backend", "config": config}, format="json")
        assert r.status_code == 400 and "non-public" in r.content.decode()  # loopback not allowlisted
        settings.NEWSROOM = {**settings.NEWSROOM, "OUTBOUND_ALLOWLIST": ["127.0.0.1"]}
        r = as_user(editor).put(url, {"preannotator": "ml_backend", "config": config}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["config"] == {"url": fake.url, "token": "***"}
        assert ("/health", None) in fake.requests
    project = Project.objects.get(id=project.id)
    assert project.preannotator == "ml_backend" and project.preannotator_config["token"] == "s3cret"
    r = as_user(editor).put(url, {"preannotator": "builtin"}, format="json")
    assert r.status_code == 200 and Project.objects.get(id=project.id).preannotator == "builtin"


def test_job_state_visible_in_admin_changelist(project, admin_client, django_assert_max_num_queries):
    for i in range(5):
        article = make_article(project, f"{TEXT} {i}")
        job = PreannotationJob.objects.create(article=article, preannotator="fallback", text_hash=article.text_hash)
        if i % 2:
            svc._mark_failed(job, f"reason number {i}", job.created_at)
    with django_assert_max_num_queries(12):
        page = admin_client.get("/admin/annotations/article/")
    html = page.content.decode()
    assert page.status_code == 200 and "reason number 1" in html and "reason number 3" in html
    page = admin_client.get("/admin/annotations/article/?preannotation=queued")
    assert page.status_code == 200 and "reason number" not in page.content.decode()
    assert PreannotationJob.objects.filter(status=JobStatus.QUEUED).count() == 3

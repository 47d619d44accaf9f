"""The Label Studio ML backend client against a local fake backend that speaks the protocol."""

import pytest

from annotations.models import JobStatus, Origin, PreannotationJob, Relation, Span
from annotations.preannotators.base import PreannotatorError
from annotations.preannotators.http_backend import BackendUnavailable, MLBackendPreannotator, label_config
from annotations.services import preannotation as svc
from tests.support.factories import make_article
from tests.support.ml_backend import FakeMLBackend

TEXT = "Police said 42 people died 🌊 in the floods. The mayor was sad."


@pytest.fixture
def backend(settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "OUTBOUND_ALLOWLIST": ["127.0.0.1"]}
    with FakeMLBackend() as fake:
        yield fake


def test_health_setup_and_predict(backend):
    client = MLBackendPreannotator(backend.url, token="secret", timeout=5, retries=0)
    assert client.health()["status"] == "UP"
    [p] = client.predict([TEXT], ["CLAIM", "SOURCE"])
    assert [(s.label, TEXT[s.start:s.end], s.confidence) for s in p.spans] == [
        ("CLAIM", "Police said 42 people died 🌊 in the floods.", 0.8), ("SOURCE", "Police", 0.6)]
    assert [(r.from_index, r.to_index, r.type) for r in p.relations] == [(0, 1, "attributed_to")]
    assert p.preannotator == "ml_backend" and p.model_version == "ml-backend:fake-1"
    paths = [path for path, _ in backend.requests]
    assert paths == ["/health", "/setup", "/predict"]
    predict = backend.predict_calls()[0]
    assert predict["tasks"] == [{"id": 0, "data": {"text": TEXT}}]
    assert '<Label value="CLAIM"/>' in predict["label_config"] == label_config(["CLAIM", "SOURCE"])
    # /setup once per process and config, not per call
    client.predict([TEXT], ["CLAIM", "SOURCE"])
    assert [path for path, _ in backend.requests].count("/setup") == 1


def test_utf16_offsets_are_converted_to_code_points(backend):
    backend.mode = "utf16"
    [p] = MLBackendPreannotator(backend.url, retries=0).predict(["🌊🌊 Waves said hello. Bye."], ["CLAIM", "SOURCE"])
    text = "🌊🌊 Waves said hello. Bye."
    assert [text[s.start:s.end] for s in p.spans] == ["🌊🌊 Waves said hello.", "🌊🌊"]


def test_unknown_labels_and_bad_offsets_are_dropped(backend):
    [p] = MLBackendPreannotator(backend.url, retries=0).predict([TEXT], ["SOURCE"])
    assert [s.label for s in p.spans] == ["SOURCE"] and p.relations == []


@pytest.mark.parametrize("mode, error, message", [
    ("error", BackendUnavailable, "failed after 2 tries: HTTP 500"),
    ("garbage", PreannotatorError, "not JSON"),
])
def test_errors_become_preannotator_errors(backend, mode, error, message):
    backend.mode = mode
    client = MLBackendPreannotator(backend.url, retries=1, backoff=0.01)
    with pytest.raises(error, match=message):
        client.predict([TEXT], ["CLAIM"])


def test_timeout_is_a_transient_error(backend):
    backend.mode = "block"
    client = MLBackendPreannotator(backend.url, timeout=0.3, retries=1, backoff=0.01)
    with pytest.raises(BackendUnavailable, match="timed out after 0.3s"):
        client.predict([TEXT], ["CLAIM"])
    assert len(backend.predict_calls()) == 2


def test_private_address_refused_without_allowlist(settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "OUTBOUND_ALLOWLIST": []}
    with FakeMLBackend() as fake:
        with pytest.raises(PreannotatorError, match="non-public"):
            MLBackendPreannotator(fake.url, retries=0).predict([TEXT], ["CLAIM"])
        assert fake.requests == []


def test_project_with_ml_backend_stores_suggestions(project, backend):
    project.preannotator = "ml_backend"
    project.preannotator_config = {"url": backend.url, "retries": 0}
    project.save()
    article = make_article(project, TEXT)
    job = PreannotationJob.objects.create(article=article, preannotator="ml_backend", text_hash=article.text_hash)
    [done] = svc.preannotation_run(job_id=job.id)
    assert done.status == JobStatus.DONE and done.model_version == "ml-backend:fake-1" and done.span_count == 2
    spans = Span.objects.filter(article=article, assignment__isnull=True, origin=Origin.MACHINE)
    assert sorted(s.text for s in spans) == ["Police", "Police said 42 people died 🌊 in the floods."]
    assert Relation.objects.filter(job=done).count() == 1


def test_backend_down_ends_as_failed_job_with_reason(project, settings, monkeypatch):
    settings.NEWSROOM = {**settings.NEWSROOM, "OUTBOUND_ALLOWLIST": ["127.0.0.1"],
                         "PREANNOTATION_MAX_ATTEMPTS": 1}
    with FakeMLBackend() as fake:
        url = fake.url  # the server is gone after this block: connection refused
    project.preannotator = "ml_backend"
    project.preannotator_config = {"url": url, "retries": 0, "timeout": 2}
    project.save()
    article = make_article(project, TEXT)
    job = PreannotationJob.objects.create(article=article, preannotator="ml_backend", text_hash=article.text_hash)
    [failed] = svc.preannotation_run(job_id=job.id)
    assert failed.status == JobStatus.FAILED
    assert url in failed.error and "ConnectionError" in failed.error

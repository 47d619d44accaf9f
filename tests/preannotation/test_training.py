"""Learning from approved work: the approved-layer selector, training, evaluation and activation."""

from pathlib import Path

import pytest

from annotations.models import Assignment, AssignmentKind, JobStatus, PreannotationJob, Span, TrainedModel
from annotations.preannotators.base import Prediction, SuggestedSpan
from annotations.preannotators.trained import TrainedPreannotator
from annotations.selectors.approved import approved_spans_for_project
from annotations.services import preannotation as pre
from annotations.services import training
from annotations.services.review import review_drop_span
from bench.devset.load import load_devset
from tests.preannotation.approved import approve_article

TEXT = "The minister said 42 people died. Police said the dam broke."


@pytest.fixture
def people(annotator, editor, reviewer):
    return {"annotator": annotator, "editor": editor, "reviewer": reviewer}


def test_selector_uses_the_review_layer_then_submitted_layers(project, people, django_assert_max_num_queries):
    spans = [(0, 12, "SOURCE"), (18, 32, "CLAIM"), (34, 40, "SOURCE"), (46, 59, "CLAIM")]
    reviewed = approve_article(project, text=TEXT, spans=spans, relations=[(1, 0)], **people)
    # the reviewer drops one span in the review layer: the review layer is the truth
    review = Assignment.objects.get(article=reviewed, kind=AssignmentKind.REVIEW)
    dropped = Span.objects.get(assignment=review, start=46)
    from django.db import transaction
    with transaction.atomic():
        reviewed.status = "in_review"  # reopened for the edit (as the review service allows in review)
        reviewed.save(update_fields=["status"])
        review.status = "in_progress"
        review.save(update_fields=["status"])
        review_drop_span(article=reviewed, span=dropped, user=people["reviewer"])
        reviewed.status = "approved"
        reviewed.save(update_fields=["status"])
    legacy = approve_article(project, text=TEXT + " More.", spans=spans[:2], **people)
    # approved without a review layer (e.g. imported approvals): the submitted layer counts
    Assignment.objects.filter(article=legacy, kind=AssignmentKind.REVIEW).delete()
    approve_article(project, text=TEXT + " Unapproved.", spans=spans, approve=False, **people)
    with django_assert_max_num_queries(4):
        items = approved_spans_for_project(project=project)
    assert [i.article_id for i in items] == [reviewed.id, legacy.id]
    assert items[0].layer == "review" and items[1].layer == "annotation"
    assert items[0].spans == [(0, 12, "SOURCE"), (18, 32, "CLAIM"), (34, 40, "SOURCE")]
    assert items[0].relations == [(1, 0, "attributed_to")]
    assert items[1].spans == [(0, 12, "SOURCE"), (18, 32, "CLAIM")]


@pytest.fixture
def approved_devset(project, people, settings, tmp_path):
    settings.NEWSROOM = {**settings.NEWSROOM, "MODEL_DIR": tmp_path / "models", "TRAIN_EPOCHS": 20}
    docs = load_devset()[:12]
    for doc in docs:
        relations = [(r["from"], r["to"]) for r in doc.relations]
        approve_article(project, text=doc.text, spans=doc.triples(), relations=relations, **people)
    return docs


def _request(project, editor, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("annotations.tasks.train_preannotator.delay", lambda model_id: sent.append(model_id))
    with django_capture_on_commit_callbacks(execute=True):
        model = training.trained_model_request(project=project, requested_by=editor)
    assert sent == [model.id] and model.status == JobStatus.QUEUED and model.version == 1
    return model


def test_training_produces_a_model_that_loads_predicts_and_is_activated_only_if_better(
    project, editor, approved_devset, django_capture_on_commit_callbacks, monkeypatch,
):
    model = _request(project, editor, django_capture_on_commit_callbacks, monkeypatch)
    model = training.trained_model_train(model_id=model.id)
    assert model.status == JobStatus.DONE, model.error
    assert (model.train_count, model.eval_count) == (9, 3)
    assert "error" not in model.baseline_metrics, model.baseline_metrics
    assert Path(model.path).is_dir() and Path(model.path).parent.name == f"project-{project.id}"
    for key in ("exact", "overlap"):
        assert set(model.metrics[key]) >= {"CLAIM", "SOURCE", "ALL"}
        assert set(model.baseline_metrics[key]) >= {"CLAIM", "SOURCE", "ALL"}
    assert model.baseline_metrics["preannotator"] == "fallback"
    ours, theirs = training.overlap_f1(model.metrics), training.overlap_f1(model.baseline_metrics)
    project.refresh_from_db()
    assert model.activated == (ours > theirs)
    assert (project.preannotator == "trained") == model.activated
    assert (project.active_model_id == model.id) == model.activated

    # the saved model loads in a fresh plug-in and predicts spans inside the text
    text = approved_devset[0].text
    [prediction] = TrainedPreannotator(model.path, version="t").predict([text], ["CLAIM", "SOURCE"])
    assert prediction.spans, "a model trained on this text should find spans in it"
    assert all(0 <= s.start < s.end <= len(text) and s.label in ("CLAIM", "SOURCE") for s in prediction.spans)

    if model.activated:  # new articles now get the trained model's suggestions
        from tests.support.factories import make_article

        article = make_article(project, approved_devset[11].text + " Extra sentence said the minister.")
        job = PreannotationJob.objects.create(article=article, preannotator="trained", text_hash=article.text_hash)
        [done] = pre.preannotation_run(job_id=job.id)
        assert done.status == JobStatus.DONE and done.model_version == f"trained-p{project.id}-v1"


def test_model_not_better_is_kept_but_not_activated(project, editor, approved_devset,
                                                    django_capture_on_commit_callbacks, monkeypatch, settings):
    settings.NEWSROOM = {**settings.NEWSROOM, "TRAIN_EPOCHS": 2}
    gold = {doc.text.rstrip(): doc.triples() for doc in approved_devset}

    class Oracle:  # a current pre-annotator that is always right: nothing can beat it
        name, version = "oracle", "1"

        def predict(self, texts, labels):
            return [Prediction([SuggestedSpan(s, e, lab, 1.0) for s, e, lab in gold[t]], [], "oracle", "1")
                    for t in texts]

    monkeypatch.setattr("annotations.preannotators.registry.preannotator_for_project", lambda project: Oracle())
    model = _request(project, editor, django_capture_on_commit_callbacks, monkeypatch)
    model = training.trained_model_train(model_id=model.id)
    assert model.status == JobStatus.DONE and not model.activated
    assert training.overlap_f1(model.baseline_metrics) == 1.0 > training.overlap_f1(model.metrics)
    project.refresh_from_db()
    assert project.preannotator == "fallback" and project.active_model_id is None
    assert Path(model.path).is_dir()  # kept
    assert TrainedModel.objects.filter(project=project).count() == 1


def test_training_refused_without_enough_approved_articles(project, editor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least 5 approved articles"):
        training.trained_model_request(project=project, requested_by=editor)
    assert not TrainedModel.objects.exists()


def test_a_redelivered_training_run_is_failed_not_looped(project, editor):
    from annotations.models import TrainedModel

    model = TrainedModel.objects.create(project=project, version=1, status=JobStatus.RUNNING)
    again = training.trained_model_train(model_id=model.id)
    assert again.status == JobStatus.FAILED and "interrupted" in again.error
    project.refresh_from_db()
    assert project.active_model_id is None


def test_an_editor_switches_to_an_earlier_model_version_by_hand(project, editor, annotator, tmp_path, client):
    """Rollback: the admin action makes a finished model version the project's pre-annotator (one
    active at a time); an annotator may not; a version whose files are gone is refused."""
    from django.core.exceptions import PermissionDenied, ValidationError

    (tmp_path / "v1").mkdir()
    v1 = TrainedModel.objects.create(project=project, version=1, status=JobStatus.DONE, path=str(tmp_path / "v1"))
    v2 = TrainedModel.objects.create(project=project, version=2, status=JobStatus.DONE, path=str(tmp_path / "v2"),
                                     activated=True)
    with pytest.raises(PermissionDenied):
        training.trained_model_activate(model=v1, actor=annotator)
    with pytest.raises(ValidationError, match="files are gone"):
        training.trained_model_activate(model=v2, actor=editor)
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    client.force_login(editor)
    r = client.post("/admin/annotations/trainedmodel/", {"action": "activate_trained_model",
                                                          "_selected_action": [v1.id]}, follow=True)
    assert r.status_code == 200 and "new pre-annotation jobs use" in r.content.decode()
    project.refresh_from_db()
    assert project.preannotator == "trained" and project.active_model_id == v1.id
    assert list(TrainedModel.objects.filter(project=project, activated=True)) == [v1]
    # the record itself cannot be edited by hand
    assert client.get(f"/admin/annotations/trainedmodel/{v1.id}/change/").content.count(b'name="_save"') == 0

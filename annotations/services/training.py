"""Learning from approved work: train a project model, evaluate it, switch to it only if it is better.

`trained_model_request` (editor action, API, management command) saves a TrainedModel row (the next
version of the project) and sends the training task after the commit. `trained_model_train` runs in
a worker: approved articles (selectors.approved.approved_spans_for_project) are split
deterministically into a training part and a held-out share (NEWSROOM["TRAIN_HELDOUT_SHARE"],
at least one article); a spaCy spancat pipeline is trained on CPU outside any transaction and
saved under NEWSROOM["MODEL_DIR"]/project-<id>/v<version>/; both it and the project's current
pre-annotator are scored on the held-out articles (annotations.preannotators.evaluation, overlap
match, micro-averaged over CLAIM and SOURCE); the project switches to the new model
(preannotator="trained", active_model) only if its F1 is strictly higher. Every model is kept.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotations.models import JobStatus, LabelType, Project, Role, TrainedModel
from annotations.preannotators.evaluation import micro_average, span_prf
from annotations.selectors.approved import ApprovedArticle, approved_spans_for_project

log = logging.getLogger(__name__)
TRAINABLE_LABELS = ("CLAIM", "SOURCE")


def _opt(key, default):
    return settings.NEWSROOM.get(key, default)


def min_approved() -> int:
    return int(_opt("TRAIN_MIN_APPROVED", 5))


def model_dir() -> Path:
    return Path(_opt("MODEL_DIR", Path(settings.BASE_DIR) / "var" / "models"))


# --------------------------------------------------------------------------- evaluation (shared)


def preannotator_metrics(*, plugin, items: list[ApprovedArticle], labels: list[str]) -> dict:
    """P/R/F1 per label and pooled ("ALL"), exact and overlap match, of `plugin` against `items`."""
    gold = [[s for s in item.spans if s[2] in labels] for item in items]
    predictions = plugin.predict([item.text for item in items], labels) if items else []
    pred = [[(s.start, s.end, s.label) for s in p.spans if s.label in labels] for p in predictions]
    out: dict = {"articles": len(items), "model_version": predictions[0].model_version if predictions else ""}
    for match in ("exact", "overlap"):
        per_label = span_prf(gold, pred, match)
        out[match] = {**per_label, "ALL": micro_average(per_label)}
    return out


def overlap_f1(metrics: dict) -> float:
    return float(((metrics or {}).get("overlap") or {}).get("ALL", {}).get("f1", 0.0))


def split_heldout(items: list[ApprovedArticle], share: float | None = None) -> tuple[list, list]:
    """Deterministic split (by a hash of article id and text): the same data gives the same split."""
    share = float(_opt("TRAIN_HELDOUT_SHARE", 0.2) if share is None else share)
    ordered = sorted(items, key=lambda i: hashlib.sha256(f"{i.article_id}:{i.text_hash}".encode()).hexdigest())
    n_eval = min(len(ordered) - 1, max(1, math.ceil(len(ordered) * share)))
    return ordered[n_eval:], ordered[:n_eval]


# --------------------------------------------------------------------------- requesting and training


def trained_model_request(*, project: Project, requested_by=None) -> TrainedModel:
    """Queue a training run for `project` (sent after the commit). One run at a time per project:
    if one is queued or running, it is returned. Refused (ValidationError) without enough approved
    articles."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(id=project.id)
        active = TrainedModel.objects.filter(project=project, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        existing = active.first()
        if existing:
            return existing
        approved = len(approved_spans_for_project(project=project))
        if approved < min_approved():
            raise ValidationError(
                f"Training needs at least {min_approved()} approved articles; this project has {approved}."
            )
        version = (TrainedModel.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0) + 1
        model = TrainedModel.objects.create(project=project, version=version, requested_by=requested_by)
        transaction.on_commit(lambda: _enqueue(model.id))
    return model


def _enqueue(model_id: int) -> None:
    from annotations.tasks import train_preannotator

    try:
        train_preannotator.delay(model_id)
    except Exception:
        log.warning("could not send training job %s; run `manage.py train_preannotator --model %s`", model_id,
                    model_id, exc_info=True)


def _fail(model: TrainedModel, reason: str) -> TrainedModel:
    TrainedModel.objects.filter(id=model.id).update(status=JobStatus.FAILED, error=reason[:2000],
                                                    finished_at=timezone.now())
    model.refresh_from_db()
    return model


def trained_model_train(*, model_id: int) -> TrainedModel | None:
    """Train, evaluate, maybe activate (worker side). A finished model is left alone."""
    from annotations.preannotators.registry import get_trained, preannotator_for_project
    from annotations.training import spancat

    with transaction.atomic():
        model = TrainedModel.objects.select_for_update().select_related("project").filter(id=model_id).first()
        if model is None or model.status in (JobStatus.DONE, JobStatus.FAILED):
            return model
        if model.status == JobStatus.RUNNING:  # redelivered: the run that started it died or ran out of time
            TrainedModel.objects.filter(id=model.id).update(
                status=JobStatus.FAILED, finished_at=timezone.now(),
                error="Training was interrupted (worker lost or time limit); request a new run.")
            model.refresh_from_db()
            return model
        model.status = JobStatus.RUNNING
        model.save(update_fields=["status"])
    project = model.project
    try:
        labels = [n for n in LabelType.objects.filter(project=project).values_list("name", flat=True)
                  if n in TRAINABLE_LABELS]
        items = approved_spans_for_project(project=project)
        if len(items) < min_approved():
            return _fail(model, f"Training needs at least {min_approved()} approved articles; found {len(items)}.")
        train_items, eval_items = split_heldout(items)
        path = model_dir() / f"project-{project.id}" / f"v{model.version}"
        if path.exists():
            shutil.rmtree(path)  # a redelivered run starts over
        history = spancat.train(
            [(i.text, [s for s in i.spans if s[2] in labels]) for i in train_items], labels, path,
            epochs=int(_opt("TRAIN_EPOCHS", 20)),
            meta={"newsroom": {"project": project.id, "version": model.version,
                               "train_articles": [i.article_id for i in train_items],
                               "heldout_articles": [i.article_id for i in eval_items]}},
        )
        version_name = f"trained-p{project.id}-v{model.version}"
        metrics = preannotator_metrics(plugin=get_trained(str(path), version_name), items=eval_items, labels=labels)
        metrics["training"] = history
        baseline_name = project.preannotator
        try:
            baseline = preannotator_metrics(plugin=preannotator_for_project(project), items=eval_items, labels=labels)
        except Exception as exc:  # the current pre-annotator cannot run (e.g. remote backend down)
            baseline = {"error": f"{type(exc).__name__}: {exc}", "overlap": {"ALL": {"f1": 0.0}}}
        baseline["preannotator"] = baseline_name
    except Exception as exc:
        log.exception("training model %s failed", model_id)
        return _fail(model, f"{type(exc).__name__}: {exc}")
    better = overlap_f1(metrics) > overlap_f1(baseline)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(id=project.id)
        TrainedModel.objects.filter(id=model.id).update(
            status=JobStatus.DONE, path=str(path), metrics=metrics, baseline_metrics=baseline,
            train_count=len(train_items), eval_count=len(eval_items), activated=better, error="",
            finished_at=timezone.now(),
        )
        if better:
            TrainedModel.objects.filter(project=locked, activated=True).exclude(id=model.id).update(activated=False)
            locked.active_model_id = model.id
            locked.preannotator = "trained"
            locked.save(update_fields=["active_model", "preannotator"])
    model.refresh_from_db()
    log.info("model %s: overlap F1 %.3f vs %s %.3f -> %s", model, overlap_f1(metrics), baseline_name,
             overlap_f1(baseline), "activated" if better else "kept, not activated")
    return model


def trained_model_activate(*, model: TrainedModel, actor) -> TrainedModel:
    """Make `model` the project's pre-annotator by hand (e.g. go back to an earlier version after a
    worse one, or keep one that lost narrowly). Editors and managers; the model must have finished
    training and its files must still be there. New pre-annotation jobs use it from now on."""
    from annotations.services.workflow import check_role

    check_role(user=actor, project=model.project, roles=(Role.EDITOR, Role.MANAGER), what="choose the model")
    if model.status != JobStatus.DONE or not model.path or not Path(model.path).is_dir():
        raise ValidationError(f"{model} cannot be used: it did not finish training or its files are gone.")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(id=model.project_id)
        TrainedModel.objects.filter(project=project, activated=True).exclude(id=model.id).update(activated=False)
        TrainedModel.objects.filter(id=model.id).update(activated=True)
        project.active_model_id = model.id
        project.preannotator = "trained"
        project.save(update_fields=["active_model", "preannotator"])
    log.info("model %s activated by %s", model, actor)
    model.refresh_from_db()
    return model


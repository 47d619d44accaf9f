"""Which plug-in a project uses. Plug-ins are created once per process and cached.

* ``builtin``  - spaCy pipeline (settings.NEWSROOM["SPACY_MODEL"]) + attribution rules.
* ``fallback`` - blank English pipeline + token rules (no trained model needed).
* ``trained``  - the project's active TrainedModel (``Project.active_model``), trained on approved work.
* ``ml_backend`` - a Label Studio ML backend over HTTP; ``Project.preannotator_config``:
  ``{"url": "https://ml.example.org", "token": "...", "timeout": 30, "retries": 2}``.
"""

from functools import cache, lru_cache

from django.conf import settings

from annotations.preannotators.base import PreannotatorError

AVAILABLE = {
    "builtin": "spaCy pipeline + attribution rules",
    "fallback": "blank English pipeline + rules (no trained model)",
    "trained": "the project's own model, trained on its approved articles",
    "ml_backend": "a Label Studio ML backend over HTTP (config: url, token, timeout, retries)",
}


@cache
def get_preannotator(name: str = "builtin", config_key: str = ""):
    """Return the built-in plug-in `name`. Loaded once per worker process, not per task."""
    if name == "builtin":
        from annotations.preannotators.builtin import SpacyRulesPreannotator

        return SpacyRulesPreannotator(settings.NEWSROOM["SPACY_MODEL"])
    if name == "fallback":
        from annotations.preannotators.builtin import FallbackPreannotator

        return FallbackPreannotator()
    raise ValueError(f"Unknown pre-annotator {name!r}; choose one of {', '.join(AVAILABLE)}")


@lru_cache(maxsize=16)
def get_trained(path: str, version: str):
    from annotations.preannotators.trained import TrainedPreannotator

    return TrainedPreannotator(path, version=version)


@lru_cache(maxsize=32)
def get_ml_backend(url: str, token: str, timeout: float, retries: int, project_ref: str, offsets: str):
    from annotations.preannotators.http_backend import MLBackendPreannotator

    return MLBackendPreannotator(url, token=token, timeout=timeout, retries=retries, project_ref=project_ref,
                                 offsets=offsets)


def ml_backend_from_config(config: dict, project_ref: str = ""):
    config = config or {}
    url = str(config.get("url") or "").strip()
    if not url:
        raise PreannotatorError('ML backend pre-annotator needs preannotator_config {"url": ...}')
    try:
        timeout = float(config.get("timeout", 30))
        retries = int(config.get("retries", 2))
    except (TypeError, ValueError) as exc:
        raise PreannotatorError(f"bad ML backend config: {exc}") from exc
    return get_ml_backend(url, str(config.get("token") or ""), max(0.1, min(timeout, 600.0)),
                          max(0, min(retries, 5)), project_ref, str(config.get("offsets") or "auto"))


def preannotator_for_project(project, name: str | None = None):
    """The plug-in `project` uses (or plug-in `name` with the project's settings)."""
    name = name or project.preannotator
    if name == "trained":
        model = project.active_model
        if model is None or not model.path:
            raise PreannotatorError("The project has no active trained model; train one or choose another "
                                    "pre-annotator.")
        return get_trained(model.path, f"trained-p{project.id}-v{model.version}")
    if name == "ml_backend":
        return ml_backend_from_config(project.preannotator_config, project_ref=str(project.id))
    try:
        return get_preannotator(name)
    except ValueError as exc:  # a misconfigured project: a reason to record, not worth retrying
        raise PreannotatorError(str(exc)) from exc

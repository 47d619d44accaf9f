"""Which plug-in a project uses. Plug-ins are created once per process and cached."""

from functools import cache

from django.conf import settings

AVAILABLE = {
    "builtin": "spaCy pipeline + attribution rules",
    "fallback": "blank English pipeline + rules (no trained model)",
}


@cache
def get_preannotator(name: str = "builtin", config_key: str = ""):
    """Return the plug-in instance for `name`. Loaded once per worker process, not per task."""
    if name == "builtin":
        from annotations.preannotators.builtin import SpacyRulesPreannotator

        return SpacyRulesPreannotator(settings.NEWSROOM["SPACY_MODEL"])
    if name == "fallback":
        from annotations.preannotators.builtin import FallbackPreannotator

        return FallbackPreannotator()
    raise ValueError(f"Unknown pre-annotator {name!r}; choose one of {', '.join(AVAILABLE)}")


def preannotator_for_project(project):
    return get_preannotator(project.preannotator)

"""Admin registrations, one module per area (mirrors annotations/models/)."""

from . import accounts, articles, jobs, projects, spans, webhooks, workflow  # noqa: F401

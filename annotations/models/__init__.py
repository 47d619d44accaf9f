"""The data model, one module per area. Import models from here: `from annotations.models import Span`."""

from . import lookups  # noqa: F401 - registers the any_of lookup
from .accounts import ApiToken
from .articles import Article, ArticleEvent, ArticleStatus
from .jobs import ExportJob, ImportJob, JobStatus, PreannotationJob, TrainedModel
from .projects import (
    AssignmentPolicy,
    LabelType,
    Membership,
    Project,
    RelationType,
    Role,
)
from .spans import Origin, Relation, RelationDecision, Span, SuggestionState
from .token_cache import ArticleTokens
from .webhooks import Webhook, WebhookDelivery
from .workflow import Assignment, AssignmentKind, AssignmentStatus, Review, ReviewDecision

__all__ = [
    "ApiToken",
    "Article",
    "ArticleEvent",
    "ArticleStatus",
    "ArticleTokens",
    "Assignment",
    "AssignmentKind",
    "AssignmentPolicy",
    "AssignmentStatus",
    "ExportJob",
    "ImportJob",
    "JobStatus",
    "LabelType",
    "Membership",
    "Origin",
    "PreannotationJob",
    "Project",
    "Relation",
    "RelationDecision",
    "RelationType",
    "Review",
    "ReviewDecision",
    "Role",
    "Span",
    "SuggestionState",
    "TrainedModel",
    "Webhook",
    "WebhookDelivery",
]

"""Reads of the articles area: scoped lists with filters, and one article with every layer."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from annotations.models import Article, ImportJob, Relation, Role, Span
from annotations.selectors.projects import project_list_for_user, user_roles

# Who sees every layer of an article; annotators see the machine layer and their own.
ALL_LAYER_ROLES = {Role.MANAGER, Role.EDITOR, Role.REVIEWER}
EDIT_ROLES = [Role.MANAGER, Role.EDITOR]


class ArticleFilterSet(django_filters.FilterSet):
    """Allowlisted filters: status, publication date range, title search. Used by the API."""

    status = django_filters.CharFilter(field_name="status")
    published_after = django_filters.DateFilter(field_name="published_at", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="published_at", lookup_expr="lte")
    published_at = django_filters.DateFilter(field_name="published_at")
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    outlet = django_filters.CharFilter(field_name="outlet", lookup_expr="iexact")

    class Meta:
        model = Article
        fields = ["status", "published_at", "published_after", "published_before", "search", "outlet"]


def article_list(*, project) -> QuerySet[Article]:
    """A project's articles for listing: the text is deferred (it can be long)."""
    return Article.objects.filter(project=project).defer("text").order_by("id")


def article_layers_prefetch(*, article: Article, user, roles: set[str]) -> Article:
    """Load the spans and relations the caller may see into `article` (two queries, any size).

    Editors, managers, reviewers and superusers get every layer; annotators the machine layer and
    their own assignments' layers.
    """
    spans = Span.objects.select_related("label", "assignment").order_by("start", "end", "id")
    relations = Relation.objects.select_related("type").order_by("id")
    if not (user.is_superuser or roles & ALL_LAYER_ROLES):
        visible = Q(assignment__isnull=True) | Q(assignment__user=user)
        spans, relations = spans.filter(visible), relations.filter(visible)
    prefetch_related_objects(
        [article], Prefetch("spans", queryset=spans, to_attr="visible_spans"),
        Prefetch("relations", queryset=relations, to_attr="visible_relations"),
    )
    return article


def article_roles(*, user, article: Article) -> set[str]:
    return user_roles(user=user, project=article.project)


def import_job_list_for_user(*, user) -> QuerySet[ImportJob]:
    """Import jobs of projects where the caller is an editor or manager."""
    return ImportJob.objects.filter(project__in=project_list_for_user(user=user, roles=EDIT_ROLES))

"""The approved annotations of a project: the data that training and evaluation learn from.

Rule (one place, reused by training, evaluation and anyone else): an article counts once it is
APPROVED. Its final layer is

1. the reviewer's layer (the article's kind=review Assignment) if it exists, else
2. the union of the submitted annotation layers (kind=annotation Assignments whose status is
   submitted or done), spans with the same label and offsets counted once.

From that layer we take the spans people stand behind: state=accepted (their own spans and the
suggestions they accepted; rejected-suggestion tombstones are left out), and the accepted relations
between them. Offsets are code points into Article.text, as everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from annotations.models import (
    Article,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    Relation,
    Span,
    SuggestionState,
)

SUBMITTED_LAYERS = (AssignmentStatus.SUBMITTED, AssignmentStatus.DONE)


@dataclass
class ApprovedArticle:
    article_id: int
    text: str
    text_hash: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, label), sorted
    relations: list[tuple[int, int, str]] = field(default_factory=list)  # (from index, to index, type)
    layer: str = "review"  # "review" or "annotation"


def approved_spans_for_project(*, project, article_ids=None) -> list[ApprovedArticle]:
    """Every approved article of `project` (optionally only `article_ids`) with its final spans.

    Four queries whatever the number of articles. Ordered by article id.
    """
    articles = Article.objects.filter(project=project, status=ArticleStatus.APPROVED).order_by("id")
    if article_ids is not None:
        articles = articles.filter(id__in=list(article_ids))
    rows = list(articles.values_list("id", "text", "text_hash"))
    if not rows:
        return []
    ids = [r[0] for r in rows]
    layers: dict[int, list[int]] = {}
    kinds: dict[int, str] = {}
    annotation_layers: dict[int, list[int]] = defaultdict(list)
    for aid, article_id, kind, status in Assignment.objects.filter(article_id__in=ids).values_list(
        "id", "article_id", "kind", "status"
    ):
        if kind == AssignmentKind.REVIEW:
            layers[article_id] = [aid]
            kinds[article_id] = "review"
        elif status in SUBMITTED_LAYERS:
            annotation_layers[article_id].append(aid)
    for article_id, aids in annotation_layers.items():
        if article_id not in layers:
            layers[article_id] = aids
            kinds[article_id] = "annotation"
    wanted = [aid for aids in layers.values() for aid in aids]
    spans_by_article: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for sid, article_id, start, end, label in (
        Span.objects.filter(assignment_id__in=wanted, state=SuggestionState.ACCEPTED)
        .order_by("start", "end", "id")
        .values_list("id", "article_id", "start", "end", "label__name")
    ):
        spans_by_article[article_id].append((start, end, label, sid))
    rels_by_article: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for article_id, a, b, rtype in Relation.objects.filter(
        assignment_id__in=wanted, state=SuggestionState.ACCEPTED,
        from_span__state=SuggestionState.ACCEPTED, to_span__state=SuggestionState.ACCEPTED,
    ).values_list("article_id", "from_span_id", "to_span_id", "type__name"):
        rels_by_article[article_id].append((a, b, rtype))
    out = []
    for article_id, text, digest in rows:
        item = ApprovedArticle(article_id, text, digest, layer=kinds.get(article_id, "none"))
        index_of_key: dict[tuple, int] = {}
        index_of_span: dict[int, int] = {}
        for start, end, label, sid in spans_by_article.get(article_id, []):
            key = (start, end, label)
            if key not in index_of_key:
                index_of_key[key] = len(item.spans)
                item.spans.append(key)
            index_of_span[sid] = index_of_key[key]
        seen = set()
        for a, b, rtype in rels_by_article.get(article_id, []):
            if a in index_of_span and b in index_of_span:
                rel = (index_of_span[a], index_of_span[b], rtype)
                if rel not in seen and rel[0] != rel[1]:
                    seen.add(rel)
                    item.relations.append(rel)
        out.append(item)
    return out

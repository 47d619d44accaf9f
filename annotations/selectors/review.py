"""Reads of the review area: the review queue, the compare view, agreement, progress, history.

Each function runs a constant number of queries whatever the number of articles or spans.
"""

import contextlib
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from annotations.metrics.agreement import (
    agreement_from_counts,
    agreement_table,
    counts_add,
    empty_counts,
    mean,
    pair_counts,
    tokenize,
)
from annotations.models import (
    Article,
    ArticleEvent,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    LabelType,
    Project,
    Relation,
    Review,
    ReviewDecision,
    Role,
    Span,
    SuggestionState,
)
from annotations.selectors.projects import project_list_for_user

# links whose two spans are placed in the text (an unplaced span's offsets mean nothing)
PLACED_ENDS = {"from_span__state": SuggestionState.ACCEPTED, "to_span__state": SuggestionState.ACCEPTED}

REVIEW_QUEUE_STATUSES = [ArticleStatus.SUBMITTED, ArticleStatus.IN_REVIEW]
DONE_WORK = [AssignmentStatus.SUBMITTED, AssignmentStatus.DONE]


# --- Return comment, for the annotate page ------------------------------------------------------


def return_comment_for_assignment(*, assignment: Assignment) -> Review | None:
    """The reviewer's latest "returned" decision on the assignment's article, if the assignment is
    returned (shown on the annotator's annotate page). One query."""
    if assignment.status != AssignmentStatus.RETURNED:
        return None
    return (
        Review.objects.filter(article_id=assignment.article_id, decision=ReviewDecision.RETURNED)
        .select_related("reviewer").order_by("-created_at", "-id").first()
    )


def latest_return_comments(*, article_ids) -> dict[int, Review]:
    """{article id: latest returned Review} for many articles in one query."""
    out: dict[int, Review] = {}
    for review in (
        Review.objects.filter(article_id__in=list(article_ids), decision=ReviewDecision.RETURNED)
        .select_related("reviewer").order_by("article_id", "-created_at", "-id")
    ):
        out.setdefault(review.article_id, review)
    return out


# --- Review queue ---------------------------------------------------------------------------------


@dataclass
class QueueRow:
    article: Article
    annotators: list[str]
    label_counts: dict[str, list[int]]  # label -> span count per annotator
    disagreement: bool


QUEUE_PAGE_SIZE = 200


def _link_rows(assignment_ids):
    """(assignment id, ((start, end, label), (start, end, label), type)) for every accepted link
    of the given layers whose two spans are placed in the text. One query."""
    for row in Relation.objects.filter(
        assignment_id__in=list(assignment_ids), state=SuggestionState.ACCEPTED, **PLACED_ENDS
    ).values_list(
        "assignment_id", "from_span__start", "from_span__end", "from_span__label__name",
        "to_span__start", "to_span__end", "to_span__label__name", "type__name",
    ):
        yield row[0], ((row[1], row[2], row[3]), (row[4], row[5], row[6]), row[7])


def layer_contents(*, assignment_ids) -> dict[int, tuple[frozenset, frozenset]]:
    """{assignment id: (its spans as (start, end, label), its links as (from span, to span, type))}
    for comparing layers: two layers agree when both sets are equal. Two queries."""
    ids = list(assignment_ids)
    spans: dict[int, set] = {i: set() for i in ids}
    links: dict[int, set] = {i: set() for i in ids}
    for assignment_id, start, end, label in Span.objects.filter(
        assignment_id__in=ids, state=SuggestionState.ACCEPTED
    ).values_list("assignment_id", "start", "end", "label__name"):
        spans[assignment_id].add((start, end, label))
    for assignment_id, link in _link_rows(ids):
        links[assignment_id].add(link)
    return {i: (frozenset(spans[i]), frozenset(links[i])) for i in ids}


def review_queue(*, user, filters: dict | None = None, page=1,
                 per_page: int = QUEUE_PAGE_SIZE) -> tuple[list[QueueRow], dict, dict]:
    """Articles waiting for review in the projects where `user` reviews (or manages).

    filters: project (id), annotator (user id), since / until (date of the last status change),
    status ("submitted", "in_review", "returned", "approved" or "" for submitted + in review),
    label + min_count (an annotator marked at least min_count spans of that label),
    disagreement ("1": annotators' layers differ in spans or links, "0": they agree). Returns (rows, choices for
    the filter form, paging). Paging walks the articles the database filters select, oldest status
    change first, `per_page` at a time; the label and disagreement filters then keep the rows of that
    page that match. A fixed number of queries: count, articles, their annotation layers, their spans.
    """
    filters = filters or {}
    projects = project_list_for_user(user=user, roles=[Role.REVIEWER, Role.MANAGER])
    qs = Article.objects.filter(project__in=projects).select_related("project")
    status = filters.get("status") or ""
    qs = qs.filter(status=status) if status in ArticleStatus.values else qs.filter(status__in=REVIEW_QUEUE_STATUSES)
    if str(filters.get("project") or "").isdigit():
        qs = qs.filter(project_id=int(filters["project"]))
    if str(filters.get("annotator") or "").isdigit():
        qs = qs.filter(assignments__user_id=int(filters["annotator"]), assignments__kind=AssignmentKind.ANNOTATION)
    for key, lookup in (("since", "status_changed_at__date__gte"), ("until", "status_changed_at__date__lte")):
        value = filters.get(key)
        if value:
            with contextlib.suppress(ValueError):
                qs = qs.filter(**{lookup: date.fromisoformat(str(value))})
    qs = qs.distinct()
    total = qs.count()
    pages = max(1, -(-total // per_page))
    try:
        page = min(max(int(page), 1), pages)
    except (TypeError, ValueError):
        page = 1
    offset = (page - 1) * per_page
    articles = list(qs.order_by("status_changed_at", "id")[offset:offset + per_page])
    paging = {"page": page, "pages": pages, "total": total, "first": offset + 1 if articles else 0,
              "last": offset + len(articles), "previous": page - 1 if page > 1 else None,
              "next": page + 1 if page < pages else None}
    ids = [a.id for a in articles]
    layers = list(
        Assignment.objects.filter(article_id__in=ids, kind=AssignmentKind.ANNOTATION)
        .select_related("user").order_by("article_id", "id")
    )
    contents = layer_contents(assignment_ids=[a.id for a in layers])
    by_layer = {a.id: contents[a.id][0] for a in layers}
    layers_by_article: dict[int, list[Assignment]] = defaultdict(list)
    for layer in layers:
        layers_by_article[layer.article_id].append(layer)
    label = filters.get("label") or ""
    try:
        min_count = int(filters.get("min_count") or 0)
    except ValueError:
        min_count = 0
    disagreement = str(filters.get("disagreement") or "")
    rows = []
    for article in articles:
        mine = layers_by_article[article.id]
        counts: dict[str, list[int]] = {}
        for i, layer in enumerate(mine):
            for _s, _e, lab in by_layer[layer.id]:
                counts.setdefault(lab, [0] * len(mine))[i] += 1
        differ = len({contents[layer.id] for layer in mine}) > 1  # spans or links differ
        if label and max(counts.get(label, [0]) or [0]) < min_count:
            continue
        if disagreement == "1" and not differ or disagreement == "0" and differ:
            continue
        rows.append(QueueRow(article=article, annotators=[layer.user.username for layer in mine],
                             label_counts=dict(sorted(counts.items())), disagreement=differ))
    choices = {
        "projects": list(projects.order_by("name").values_list("id", "name")),
        "annotators": list(
            Assignment.objects.filter(article__project__in=projects, kind=AssignmentKind.ANNOTATION)
            .values_list("user_id", "user__username").distinct().order_by("user__username")
        ),
        "labels": sorted(set(LabelType.objects.filter(project__in=projects).values_list("name", flat=True))),
        "statuses": ArticleStatus.choices,
    }
    return rows, choices, paging


# --- Review / compare page --------------------------------------------------------------------------


@dataclass
class MergedRow:
    key: tuple[int, int, str]
    text: str
    holders: dict[int, int] = field(default_factory=dict)  # annotation assignment id -> span id
    final_span_id: int | None = None

    @property
    def start(self):
        return self.key[0]

    @property
    def end(self):
        return self.key[1]

    @property
    def label(self):
        return self.key[2]


def segments(text: str, spans: list[tuple[int, int, str]]) -> list[dict]:
    """Cut `text` at every span boundary: [{"text", "labels": [...]}], for highlighting."""
    cuts = sorted({0, len(text), *[s for s, _, _ in spans], *[e for _, e, _ in spans]})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a >= b:
            continue
        labels = sorted({lab for s, e, lab in spans if s <= a and b <= e})
        out.append({"text": text[a:b], "labels": labels, "css": " ".join(f"lbl-{lab}" for lab in labels)})
    return out


@dataclass
class MergedLink:
    key: tuple  # ((start, end, label) of the from span, (start, end, label) of the to span, type name)
    from_text: str
    to_text: str
    holders: dict[int, int] = field(default_factory=dict)  # annotation assignment id -> relation id
    final_relation_id: int | None = None
    cells: list = field(default_factory=list)
    agreed: bool = False
    take_relation_id: int | None = None

    @property
    def from_label(self):
        return self.key[0][2]

    @property
    def to_label(self):
        return self.key[1][2]

    @property
    def type(self):
        return self.key[2]


def _merged_links(annotation: list[Assignment], review: Assignment | None) -> list[MergedLink]:
    """Every link of the annotators' layers and the review layer, matched by what it joins (the two
    spans' offsets and labels) and its type. One query."""
    ids = [a.id for a in annotation] + ([review.id] if review else [])
    merged: dict[tuple, MergedLink] = {}
    for rel in (Relation.objects.filter(assignment_id__in=ids, state=SuggestionState.ACCEPTED, **PLACED_ENDS)
                .select_related("from_span__label", "to_span__label", "type").order_by("id")):
        f, t = rel.from_span, rel.to_span
        key = ((f.start, f.end, f.label.name), (t.start, t.end, t.label.name), rel.type.name)
        row = merged.setdefault(key, MergedLink(key=key, from_text=f.text, to_text=t.text))
        if review and rel.assignment_id == review.id:
            row.final_relation_id = rel.id
        else:
            row.holders.setdefault(rel.assignment_id, rel.id)
    rows = sorted(merged.values(), key=lambda r: r.key)
    for row in rows:
        row.cells = [row.holders.get(layer.id) for layer in annotation]
        row.agreed = len(row.holders) == len(annotation) and bool(annotation)
        row.take_relation_id = next((c for c in row.cells if c), None)
    return rows


def review_compare(*, article: Article) -> dict:
    """Everything the review page shows, in a fixed number of queries: the annotators' layers side
    by side, the merged list of spans with who has each and whether it is in the review layer."""
    layers = list(
        Assignment.objects.filter(article=article).select_related("user").order_by("kind", "id")
    )
    annotation = [a for a in layers if a.kind == AssignmentKind.ANNOTATION]
    review = next((a for a in layers if a.kind == AssignmentKind.REVIEW), None)
    spans = list(
        Span.objects.filter(assignment__in=[a.id for a in layers], state=SuggestionState.ACCEPTED)
        .select_related("label").order_by("start", "end", "id")
    )
    by_layer: dict[int, list[Span]] = defaultdict(list)
    for s in spans:
        by_layer[s.assignment_id].append(s)
    merged: dict[tuple, MergedRow] = {}
    for layer in annotation:
        for s in by_layer[layer.id]:
            row = merged.setdefault((s.start, s.end, s.label.name), MergedRow(key=(s.start, s.end, s.label.name),
                                                                               text=s.text))
            row.holders.setdefault(layer.id, s.id)
    if review:
        for s in by_layer[review.id]:
            row = merged.setdefault((s.start, s.end, s.label.name), MergedRow(key=(s.start, s.end, s.label.name),
                                                                               text=s.text))
            row.final_span_id = s.id
    rows = sorted(merged.values(), key=lambda r: r.key)
    for row in rows:
        row.cells = [row.holders.get(layer.id) for layer in annotation]
        row.agreed = len(row.holders) == len(annotation) and bool(annotation)
        row.take_span_id = next((c for c in row.cells if c), None)
    columns = [
        {"assignment": layer, "spans": by_layer[layer.id],
         "segments": segments(article.text, [(s.start, s.end, s.label.name) for s in by_layer[layer.id]])}
        for layer in annotation
    ]
    final = by_layer[review.id] if review else []
    links = _merged_links(annotation, review)
    texts = {article.id: article.text}
    agreement = agreement_table(
        texts,
        {layer.user.username: {article.id: [(s.start, s.end, s.label.name) for s in by_layer[layer.id]]}
         for layer in annotation},
        labels=sorted({s.label.name for s in spans}),
        links={layer.user.username: {article.id: [link.key for link in links if link.holders.get(layer.id)]}
               for layer in annotation},
    )
    return {
        "columns": columns,
        "merged": rows,
        "links": links,
        "review": review,
        "final": final,
        "final_segments": segments(article.text, [(s.start, s.end, s.label.name) for s in final]),
        "agreement": agreement,
        "labels": sorted({s.label.name for s in spans}),
    }


# --- Agreement --------------------------------------------------------------------------------------


def _project_spans(project: Project, article_ids=None):
    """({annotator: {article: spans}}, assignments) for the project's finished annotation work.
    Two queries."""
    assignments = Assignment.objects.filter(
        article__project=project, kind=AssignmentKind.ANNOTATION, status__in=DONE_WORK
    ).select_related("user")
    if article_ids is not None:
        assignments = assignments.filter(article_id__in=list(article_ids))
    assignments = list(assignments)
    layers: dict[str, dict[int, list]] = defaultdict(dict)
    owner = {}
    for a in assignments:
        layers[a.user.username][a.article_id] = []
        owner[a.id] = (a.user.username, a.article_id)
    for assignment_id, start, end, label in Span.objects.filter(
        assignment_id__in=list(owner), state=SuggestionState.ACCEPTED
    ).values_list("assignment_id", "start", "end", "label__name"):
        user, article_id = owner[assignment_id]
        layers[user][article_id].append((start, end, label))
    return dict(layers), assignments


def _project_layers(project: Project, article_ids=None):
    """(texts, {annotator: {article: spans}}, assignments): _project_spans and the texts. Three queries."""
    layers, assignments = _project_spans(project, article_ids)
    texts = dict(Article.objects.filter(id__in={a.article_id for a in assignments}).values_list("id", "text"))
    return texts, layers, assignments


AGREEMENT_CACHE_PREFIX = "agreement:v2:"  # bump when the metrics or the tokenizer change
AGREEMENT_CACHE_SECONDS = 7 * 24 * 3600


def _layer_links(assignments) -> dict[str, dict[int, list]]:
    """{annotator: {article: [((start, end, label), (start, end, label), type)]}}: the links of
    `assignments` (finished annotation layers). One query."""
    owner = {a.id: (a.user.username, a.article_id) for a in assignments}
    links: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for assignment_id, link in _link_rows(owner):
        user, article_id = owner[assignment_id]
        links[user][article_id].append(link)
    return links


def _article_pair_counts(article_ids, layers: dict, text_hashes: dict, links: dict | None = None) -> dict:
    """{article: {(a, b): pair_counts}} for every annotator pair of each article, read from the cache
    where the article's text and both layers are unchanged, computed (and cached) otherwise. The
    cache key is a hash of exactly what the counts depend on, so it can never serve stale figures.
    One query (the texts of the articles not in the cache)."""
    people_of: dict[int, dict[str, list]] = defaultdict(dict)
    for user, docs in layers.items():
        for article_id, spans in docs.items():
            people_of[article_id][user] = spans
    links = links or {}

    def links_of(user, article_id):
        return sorted(links.get(user, {}).get(article_id, []))

    keys = {}
    for article_id in article_ids:
        people = people_of[article_id]
        fingerprint = repr((article_id, text_hashes.get(article_id),
                            sorted((u, sorted(spans), links_of(u, article_id)) for u, spans in people.items())))
        keys[article_id] = AGREEMENT_CACHE_PREFIX + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
    found = cache.get_many(list(keys.values()))
    missing = [a for a in article_ids if keys[a] not in found]
    texts = dict(Article.objects.filter(id__in=missing).values_list("id", "text")) if missing else {}
    fresh = {}
    for article_id in missing:
        people = people_of[article_id]
        tokens = tokenize(texts[article_id])
        fresh[keys[article_id]] = {(a, b): pair_counts(tokens, people[a], people[b], links_of(a, article_id),
                                                       links_of(b, article_id))
                                   for a, b in combinations(sorted(people), 2)}
    if fresh:
        cache.set_many(fresh, timeout=AGREEMENT_CACHE_SECONDS)
    found.update(fresh)
    return {a: found[keys[a]] for a in article_ids}


def project_agreement(*, project: Project) -> dict:
    """Agreement of every annotator pair over the articles both finished, per label and pooled,
    plus per-article figures for articles with two or more annotators.

    Each article's counts are cached (see _article_pair_counts): a page load recomputes only the
    articles whose text or finished layers changed since. Five queries, six on a cache miss."""
    labels = list(LabelType.objects.filter(project=project).order_by("order", "name").values_list("name", flat=True))
    layers, assignments = _project_spans(project)
    shared = sorted({a.article_id for a in assignments})
    text_hashes = dict(Article.objects.filter(id__in=shared).values_list("id", "text_hash"))
    per_article_counts = _article_pair_counts(shared, layers, text_hashes, _layer_links(assignments))
    totals: dict[tuple[str, str], dict] = {}
    per_article = []
    for article_id in shared:
        by_pair = per_article_counts[article_id]
        for pair, counts in by_pair.items():
            counts_add(totals.setdefault(pair, empty_counts()), counts)
        if not by_pair:
            continue
        rows = [{"a": a, "b": b, **agreement_from_counts(counts, labels)} for (a, b), counts in sorted(by_pair.items())]
        per_article.append({
            "article": article_id,
            "annotators": sorted({u for pair in by_pair for u in pair}),
            "f1_exact": mean(r["f1_exact"]["ALL"] for r in rows),
            "f1_overlap": mean(r["f1_overlap"]["ALL"] for r in rows),
            "kappa": mean(r["kappa"]["ALL"] for r in rows),
            "links_f1_overlap": mean(r["links_f1_overlap"] for r in rows),
            "pairs": rows,
        })
    pairs = [{"a": a, "b": b, **agreement_from_counts(totals[(a, b)], labels)} for a, b in sorted(totals)]
    return {"project": project.id, "labels": labels, "pairs": pairs, "articles": per_article}


def article_agreement(*, article: Article) -> list[dict]:
    labels = list(LabelType.objects.filter(project_id=article.project_id).values_list("name", flat=True))
    texts, layers, _ = _project_layers(article.project, article_ids=[article.id])
    return agreement_table(texts, layers, labels)


def week_start(d) -> date:
    d = d.date() if hasattr(d, "date") else d
    return d - timedelta(days=d.weekday())


def project_timeline(*, project: Project, agreement: dict | None = None) -> dict:
    """Per annotator and ISO week: articles submitted, and their mean pairwise overlap F1 against the
    other annotators of the same articles (agreement over time). Two queries, plus those of
    `project_agreement()` unless its result is passed as `agreement`."""
    if agreement is None:
        agreement = project_agreement(project=project)
    layers, assignments = _project_spans(project)
    known = {}
    for row in agreement.get("articles", []):
        for pair in row["pairs"]:
            known[(row["article"], pair["a"], pair["b"])] = pair["f1_overlap"]["ALL"]
    week_of = {(a.user.username, a.article_id): week_start(a.submitted_at or a.updated_at) for a in assignments}
    throughput: dict[str, Counter] = defaultdict(Counter)
    for (user, _article), week in week_of.items():
        throughput[user][week] += 1
    f1s: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    users = sorted(layers)
    for i, a in enumerate(users):
        for b in users[i + 1:]:
            for article_id in set(layers[a]) & set(layers[b]):
                value = known[(article_id, a, b)]
                f1s[a][week_of[(a, article_id)]].append(value)
                f1s[b][week_of[(b, article_id)]].append(value)
    weeks = sorted({w for c in throughput.values() for w in c})
    return {
        "weeks": weeks,
        "annotators": users,
        "throughput": {u: [throughput[u].get(w, 0) for w in weeks] for u in users},
        "agreement": {u: [mean(f1s[u].get(w, [])) for w in weeks] for u in users},
    }


# --- Progress -------------------------------------------------------------------------------------


def project_progress(*, project: Project) -> dict:
    """Counts by article status, per annotator (assignments by status) and per label (spans in the
    annotators' layers and in approved final versions). Three queries."""
    by_status = dict(
        Article.objects.filter(project=project).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    statuses = [{"status": value, "label": label, "count": by_status.get(value, 0)}
                for value, label in ArticleStatus.choices]
    per_annotator: dict[str, Counter] = defaultdict(Counter)
    for username, status, n in (
        Assignment.objects.filter(article__project=project, kind=AssignmentKind.ANNOTATION)
        .values_list("user__username", "status").annotate(n=Count("id")).values_list("user__username", "status", "n")
    ):
        per_annotator[username][status] = n
    annotators = [
        {"user": u, **{s: c[s] for s in AssignmentStatus.values}, "total": sum(c.values())}
        for u, c in sorted(per_annotator.items())
    ]
    label_rows = (
        Span.objects.filter(article__project=project, state=SuggestionState.ACCEPTED, assignment__isnull=False)
        .values_list("label__name")
        .annotate(
            annotated=Count("id", filter=Q(assignment__kind=AssignmentKind.ANNOTATION)),
            final=Count("id", filter=Q(assignment__kind=AssignmentKind.REVIEW,
                                       article__status=ArticleStatus.APPROVED)),
        )
        .values_list("label__name", "annotated", "final")
        .order_by("label__name")
    )
    labels = [{"label": n, "annotated": a, "final": f} for n, a, f in label_rows]
    return {"project": project.id, "statuses": statuses, "total": sum(by_status.values()),
            "annotators": annotators, "labels": labels}


def progress_csv_rows(progress: dict):
    """Rows for the CSV download: section, key, metric, value."""
    yield ["section", "key", "metric", "value"]
    for row in progress["statuses"]:
        yield ["status", row["status"], "articles", row["count"]]
    for row in progress["annotators"]:
        for status in [*AssignmentStatus.values, "total"]:
            yield ["annotator", row["user"], status, row[status]]
    for row in progress["labels"]:
        yield ["label", row["label"], "annotated", row["annotated"]]
        yield ["label", row["label"], "final", row["final"]]


# --- History ----------------------------------------------------------------------------------------


def article_timeline(*, article: Article) -> QuerySet[ArticleEvent]:
    return ArticleEvent.objects.filter(article=article).select_related("actor").order_by("created_at", "id")


def article_for_user(*, user, article_id, roles=None) -> Article:
    """The article if `user` may see it (member of its project, with one of `roles` if given), else
    Article.DoesNotExist. Roles are re-checked by the caller for a 403 rather than a 404."""
    return (
        Article.objects.filter(project__in=project_list_for_user(user=user))
        .select_related("project").prefetch_related(Prefetch("project__label_types"))
        .get(id=article_id)
    )

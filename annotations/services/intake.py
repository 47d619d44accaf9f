"""Bulk article intake: validate everything first, then write all rows in one transaction.

Contract of `articles_import`:
- Every item is normalised and checked (text, spans against the text, labels, relation types)
  before anything is written; duplicates (same normalised text in the project, or twice in the
  same request) are reported and skipped, never stored twice.
- partial=False (the default): if anything was rejected nothing is written (`report.committed`
  is False). partial=True: the valid items are written and the report lists each rejected one.
- The write is one transaction: articles, the importing editor's assignment holding imported spans
  and relations, one history event per article, and one pre-annotation job per article, sent to the
  broker only after the commit. On PostgreSQL the rows go in with COPY and ids taken from the
  sequences up front, so 10,000 articles and 200,000 spans need a handful of statements.

Imported spans are human work: they go into an Assignment of the importing user (kind annotation,
status submitted, origin human, state accepted), never into the machine layer, so a later
pre-annotation run (which replaces the machine layer) cannot touch them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotations.intake import (
    IntakeError,
    Limits,
    ParsedArticle,
    PreparedArticle,
    Rejection,
    parse_upload,
    prepare_article,
)
from annotations.models import (
    Article,
    ArticleEvent,
    ArticleStatus,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    ImportJob,
    JobStatus,
    LabelType,
    Origin,
    Project,
    Relation,
    RelationType,
    Span,
    SuggestionState,
)

log = logging.getLogger(__name__)
HASH_QUERY_CHUNK = 2000


def intake_limits() -> Limits:
    conf = settings.NEWSROOM
    return Limits(
        max_bytes=conf["MAX_UPLOAD_BYTES"],
        max_zip_uncompressed_bytes=conf["MAX_ZIP_UNCOMPRESSED_BYTES"],
        max_zip_entries=conf["MAX_ZIP_ENTRIES"],
    )


@dataclass
class ImportReport:
    """What happened to each input. `committed` is False when nothing was written."""

    committed: bool = False
    imported: list[dict] = field(default_factory=list)  # {"id", "source", "title"}
    duplicates: list[dict] = field(default_factory=list)  # {"source", "duplicate_of"}
    rejected: list[dict] = field(default_factory=list)  # {"source", "reason"}
    warnings: list[str] = field(default_factory=list)
    span_count: int = 0
    relation_count: int = 0

    def as_dict(self, *, list_limit: int | None = None) -> dict:
        cut = (lambda xs: xs[:list_limit]) if list_limit else (lambda xs: xs)
        return {
            "committed": self.committed,
            "imported_count": len(self.imported),
            "duplicate_count": len(self.duplicates),
            "rejected_count": len(self.rejected),
            "span_count": self.span_count,
            "relation_count": self.relation_count,
            "imported": cut(self.imported),
            "duplicates": cut(self.duplicates),
            "rejected": cut(self.rejected),
            "warnings": cut(self.warnings),
        }

    def summary(self) -> str:
        head = "Imported" if self.committed else "Nothing imported"
        return (f"{head}: {len(self.imported)} imported, {len(self.duplicates)} skipped as duplicate, "
                f"{len(self.rejected)} rejected.")


def parse_files(files: Iterable[tuple[str, bytes]]) -> tuple[list[ParsedArticle], list[Rejection], list[str]]:
    """Read several uploaded files (name, bytes) with the configured limits."""
    limits = intake_limits()
    articles, rejected, warnings = [], [], []
    for name, data in files:
        result = parse_upload(name, data, limits)
        articles.extend(result.articles)
        rejected.extend(result.rejected)
        warnings.extend(result.warnings)
    return articles, rejected, warnings


def articles_import(
    *,
    project: Project,
    items: Iterable[ParsedArticle],
    user=None,
    partial: bool = False,
    rejected: Sequence[Rejection] = (),
    warnings: Sequence[str] = (),
    preannotate: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and store articles (see the module docstring for the contract).

    `rejected` and `warnings` carry what the readers already found, so that a bad line in a file
    blocks the whole request just like a bad span does (unless `partial`).
    """
    report = ImportReport(rejected=[r.as_dict() for r in rejected], warnings=list(warnings))
    labels = dict(LabelType.objects.filter(project=project).values_list("name", "id"))
    rtypes = {rt.name: rt for rt in RelationType.objects.filter(project=project).select_related("from_label",
                                                                                                "to_label")}
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    valid: list[PreparedArticle] = []
    first_source: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        if progress and n % 500 == 0:
            progress(n)
        try:
            prepared = prepare_article(item)
            _check_schema(prepared, labels, rtypes, user_id)
        except IntakeError as exc:
            report.rejected.append({"source": item.source, "reason": str(exc)})
            continue
        report.warnings.extend(prepared.warnings)
        if prepared.text_hash in first_source:
            report.duplicates.append({"source": item.source, "duplicate_of": first_source[prepared.text_hash]})
            continue
        first_source[prepared.text_hash] = item.source
        valid.append(prepared)
    existing = _existing_hashes(project, list(first_source))
    if existing:
        kept = []
        for p in valid:
            if p.text_hash in existing:
                report.duplicates.append({"source": p.source, "duplicate_of": f"article {existing[p.text_hash]}"})
            else:
                kept.append(p)
        valid = kept
    if report.rejected and not partial:
        return report
    if not valid:
        report.committed = True
        return report
    try:
        with transaction.atomic():
            ids = _write(project=project, articles=valid, labels=labels, rtypes=rtypes, user_id=user_id, report=report)
            if preannotate:
                from annotations.services.preannotation import preannotation_jobs_create_bulk

                stubs = [Article(id=i, project=project, text_hash=p.text_hash) for i, p in zip(ids, valid, strict=True)]
                preannotation_jobs_create_bulk(articles=stubs, requested_by=user if user_id else None)
    except IntegrityError:
        log.info("import into project %s lost a race with a concurrent upload", project.id, exc_info=True)
        report.imported, report.span_count, report.relation_count = [], 0, 0
        report.rejected.append({"source": "this request",
                                "reason": "another upload stored some of the same texts at the same moment; "
                                          "nothing was imported, please try again"})
        return report
    report.committed = True
    return report


def _check_schema(p: PreparedArticle, labels: dict, rtypes: dict, user_id) -> None:
    if p.spans and user_id is None:
        raise IntakeError("imported spans need an importing user (they become that person's annotations)")
    for i, s in enumerate(p.spans, start=1):
        if s.label not in labels:
            raise IntakeError(f"span {i}: unknown label {s.label!r} (this project has {', '.join(sorted(labels))})")
    for j, (a, b, name) in enumerate(p.relations, start=1):
        if name is None:
            if len(rtypes) != 1:
                raise IntakeError(f"relation {j}: no type given and the project has {len(rtypes)} relation types")
            name = next(iter(rtypes))
        rt = rtypes.get(name)
        if rt is None:
            raise IntakeError(f"relation {j}: unknown relation type {name!r}")
        src, dst = p.spans[a].label, p.spans[b].label
        if (rt.from_label and rt.from_label.name != src) or (rt.to_label and rt.to_label.name != dst):
            raise IntakeError(f"relation {j}: {name} links {rt.from_label} -> {rt.to_label}, not {src} -> {dst}")
        p.relations[j - 1] = (a, b, name)


def _existing_hashes(project: Project, hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(hashes), HASH_QUERY_CHUNK):
        chunk = hashes[i : i + HASH_QUERY_CHUNK]
        found.update(Article.objects.filter(project=project, text_hash__in=chunk).values_list("text_hash", "id"))
    return found


# --- writing ---------------------------------------------------------------------------------
def _columns(model, names: list[str]) -> list[str]:
    return [model._meta.get_field(n).column for n in names]


def _next_ids(model, count: int) -> list[int]:
    """Reserve `count` primary keys. Call inside the writing transaction."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = cur.fetchone()[0]
        return list(range(top + 1, top + 1 + count))


def _insert(model, names: list[str], rows: list[tuple]) -> None:
    """Insert plain tuples: COPY on PostgreSQL, executemany elsewhere. No model instances built."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_value(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _insert_constant_tail(model, names: list[str], constants: dict, rows: list[tuple]) -> None:
    """Insert rows whose last columns are the same for every row; the last value of each row is text.

    On PostgreSQL the lines are formatted here (ints as is, the text escaped) and sent with COPY in
    large chunks, which is several times faster than adapting each value; elsewhere `_insert`.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        tail = tuple(constants.values())
        _insert(model, [*names, *constants], [(*row, *tail) for row in rows])
        return
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, [*names, *constants]))
    tail = "\t" + "\t".join(_copy_value(v) for v in constants.values()) + "\n"
    esc = _COPY_ESCAPES
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for i in range(0, len(rows), 5000):
            lines = []
            for row in rows[i : i + 5000]:
                *ints, last = row
                lines.append("\t".join(map(str, ints)) + "\t" + (last.translate(esc) if isinstance(last, str)
                                                                  else str(last)) + tail)
            copy.write("".join(lines))


def _write(*, project, articles: list[PreparedArticle], labels, rtypes, user_id, report: ImportReport) -> list[int]:
    now = timezone.now()
    ids = _next_ids(Article, len(articles))
    _insert(
        Article,
        ["id", "project", "title", "text", "text_hash", "outlet", "author", "published_at", "url", "meta",
         "source_name", "status", "status_changed_at", "version", "created_by", "created_at", "updated_at"],
        [(i, project.id, p.title, p.text, p.text_hash, p.outlet, p.author, p.published_at, p.url,
          json.dumps(p.meta, ensure_ascii=False), p.source[:300], ArticleStatus.NEW.value, now, 1, user_id, now, now)
         for i, p in zip(ids, articles, strict=True)],
    )
    with_spans = [(i, p) for i, p in zip(ids, articles, strict=True) if p.spans]
    assignment_ids = _next_ids(Assignment, len(with_spans))
    _insert(
        Assignment,
        ["id", "article", "user", "kind", "status", "version", "assigned_by", "created_at", "updated_at",
         "submitted_at"],
        [(a, art_id, user_id, AssignmentKind.ANNOTATION.value, AssignmentStatus.SUBMITTED.value, 1, user_id, now,
          now, now) for a, (art_id, _) in zip(assignment_ids, with_spans, strict=True)],
    )
    span_total = sum(len(p.spans) for _, p in with_spans)
    # Span ids are reserved only where relations need them; the others come from the column default.
    span_ids = iter(_next_ids(Span, sum(len(p.spans) for _, p in with_spans if p.relations)))
    span_rows, keyed_span_rows, rel_rows = [], [], []
    for a, (art_id, p) in zip(assignment_ids, with_spans, strict=True):
        if not p.relations:
            span_rows.extend((art_id, a, labels[s.label], s.start, s.end, s.text) for s in p.spans)
            continue
        local = []
        for s in p.spans:
            sid = next(span_ids)
            local.append(sid)
            keyed_span_rows.append((sid, art_id, a, labels[s.label], s.start, s.end, s.text))
        for src, dst, name in p.relations:
            rel_rows.append((art_id, a, rtypes[name].id, local[src], local[dst]))
    span_constants = {
        "origin": Origin.HUMAN.value, "state": SuggestionState.ACCEPTED.value, "confidence": None,
        "preannotator": "", "model_version": "", "attributes": "{}", "job": None, "from_suggestion": None,
        "needs_review": False, "created_by": user_id, "created_at": now, "updated_at": now,
    }
    # The two big tables: rows as COPY text lines, the constant columns formatted once.
    _insert_constant_tail(Span, ["article", "assignment", "label", "start", "end", "text"], span_constants,
                          span_rows)
    _insert_constant_tail(Span, ["id", "article", "assignment", "label", "start", "end", "text"], span_constants,
                          keyed_span_rows)
    _insert_constant_tail(
        Relation, ["article", "assignment", "type", "from_span", "to_span"],
        {"origin": Origin.HUMAN.value, "state": SuggestionState.ACCEPTED.value, "confidence": None, "job": None,
         "created_by": user_id, "created_at": now},
        rel_rows,
    )
    _insert(
        ArticleEvent,
        ["article", "actor", "kind", "before", "after", "comment", "created_at"],
        [(i, user_id, "article.imported", None,
          json.dumps({"source": p.source[:300], "spans": len(p.spans), "relations": len(p.relations)},
                     ensure_ascii=False), "", now)
         for i, p in zip(ids, articles, strict=True)],
    )
    report.imported = [{"id": i, "source": p.source, "title": p.title} for i, p in zip(ids, articles, strict=True)]
    report.span_count = span_total
    report.relation_count = len(rel_rows)
    return ids


# --- large imports: a job row, a stored file with a server-chosen name, a worker -------------
def import_job_create(*, project: Project, user, name: str, data: bytes, partial: bool = False) -> ImportJob:
    """Store the upload under a name the server chose and queue the job once the transaction commits
    (a broker that is down leaves it queued for the sweeper: services/jobs.py)."""
    from annotations.services.jobs import job_send

    with transaction.atomic():
        job = ImportJob(project=project, requested_by=user, original_name=(name or "upload")[:300],
                        options={"partial": bool(partial)})
        job.file.save(f"{uuid.uuid4().hex}.upload", ContentFile(data), save=False)
        job.save()
        job_id = job.id
        transaction.on_commit(lambda: job_send(ImportJob, job_id))
    return job


def _upload_discard(job: ImportJob) -> None:
    """The upload is not kept once the job has finished: the report says what became of it."""
    if job.file:
        name = job.file.name
        job.file.delete(save=False)
        ImportJob.objects.filter(id=job.id, file=name).update(file="")


def import_job_run(*, job_id: int, delivery: str = "") -> ImportJob | None:
    """Run a queued import (called by the worker). A finished job, or one another delivery is
    running, is left alone (services/jobs.job_claim)."""
    from annotations.services.jobs import job_claim

    claimed = job_claim(ImportJob, job_id=job_id, delivery=delivery)
    if claimed is None:
        return ImportJob.objects.filter(id=job_id).first()
    job = ImportJob.objects.select_related("project", "requested_by").get(id=claimed.id)
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        articles, rejected, warnings = parse_files([(job.original_name, data)])
        ImportJob.objects.filter(id=job.id).update(total=len(articles) + len(rejected))

        def progress(n: int) -> None:
            ImportJob.objects.filter(id=job.id).update(processed=n)

        report = articles_import(project=job.project, items=articles, user=job.requested_by,
                                 partial=bool(job.options.get("partial")), rejected=rejected, warnings=warnings,
                                 progress=progress)
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(id=job.id).update(status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                                                   finished_at=timezone.now())
        _upload_discard(job)
        job.refresh_from_db()
        return job
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.DONE if report.committed else JobStatus.FAILED,
        processed=len(articles) + len(rejected),
        report=report.as_dict(list_limit=1000),
        error="" if report.committed else report.summary(),
        finished_at=timezone.now(),
    )
    _upload_discard(job)
    job.refresh_from_db()
    return job

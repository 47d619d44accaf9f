"""Dataset exports: streamed to an HTTP client, written by a worker as a named immutable version,
or written offline by `manage.py export_dataset`. All three use the same selector and formatters.

Export jobs: `export_job_create` saves the row and enqueues the task after commit;
`export_job_run` (in the worker) writes the file under settings.NEWSROOM["EXPORT_DIR"] with a
name the server chooses, computing its SHA-256 and size while writing, and records the counts
and the filters it was made with. A finished job is immutable: it is never run or written again,
and its file is made read-only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from annotations.exporters.base import with_offsets
from annotations.exporters.registry import ExportFormat, get_format
from annotations.exporters.tokenize import encode_tokens, tokenizer_id, with_decoded_tokens
from annotations.models import ArticleTokens, ExportJob, JobStatus, Project
from annotations.selectors.exports import (
    CHUNK_SIZE,
    ExportFilters,
    export_article_queryset,
    export_articles,
    export_filters_parse,
)
from annotations.services import reader_process

logger = logging.getLogger(__name__)
MAX_NAME = 200


@dataclass
class ExportCounts:
    articles: int = 0
    spans: int = 0
    relations: int = 0
    labels: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"articles": self.articles, "spans": self.spans, "relations": self.relations,
                "labels": dict(sorted(self.labels.items()))}


def _counted(articles: Iterable[dict], counts: ExportCounts) -> Iterator[dict]:
    for a in articles:
        counts.articles += 1
        counts.spans += len(a["spans"])
        counts.relations += len(a["relations"])
        for s in a["spans"]:
            counts.labels[s["label"]] = counts.labels.get(s["label"], 0) + 1
        yield a


def export_format_and_filters(*, format_name: str, params) -> tuple[ExportFormat, ExportFilters]:
    """Validate a format name and its options together (ValidationError naming the bad ones)."""
    filters = export_filters_parse(params, format_name=format_name)
    return get_format(format_name), filters


_DONE = object()


def prefetched(items: Iterable, *, batch: int = 128, depth: int = 2) -> Iterator:
    """Yield `items`, read ahead in a thread (at most `depth` batches of `batch` items in hand).

    For the token formats: the thread's queries wait on PostgreSQL (psycopg lets go of the GIL
    meanwhile) while this thread tokenises and assembles. The thread has its own database
    connection, closed when it ends; so inside a transaction (whose snapshot another connection
    would not see; tests) nothing is read ahead. Errors in the thread are raised here; leaving the
    loop early stops the thread."""
    import queue
    import threading

    from django.db import connection, connections

    if connection.in_atomic_block:
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                q.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            pending = []
            for item in items:
                pending.append(item)
                if len(pending) >= batch:
                    if not put(pending):
                        return
                    pending = []
            if pending:
                put(pending)
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=produce, name="export-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            got = q.get()
            if got is _DONE:
                break
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        thread.join(timeout=30)


@contextmanager
def _gc_frozen():
    """The objects alive now (Django, spaCy, ...: most of the heap) are left out of the garbage
    collector's full passes while the block runs. A token export allocates millions of short-lived
    objects, and each full pass over the whole heap cost it about 0.6 s of CPU at 10,000 articles.
    Nothing is leaked: they are handed back to the collector afterwards."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _token_store():
    """The `on_tokens` of a token export: stores the tokens it made (export_tokens_store) from a
    thread with its own connection, so encoding and writing them overlap the export (zlib and
    psycopg let go of the GIL). Inside a transaction they are stored inline. The cache is an
    optimisation: a failed write is logged, the export goes on; all writes end before this does."""
    import queue
    import threading

    from django.db import connection, connections

    if connection.in_atomic_block:
        yield export_tokens_store
        return
    q: queue.Queue = queue.Queue(maxsize=4)

    def work() -> None:
        try:
            while (fresh := q.get()) is not None:
                try:
                    export_tokens_store(fresh)
                except Exception:
                    logger.exception("token cache: storing the tokens of %d articles failed", len(fresh))
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=work, name="export-token-store", daemon=True)
    thread.start()
    try:
        yield q.put
    finally:
        q.put(None)
        thread.join()


def _token_chunks(fmt: ExportFormat, articles: Iterable[dict]) -> Iterator[bytes]:
    with _gc_frozen(), _token_store() as store:
        yield from fmt.render(articles, on_tokens=store)


def export_tokens_store(fresh: list[tuple[dict, tuple]]) -> None:
    """Keep the tokens an export made (token cache, annotations.models.ArticleTokens), each under
    the hash of the text it was made from; a newer blob for the same article replaces it.
    `fresh`: [(article dict, token arrays)] as exporters.tokenize.Batch.fresh."""
    tokenizer = tokenizer_id()
    now = timezone.now()
    ArticleTokens.objects.bulk_create(
        [ArticleTokens(article_id=a["id"], text_hash=a["text_hash"], tokenizer=tokenizer, data=encode_tokens(*arrays),
                       updated_at=now)
         for a, arrays in fresh],
        update_conflicts=True, unique_fields=["article"],
        update_fields=["text_hash", "tokenizer", "data", "updated_at"],
    )


def article_tokens_fill(*, article_ids, batch: int = 256) -> int:
    """Tokenise the given articles whose token cache is missing or stale (another text or
    tokenizer) and store their tokens, so the conll and spacy exports of them need no tokenizer.
    Run in a worker when articles are approved. Returns how many were tokenised."""
    from annotations.exporters.tokenize import text_digest, tokenise
    from annotations.models import Article

    tokenizer = tokenizer_id()
    cached = dict(ArticleTokens.objects.filter(article_id__in=list(article_ids), tokenizer=tokenizer)
                  .values_list("article_id", "text_hash"))
    done = 0
    ids = list(article_ids)
    for lo in range(0, len(ids), batch):
        rows = [{"id": i, "text": t, "text_hash": text_digest(t)}
                for i, t in Article.objects.filter(id__in=ids[lo:lo + batch]).values_list("id", "text")]
        rows = [r for r in rows if cached.get(r["id"]) != r["text_hash"]]
        if rows:
            export_tokens_store(list(zip(rows, tokenise([r["text"] for r in rows]), strict=True)))
            done += len(rows)
    return done


def article_tokens_refresh(*, limit: int = 1000, project: Project | None = None) -> int:
    """Fill the token cache of up to `limit` submitted or approved articles that have none, or one
    made by another tokenizer (after a spaCy upgrade every blob is stale), lowest ids first.
    Celery beat runs it every minute, so the token exports get warm again by themselves
    (`manage.py fill_token_cache` does it all at once). Returns how many were tokenised.
    A blob of the wrong text is not looked for here: a text edit queues a new one."""
    from annotations.models import Article, ArticleStatus

    qs = Article.objects.filter(status__in=[ArticleStatus.SUBMITTED, ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED])
    if project is not None:
        qs = qs.filter(project=project)
    stale = qs.exclude(token_cache__tokenizer=tokenizer_id()).order_by("id").values_list("id", flat=True)[:limit]
    ids = list(stale)
    return article_tokens_fill(article_ids=ids) if ids else 0


def article_tokens_fill_later(*, article_ids) -> None:
    """Queue article_tokens_fill after the commit. An optimisation only: a broker that is down
    just leaves the next export to tokenise these articles itself."""
    from annotations.tasks import fill_token_cache

    ids = [int(i) for i in article_ids]

    def send() -> None:
        try:
            fill_token_cache.delay(ids)
        except Exception:
            logger.warning("could not queue the token cache fill of %d articles", len(ids), exc_info=True)

    transaction.on_commit(send)


def _chunk_items(chunks: Iterator[list], on_chunk=None) -> Iterator[dict]:
    for chunk in chunks:
        yield from chunk
        if on_chunk is not None:
            on_chunk(len(chunk))


def export_render(
    *, project: Project, fmt: ExportFormat, filters: ExportFilters, counts: ExportCounts | None = None,
    on_chunk=None, chunk_size: int | None = None,
) -> Iterator[bytes]:
    """The export as an iterator of bytes chunks (lazy: nothing is read before the first chunk).
    Token formats use the token cache and fill it for the texts they tokenise."""
    kwargs = {"chunk_size": chunk_size} if chunk_size else {}
    if fmt.tokens:
        kwargs["tokens"] = True
    if not fmt.links and counts is None:  # the links are neither exported nor counted
        kwargs["links"] = False
    if fmt.tokens and reader_process.usable():
        articles = _chunk_items(reader_process.read_chunks(
            project_id=project.id, filters=filters.to_dict(), tokens=True, links=kwargs.get("links", True),
            chunk_size=chunk_size or CHUNK_SIZE), on_chunk)
    else:
        articles = export_articles(project=project, filters=filters, on_chunk=on_chunk, **kwargs)
    if fmt.tokens:
        articles = prefetched(with_decoded_tokens(articles, orth=fmt.orth))
    if counts is not None:
        articles = _counted(articles, counts)
    articles = with_offsets(articles, filters.offsets)
    if fmt.tokens:
        return _token_chunks(fmt, articles)
    return fmt.render(articles)


def export_filename(*, project: Project, fmt: ExportFormat, name: str = "") -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    base = slugify(name)[:80] if name else f"{project.slug}-{stamp}"
    return f"{base}.{fmt.extension}"


class _HashingWriter:
    """Writes to a file while computing the SHA-256 and size of what went through."""

    def __init__(self, f: BinaryIO):
        self.f, self.sha, self.size = f, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.f.write(data)


def export_write(
    *, project: Project, fmt: ExportFormat, filters: ExportFilters, out: BinaryIO, on_chunk=None
) -> tuple[ExportCounts, str, int]:
    """Write the whole export to `out`; return (counts, sha256 hex, size in bytes)."""
    counts = ExportCounts()
    writer = _HashingWriter(out)
    for chunk in export_render(project=project, fmt=fmt, filters=filters, counts=counts, on_chunk=on_chunk):
        writer.write(chunk)
    return counts, writer.sha.hexdigest(), writer.size


# --- export jobs --------------------------------------------------------------------------------------

def export_dir() -> Path:
    path = Path(settings.NEWSROOM["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_job_path(job: ExportJob) -> Path:
    """Where a finished job's file is. Only server-chosen names are ever stored (no user path)."""
    root = export_dir().resolve()
    path = (root / job.file.name).resolve()
    if root not in path.parents:
        raise ValidationError("The export file is outside the export directory.")
    return path


@transaction.atomic
def export_job_create(*, project: Project, requested_by, format_name: str, name: str = "", filters=None) -> ExportJob:
    """Save an export job and run it in a worker once the transaction commits.

    `name` names the dataset version (unique per project; empty: "<slug>-<format>-<id>").
    `filters` is a dict of export options (the same as the streaming endpoint's query parameters).
    """
    from annotations.services.jobs import job_send

    fmt, parsed = export_format_and_filters(format_name=format_name, params=filters or {})
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise ValidationError({"name": f"name is longer than {MAX_NAME} characters"})
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError({"name": "name may not contain control characters (such as line breaks)"})
    Project.objects.select_for_update().filter(id=project.id).first()  # serialise name checks per project
    if name and ExportJob.objects.filter(project=project, name=name).exists():
        raise ValidationError(
            {"name": f"An export named {name!r} already exists in this project; versions are immutable."})
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                project=project, name=name, format=fmt.name, filters=parsed.to_dict(), requested_by=requested_by,
                total=export_article_queryset(project=project, filters=parsed).count(),
            )
            if not name:
                job.name = f"{project.slug}-{fmt.name}-{job.id}"
                job.save(update_fields=["name"])
    except IntegrityError as exc:
        raise ValidationError({"name": "An export with this name already exists in this project."}) from exc
    transaction.on_commit(lambda: job_send(ExportJob, job.id))  # broker down: the sweeper sends it later
    return job


def _progress(job_id: int):
    def on_chunk(n: int) -> None:
        from django.db.models import F

        ExportJob.objects.filter(id=job_id).update(processed=F("processed") + n)

    return on_chunk


def export_job_run(*, job_id: int, delivery: str = "") -> ExportJob | None:
    """Write the job's file (in the worker). A job that is done or failed, or that another delivery
    is writing, is left as it is (services/jobs.job_claim)."""
    from annotations.services.jobs import job_claim

    if job_claim(ExportJob, job_id=job_id, delivery=delivery) is None:
        return ExportJob.objects.filter(id=job_id).first()
    ExportJob.objects.filter(id=job_id).update(processed=0)
    job = ExportJob.objects.select_related("project").get(id=job_id)
    fmt = get_format(job.format)
    filters = export_filters_parse(job.filters, format_name=job.format)
    folder = export_dir() / str(job.project_id)
    folder.mkdir(parents=True, exist_ok=True)
    final_name = f"{job.id}-{slugify(job.name)[:80] or 'export'}.{fmt.extension}"
    final = folder / final_name
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{job.id}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            counts, sha, size = export_write(
                project=job.project, fmt=fmt, filters=filters, out=out, on_chunk=_progress(job.id))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o444)
        os.replace(tmp_name, final)
    except Exception as exc:
        Path(tmp_name).unlink(missing_ok=True)
        ExportJob.objects.filter(id=job.id).update(
            status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now())
        logger.exception("export job %s failed", job.id)
        raise
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("project").get(id=job.id)
        job.file.name = f"{job.project_id}/{final_name}"
        job.sha256 = sha
        job.size_bytes = size
        job.counts = dict(counts.as_dict(), offsets=filters.offsets)
        job.processed = counts.articles
        job.total = counts.articles
        job.status = JobStatus.DONE
        job.finished_at = timezone.now()
        job.save()
        from annotations.services.webhooks import webhook_event_emit

        webhook_event_emit(project=job.project, event="export.ready", payload=export_job_payload(job))
    return job


def export_job_payload(job: ExportJob) -> dict:
    return {
        "id": job.id, "project": job.project_id, "name": job.name, "format": job.format, "status": job.status,
        "sha256": job.sha256, "size_bytes": job.size_bytes, "counts": job.counts, "filters": job.filters,
        "download": f"/api/exports/{job.id}/download/",
    }

"""Article intake: pure readers from uploaded bytes to articles, no Django.

The entry point is `parse_upload(name, data, limits=None) -> ParseResult`:

    result = parse_upload("wire.jsonl", data)
    result.articles   # ParsedArticle: raw text, metadata, spans (raw offsets), relations
    result.rejected   # Rejection(source="wire.jsonl, line 4", reason="malformed JSON: ...")
    result.warnings   # e.g. a legacy encoding was detected

What a file is gets decided by its content (`sniff`), not by the name the client gave. Accepted:
.txt, .md, .html, .docx, JSONL / JSON lists (ours, doccano, Label Studio), CSV with a `text` column,
and .zip archives of these. `prepare.prepare_article` then normalises the text and carries span
offsets into the stored text; the service `annotations.services.intake.articles_import` stores them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from .decode import decode_bytes
from .prepare import PreparedArticle, PreparedSpan, prepare_article, text_hash
from .readers import (
    apply_wire_header,
    article_from_obj,
    articles_from_json,
    read_csv,
    read_docx,
    read_html,
    read_json_lines,
    read_text,
)
from .sniff import sniff
from .types import IntakeError, Limits, ParsedArticle, ParsedRelation, ParsedSpan, ParseResult, Rejection

__all__ = [
    "IntakeError", "Limits", "ParseResult", "ParsedArticle", "ParsedRelation", "ParsedSpan", "PreparedArticle",
    "PreparedSpan", "Rejection", "apply_wire_header", "article_from_obj", "articles_from_json", "parse_upload",
    "prepare_article", "sniff", "text_hash",
]


def parse_upload(name: str, data: bytes, limits: Limits | None = None) -> ParseResult:
    """Read one uploaded file (any accepted format, zip included) into articles and rejections.

    Never raises for bad input: every problem is a Rejection naming the file, line, row or entry.
    """
    limits = limits or Limits()
    name = _display_name(name)
    if len(data) > limits.max_bytes:
        return _reject(name, f"the file is {len(data):,} bytes, more than the limit of {limits.max_bytes:,}")
    if not data.strip():
        return _reject(name, "the file is empty")
    kind = sniff(name, data)
    if kind == "zip":
        return _read_zip(name, data, limits)
    return _read_one(name, data, kind, limits)


def _display_name(name: str) -> str:
    name = (name or "upload").replace("\\", "/")
    return PurePosixPath(name).name or "upload"


def _reject(source: str, reason: str) -> ParseResult:
    return ParseResult(rejected=[Rejection(source, reason)])


def _read_one(name: str, data: bytes, kind: str, limits: Limits) -> ParseResult:
    result = ParseResult()
    if kind == "binary":
        from .decode import binary_kind

        return _reject(name, f"the file is {binary_kind(data) or 'not a text, Word, JSON, CSV or zip file'}"
                             " and cannot be imported")
    if kind == "docx":
        problem = _zip_problem(data, limits)
        if problem:
            return _reject(name, problem)
        try:
            result.articles.append(read_docx(name, data))
        except IntakeError as exc:
            return _reject(name, f"the file {exc}")
        return result
    try:
        text, warning = decode_bytes(data, name)
    except IntakeError as exc:
        return _reject(name, f"the file {exc}")
    if warning:
        result.warnings.append(warning)
    if kind == "json":
        result.extend(read_json_lines(name, text))
    elif kind == "csv":
        result.extend(read_csv(name, text, max_field=limits.max_bytes))
    elif kind == "html":
        result.articles.append(read_html(name, text))
    else:
        result.articles.append(read_text(name, text, markdown=kind == "markdown"))
    return result


def _zip_problem(data: bytes, limits: Limits) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return f"the archive is damaged ({exc})"
    if len(infos) > limits.max_zip_entries:
        return f"the archive has {len(infos):,} entries, more than the limit of {limits.max_zip_entries:,}"
    total = sum(i.file_size for i in infos)
    if total > limits.max_zip_uncompressed_bytes:
        return (f"the archive would unpack to {total:,} bytes, more than the limit of "
                f"{limits.max_zip_uncompressed_bytes:,} (zip bomb?)")
    return None


def _unsafe(entry: str) -> bool:
    path = entry.replace("\\", "/")
    return path.startswith("/") or (len(path) > 1 and path[1] == ":") or ".." in path.split("/")


def _read_zip(name: str, data: bytes, limits: Limits) -> ParseResult:
    problem = _zip_problem(data, limits)
    if problem:
        return _reject(name, problem)
    result = ParseResult()
    budget = limits.max_zip_uncompressed_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            entry = info.filename
            where = f"{name}:{entry}"
            if _unsafe(entry):
                result.rejected.append(Rejection(where, "unsafe path in the archive ('..' or an absolute path)"))
                continue
            if info.is_dir():
                continue
            base = PurePosixPath(entry).name
            if entry.startswith("__MACOSX/") or base.startswith("."):
                result.warnings.append(f"{where}: skipped (system file)")
                continue
            if info.flag_bits & 0x1:
                result.rejected.append(Rejection(where, "the entry is encrypted"))
                continue
            if info.file_size > limits.max_bytes:
                result.rejected.append(Rejection(where, f"the entry is {info.file_size:,} bytes, more than the "
                                                        f"limit of {limits.max_bytes:,}"))
                continue
            try:  # the sizes in the header may lie: read with a cap
                with zf.open(info) as fh:
                    chunk = fh.read(min(limits.max_bytes, budget) + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                result.rejected.append(Rejection(where, f"the entry cannot be read ({exc})"))
                continue
            if len(chunk) > min(limits.max_bytes, budget):
                return _reject(name, "the archive unpacks to more than its declared size or the limit (zip bomb?)")
            budget -= len(chunk)
            if not chunk.strip():
                result.rejected.append(Rejection(where, "the file is empty"))
                continue
            kind = sniff(entry, chunk)
            if kind == "zip":
                result.rejected.append(Rejection(where, "archives inside archives are not accepted"))
                continue
            result.extend(_read_one(where, chunk, kind, limits))
    return result

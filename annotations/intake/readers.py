"""One reader per input shape. Each takes decoded text (or bytes for docx) and a name for messages.

Readers never normalise: they hand raw text and raw offsets to `prepare.prepare_article`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import PurePosixPath
from typing import Any

from .types import IntakeError, ParsedArticle, ParsedRelation, ParsedSpan, ParseResult, Rejection
from .wire import parse_wire_header

ARTICLE_FIELDS = ("title", "outlet", "author", "url")
DATE_KEYS = ("published_at", "date", "published", "pub_date")
_WS = re.compile(r"[ \t\r\n\f\v\u00a0]+")


# --- plain text, markdown -----------------------------------------------------------------
def read_text(name: str, text: str, *, markdown: bool = False) -> ParsedArticle:
    """A whole file is one article. Its title is a short first line followed by a blank line."""
    article = ParsedArticle(text=text, source=name)
    lines = text.lstrip("\ufeff\r\n ").splitlines()
    if len(lines) > 2 and lines[0].strip() and len(lines[0]) <= 200 and not lines[1].strip():
        first = lines[0].strip()
        article.title = first.lstrip("#").strip() if markdown else first
    else:
        article.title = PurePosixPath(name.split(":")[-1]).stem
    apply_wire_header(article)
    article.title = article.title or PurePosixPath(name.split(":")[-1]).stem
    return article


def apply_wire_header(article: ParsedArticle) -> None:
    header = parse_wire_header(article.text[:2000])
    if header.get("published_at") and not article.published_at:
        article.published_at = header["published_at"]
    if header.get("outlet") and not article.outlet:
        article.outlet = header["outlet"]
    if header.get("dateline"):
        article.meta.setdefault("dateline", header["dateline"])
    # A title that is only the date line is no title.
    if article.title and article.published_at and article.title.strip() == article.text.strip().split("\n")[0]:
        from .wire import parse_date

        if parse_date(article.title):
            article.title = ""


# --- HTML -----------------------------------------------------------------------------------
_DROP_TAGS = ["script", "style", "nav", "noscript", "template", "form", "iframe", "svg", "button", "aside",
              "footer", "header", "menu", "object", "embed", "canvas", "select", "input", "textarea"]
_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "dt", "dd", "td", "th"]


def read_html(name: str, html: str) -> ParsedArticle:
    """The article text of an HTML page: one paragraph per block, scripts, styles, navigation and markup dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    title = ""
    if soup.title and soup.title.string:
        title = _WS.sub(" ", soup.title.string).strip()
    meta: dict[str, Any] = {}
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or "").lower()
        value = tag.get("content")
        if not key or not isinstance(value, str):
            continue
        if key in ("og:title", "twitter:title"):
            found.setdefault("title", value)
        elif key in ("author", "article:author", "byl"):
            found.setdefault("author", value.removeprefix("By ").strip())
        elif key in ("article:published_time", "date", "pubdate", "dc.date"):
            found.setdefault("published_at", value)
        elif key in ("og:site_name", "publisher"):
            found.setdefault("outlet", value)
        elif key in ("og:url",):
            found.setdefault("url", value)
    canonical = soup.find("link", rel="canonical")
    if canonical and canonical.get("href"):
        found.setdefault("url", canonical["href"])
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    paragraphs: list[str] = []
    for block in root.find_all(_BLOCKS):
        if block.find_parent(_BLOCKS) is not None:
            continue  # its text is part of the enclosing block
        para = block.get_text().strip("\n") if block.name == "pre" else _WS.sub(" ", block.get_text(" ")).strip()
        if para:
            paragraphs.append(para)
    if not paragraphs:
        raw = root.get_text("\n")
        paragraphs = [p for p in (_WS.sub(" ", chunk).strip() for chunk in re.split(r"\n\s*\n", raw)) if p]
    text = "\n\n".join(paragraphs)
    article = ParsedArticle(text=text, source=name, meta=meta)
    article.title = found.get("title") or (_WS.sub(" ", h1.get_text(" ")).strip() if h1 else "") or title
    article.author = found.get("author", "")
    article.outlet = found.get("outlet", "")
    article.url = found.get("url", "")
    article.published_at = found.get("published_at")
    apply_wire_header(article)
    return article


# --- Word -----------------------------------------------------------------------------------
def read_docx(name: str, data: bytes) -> ParsedArticle:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise IntakeError(f"is not a readable Word document ({type(exc).__name__})")
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                paragraphs.append(" | ".join(cells))
    props = document.core_properties
    article = ParsedArticle(text="\n\n".join(paragraphs), source=name)
    heading = next((p.text.strip() for p in document.paragraphs if p.text.strip() and p.style is not None
                    and (p.style.name or "").startswith(("Title", "Heading"))), "")
    article.title = (props.title or "").strip() or heading or PurePosixPath(name.split(":")[-1]).stem
    article.author = (props.author or "").strip()
    apply_wire_header(article)
    return article


# --- JSON objects: ours, doccano, Label Studio --------------------------------------------
def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IntakeError(f"{what} must be a whole number, got {value!r}")
    return value


def _str(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise IntakeError(f"{what} must be a string, got {type(value).__name__}")
    return str(value)


def article_from_obj(obj: Any, source: str) -> ParsedArticle:
    """One article from a JSON object in any accepted shape. Raises IntakeError naming what is wrong.

    Shapes: ours (`text`, `title`, `meta`, `outlet`, `author`, `published_at`, `url`, `spans` of
    {label, start, end, text?, id?}, `relations` of {from, to, type}); doccano (`entities` of
    {id, label, start_offset, end_offset} or `label` of [start, end, label], `relations` of
    {from_id, to_id, type}); a Label Studio task (`data.text`, `annotations[].result[]`).
    """
    if not isinstance(obj, dict):
        raise IntakeError(f"expected a JSON object, got {type(obj).__name__}")
    if isinstance(obj.get("data"), dict) and "text" in obj["data"]:
        return _label_studio_task(obj, source)
    if "text" not in obj:
        raise IntakeError("has no 'text' field")
    text = obj["text"]
    if not isinstance(text, str):
        raise IntakeError(f"'text' must be a string, got {type(text).__name__}")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise IntakeError("'meta' must be a JSON object")
    article = ParsedArticle(text=text, source=source, meta=dict(meta))
    for key in ARTICLE_FIELDS:
        if key in obj:
            setattr(article, key, _str(obj[key], f"'{key}'").strip())
    for key in DATE_KEYS:
        if obj.get(key):
            article.published_at = _str(obj[key], f"'{key}'")
            break
    known = {"text", "meta", "spans", "relations", "entities", "label", "labels", *ARTICLE_FIELDS, *DATE_KEYS}
    for key, value in obj.items():
        if key not in known:
            article.meta.setdefault("source_id" if key == "id" else key, value)
    doccano = "entities" in obj or isinstance(obj.get("label"), list)
    if "spans" in obj:
        article.spans = _our_spans(obj["spans"])
    elif "entities" in obj:
        article.spans = _doccano_entities(obj["entities"], text)
    elif isinstance(obj.get("label"), list):
        if obj["label"] and all(isinstance(x, str) for x in obj["label"]):
            article.meta.setdefault("labels", obj["label"])  # doccano text classification: not spans
        else:
            article.spans = _doccano_label_triples(obj["label"], text)
    if "relations" in obj:
        article.relations = _relations(obj["relations"], doccano=doccano)
    return article


def _our_spans(spans: Any) -> list[ParsedSpan]:
    if not isinstance(spans, list):
        raise IntakeError("'spans' must be a list")
    out = []
    for i, s in enumerate(spans, start=1):
        if not isinstance(s, dict):
            raise IntakeError(f"span {i} must be an object with label, start and end")
        label = s.get("label")
        if not isinstance(label, str) or not label:
            raise IntakeError(f"span {i} has no label")
        quote = s.get("text")
        out.append(ParsedSpan(label=label, start=_int(s.get("start"), f"span {i} start"),
                              end=_int(s.get("end"), f"span {i} end"),
                              quote=quote if isinstance(quote, str) else None, ref=s.get("id", i - 1)))
    return out


def _doccano_entities(entities: Any, text: str) -> list[ParsedSpan]:
    if not isinstance(entities, list):
        raise IntakeError("'entities' must be a list")
    out = []
    for i, e in enumerate(entities, start=1):
        if not isinstance(e, dict) or not isinstance(e.get("label"), str):
            raise IntakeError(f"entity {i} must be an object with label, start_offset and end_offset")
        out.append(ParsedSpan(label=e["label"], start=_int(e.get("start_offset"), f"entity {i} start_offset"),
                              end=_int(e.get("end_offset"), f"entity {i} end_offset"),
                              ref=e.get("id", i - 1), unit="codepoint_or_utf16"))
    return out


def _doccano_label_triples(labels: list, text: str) -> list[ParsedSpan]:
    out = []
    for i, t in enumerate(labels, start=1):
        if not isinstance(t, list | tuple) or len(t) != 3 or not isinstance(t[2], str):
            raise IntakeError(f"label {i} must be [start, end, label]")
        out.append(ParsedSpan(label=t[2], start=_int(t[0], f"label {i} start"), end=_int(t[1], f"label {i} end"),
                              ref=i - 1, unit="codepoint_or_utf16"))
    return out


def _relations(relations: Any, *, doccano: bool) -> list[ParsedRelation]:
    if not isinstance(relations, list):
        raise IntakeError("'relations' must be a list")
    out = []
    for i, r in enumerate(relations, start=1):
        if not isinstance(r, dict):
            raise IntakeError(f"relation {i} must be an object")
        src = r.get("from", r.get("from_id"))
        dst = r.get("to", r.get("to_id"))
        if src is None or dst is None:
            raise IntakeError(f"relation {i} needs 'from' and 'to' (or from_id and to_id)")
        rtype = r.get("type")
        out.append(ParsedRelation(from_ref=src, to_ref=dst, type=rtype if isinstance(rtype, str) else None))
    return out


def _label_studio_task(task: dict, source: str) -> ParsedArticle:
    data = task["data"]
    text = data["text"]
    if not isinstance(text, str):
        raise IntakeError("'data.text' must be a string")
    meta = {k: v for k, v in data.items() if k not in ("text", "title", *ARTICLE_FIELDS, *DATE_KEYS)}
    if "id" in task:
        meta.setdefault("source_id", task["id"])
    article = ParsedArticle(text=text, source=source, meta=meta)
    for key in ARTICLE_FIELDS:
        if key in data:
            setattr(article, key, _str(data[key], f"'data.{key}'").strip())
    for key in DATE_KEYS:
        if data.get(key):
            article.published_at = _str(data[key], f"'data.{key}'")
            break
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list):
        raise IntakeError("'annotations' must be a list")
    chosen = next((a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")), None)
    if chosen is None:
        return article
    results = chosen.get("result") or []
    if not isinstance(results, list):
        raise IntakeError("'annotations[].result' must be a list")
    for i, item in enumerate(results, start=1):
        if not isinstance(item, dict):
            raise IntakeError(f"result {i} must be an object")
        if item.get("type") == "relation" or ("from_id" in item and "to_id" in item):
            labels = item.get("labels") or []
            src, dst = item.get("from_id"), item.get("to_id")
            if item.get("direction") == "left":  # drawn from the second region to the first
                src, dst = dst, src
            article.relations.append(ParsedRelation(
                from_ref=src, to_ref=dst, type=labels[0] if labels and isinstance(labels[0], str) else None,
            ))
            continue
        value = item.get("value")
        if not isinstance(value, dict) or "start" not in value:
            continue  # choices, ratings and other non-span results are not ours
        labels = value.get("labels") or value.get("hypertextlabels") or []
        if not labels or not isinstance(labels[0], str):
            raise IntakeError(f"result {i} has no label")
        quote = value.get("text")
        article.spans.append(ParsedSpan(
            label=labels[0], start=_int(value.get("start"), f"result {i} start"),
            end=_int(value.get("end"), f"result {i} end"), quote=quote if isinstance(quote, str) else None,
            ref=item.get("id", f"#{i}"), unit="codepoint_or_utf16",
        ))
    return article


def read_json_lines(name: str, text: str) -> ParseResult:
    """JSONL (one object per line), a JSON list (e.g. a Label Studio export), or one JSON object."""
    result = ParseResult()
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            result.rejected.append(Rejection(f"{name}, line {exc.lineno}", f"malformed JSON: {exc.msg}"))
            return result
        if not isinstance(items, list):
            result.rejected.append(Rejection(name, "expected a JSON list of articles"))
            return result
        for i, obj in enumerate(items, start=1):
            where = f"{name}, item {i}"
            try:
                result.articles.append(article_from_obj(obj, where))
            except IntakeError as exc:
                result.rejected.append(Rejection(where, str(exc)))
        return result
    lines = text.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    if first.strip() == "{" or (first.strip().startswith("{") and _not_json(first)):
        try:  # one pretty-printed object rather than lines
            obj = json.loads(stripped)
        except json.JSONDecodeError:
            pass
        else:
            where = f"{name}, item 1"
            try:
                result.articles.append(article_from_obj(obj, where))
            except IntakeError as exc:
                result.rejected.append(Rejection(where, str(exc)))
            return result
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}, line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.rejected.append(Rejection(where, f"malformed JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            result.articles.append(article_from_obj(obj, where))
        except IntakeError as exc:
            result.rejected.append(Rejection(where, str(exc)))
    return result


def _not_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return True
    return False


def articles_from_json(data: Any, *, source: str = "item") -> ParseResult:
    """What the API receives: one object or a list of them, already parsed from JSON."""
    result = ParseResult()
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items, start=1):
        where = f"{source} {i}"
        try:
            result.articles.append(article_from_obj(obj, where))
        except IntakeError as exc:
            result.rejected.append(Rejection(where, str(exc)))
    return result


# --- CSV ------------------------------------------------------------------------------------
def read_csv(name: str, text: str, *, max_field: int) -> ParseResult:
    """A `text` column (any case), the known metadata columns, and every other column into `meta`."""
    result = ParseResult()
    csv.field_size_limit(max(max_field, 131072))
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        result.rejected.append(Rejection(name, "the CSV file is empty"))
        return result
    except csv.Error as exc:
        result.rejected.append(Rejection(f"{name}, line 1", f"unreadable CSV: {exc}"))
        return result
    columns = [h.strip().lstrip("\ufeff").lower() for h in header]
    if "text" not in columns:
        shown = ", ".join(c for c in columns if c) or "none"
        result.rejected.append(Rejection(name, f"CSV without a 'text' column (columns: {shown})"))
        return result
    row_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.rejected.append(Rejection(f"{name}, row {row_no + 1}", f"unreadable CSV: {exc}"))
            break
        row_no += 1
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}, row {row_no}"
        if len(row) > len(columns):
            result.rejected.append(Rejection(where, f"{len(row)} cells but only {len(columns)} columns"))
            continue
        values = dict(zip(columns, row, strict=False))
        article = ParsedArticle(text=values.get("text", ""), source=where)
        for key, value in values.items():
            if key == "text" or not key:
                continue
            if key in ARTICLE_FIELDS:
                setattr(article, key, value.strip())
            elif key in DATE_KEYS and value.strip():
                article.published_at = value.strip()
            elif value != "":
                article.meta[key] = value
        result.articles.append(article)
    return result

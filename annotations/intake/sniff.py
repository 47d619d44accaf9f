"""What an upload is, decided by its content. The client's file name is only a hint among text kinds."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from .decode import binary_kind

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_HTML = re.compile(r"<(!doctype\s+html|html|head|body|article|main|p|div|h[1-6]|br|meta|title)\b", re.I)


def extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def sniff(name: str, data: bytes) -> str:
    """One of: zip, docx, binary, html, json, csv, markdown, text.

    zip/docx by magic and contents (a .docx is a zip holding word/document.xml), binary by magic or
    control bytes, HTML by markup near the top, JSON by its first character; CSV and Markdown only
    by name, and only when the content is text anyway.
    """
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "binary"
        return "docx" if "word/document.xml" in names else "zip"
    if binary_kind(data):
        return "binary"
    head = data[:4096].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n").replace("\x00", "")
    ext = extension(name)
    if head.startswith(("{", "[")):
        return "json"
    if ext in (".json", ".jsonl", ".ndjson"):
        return "json"  # named JSON but does not start like it: the JSON reader will say which line is bad
    if _HTML.search(head[:2048]) and (ext in (".html", ".htm", ".xhtml") or head.startswith("<")):
        return "html"
    if ext in (".csv", ".tsv"):
        return "csv"
    if ext in (".md", ".markdown"):
        return "markdown"
    return "text"

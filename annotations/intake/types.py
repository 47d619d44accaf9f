"""What the readers produce. Plain dataclasses; no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class IntakeError(ValueError):
    """One input (a file, a line, a row) that cannot be imported; the message says why, for people."""


@dataclass
class Limits:
    """Caps on what an upload may be. The service fills them from settings.NEWSROOM."""

    max_bytes: int = 20 * 1024 * 1024
    max_zip_uncompressed_bytes: int = 200 * 1024 * 1024
    max_zip_entries: int = 20000


@dataclass
class ParsedSpan:
    """A span as it arrived, offsets into the raw text of its article.

    `unit` says how the offsets count: "codepoint" (ours), or "codepoint_or_utf16" for doccano and
    Label Studio files, whose JavaScript tools may have counted UTF-16 units (checked against `quote`).
    """

    label: str
    start: int
    end: int
    quote: str | None = None
    ref: Any = None  # the id the source gave it, for relations
    unit: str = "codepoint"


@dataclass
class ParsedRelation:
    from_ref: Any  # a span's `ref`, or its index in the article's span list
    to_ref: Any
    type: str | None = None  # None: the project's only relation type


@dataclass
class ParsedArticle:
    """One article as read from a file, a line, a row or a JSON object; `text` is still raw."""

    text: str
    source: str
    title: str = ""
    outlet: str = ""
    author: str = ""
    published_at: str | None = None
    url: str = ""
    meta: dict = field(default_factory=dict)
    spans: list[ParsedSpan] = field(default_factory=list)
    relations: list[ParsedRelation] = field(default_factory=list)


@dataclass
class Rejection:
    """An input that was not imported: `source` names the file and the line, row or entry."""

    source: str
    reason: str

    def as_dict(self) -> dict:
        return {"source": self.source, "reason": self.reason}


@dataclass
class ParseResult:
    articles: list[ParsedArticle] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        self.articles.extend(other.articles)
        self.rejected.extend(other.rejected)
        self.warnings.extend(other.warnings)

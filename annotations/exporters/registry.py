"""The export formats by name: how to render them and what they accept."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from annotations.exporters import conll, csv_, doccano, jsonl, label_studio, spacy_docbin


@dataclass(frozen=True)
class ExportFormat:
    name: str
    module: ModuleType
    description: str
    all_layers: bool  # can hold every person's layer (layer=all)
    char_offsets: bool  # has character offsets (so offsets=utf16 applies)
    streams: bool  # rendered item by item (False: written to a file first)
    tokens: bool = False  # token level: spaCy's tokens, from the token cache when it has them
    links: bool = True  # holds the links (relations) between spans
    orth: bool = False  # token level, with spaCy's ORTH hashes of the tokens (not only their offsets)

    @property
    def content_type(self) -> str:
        return self.module.CONTENT_TYPE

    @property
    def extension(self) -> str:
        return self.module.EXTENSION

    def render(self, articles, **kwargs):
        return self.module.render(articles, **kwargs)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in [
        ExportFormat("jsonl", jsonl, "Native JSON Lines, one article per line", True, True, True),
        ExportFormat("doccano", doccano, "doccano JSONL (sequence labelling with relations)", False, True, True),
        ExportFormat("label-studio", label_studio, "Label Studio task JSON array", True, True, True),
        ExportFormat("conll", conll, "Token-level BIO, one token per line", False, False, True, tokens=True,
                     links=False),
        ExportFormat("spacy", spacy_docbin, "spaCy DocBin (.spacy) with doc.spans and doc.ents", False, False, False,
                     tokens=True, orth=True),
        ExportFormat("csv", csv_, "CSV, one row per span", True, True, True),
    ]
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}") from None

"""Loader for the hand-annotated Lee dev set (CLAIM / SOURCE spans, attributed_to links).

Texts come from the Lee background corpus shipped inside the installed gensim package
(``gensim/test/test_data/lee_background.cor``, one article per line). The only normalisation is
``line.rstrip("\\n")``: offsets are Unicode code points into that string, half-open, trailing
spaces kept. Each gold span's ``text`` must equal ``text[start:end]``; any mismatch (or a relation
pointing outside the span list) raises ``DevsetError`` so a changed corpus can never be scored
silently against shifted offsets.

Annotation guideline used (hand annotation, one annotator, independent of the rule engine):

* SOURCE: the mention of whoever a statement is attributed to, at the attribution site: the
  full noun phrase with determiner, title and apposition ("The service's chief executive officer,
  Tony Sherbon", "a spokesman for the Interior Minister, Yunis Kanooni"); pronouns ("he") count
  when they are the speaker; unnamed markers ("the sources", "A spokesman", "Investigators",
  the adverb "allegedly") are SOURCE spans too.
* CLAIM: the asserted content. For reported speech: the complement clause without the
  complementiser "that" and without the attribution; for quotes: the words inside the quote
  marks without the closing comma/full stop; for check-worthy sentences without attribution: the
  whole sentence without its final punctuation. Continuation quotes (a new quoted sentence after
  "... he said.") are linked to the previous speaker's SOURCE span.
* attributed_to: CLAIM -> SOURCE.
* ``split``: "tune" (17 articles the rules were iterated on), "check" (6 held-out articles looked
  at less while tuning) or "blind" (4 articles annotated after the rules were frozen and never
  run through them before being scored).
* Caveat: one annotator, who also wrote the rules; the guideline and the rules share one view of
  what a CLAIM span is, so scores here are optimistic for other annotators and other text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

DEVSET_PATH = Path(__file__).with_name("lee_devset.jsonl")


class DevsetError(ValueError):
    pass


@dataclass
class DevDoc:
    line: int
    split: str
    text: str
    spans: list[dict]  # {"label", "start", "end", "text"}
    relations: list[dict] = field(default_factory=list)  # {"from", "to", "type"}

    def triples(self) -> list[tuple[int, int, str]]:
        return [(s["start"], s["end"], s["label"]) for s in self.spans]


def lee_corpus_path() -> Path:
    import gensim  # dev dependency; imported here so the module imports without it

    return Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"


def read_lee_lines(path: Path | None = None) -> list[str]:
    path = path or lee_corpus_path()
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def load_devset(path: Path | None = None, split: str | None = None) -> list[DevDoc]:
    """All dev documents (or one split: "tune" / "check" / "blind"), verified against the corpus text."""
    lines = read_lee_lines()
    docs: list[DevDoc] = []
    with open(path or DEVSET_PATH, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            rec = json.loads(raw)
            line = rec["line"]
            if not 0 <= line < len(lines):
                raise DevsetError(f"record {n}: line {line} is outside the corpus ({len(lines)} lines)")
            text = lines[line]
            for i, s in enumerate(rec["spans"]):
                start, end = s["start"], s["end"]
                if not (0 <= start < end <= len(text)):
                    raise DevsetError(f"line {line} span {i}: bad offsets {start}:{end}")
                if text[start:end] != s["text"]:
                    raise DevsetError(
                        f"line {line} span {i}: quote {s['text']!r} != text[{start}:{end}] {text[start:end]!r}"
                    )
                if s["label"] not in ("CLAIM", "SOURCE"):
                    raise DevsetError(f"line {line} span {i}: unknown label {s['label']!r}")
            for r in rec.get("relations", []):
                for k in ("from", "to"):
                    if not 0 <= r[k] < len(rec["spans"]):
                        raise DevsetError(f"line {line}: relation {r} points outside the spans")
            doc = DevDoc(line, rec.get("split", "tune"), text, rec["spans"], rec.get("relations", []))
            if split is None or doc.split == split:
                docs.append(doc)
    if not docs:
        raise DevsetError("dev set is empty")
    return docs

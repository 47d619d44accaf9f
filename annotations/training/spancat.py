"""Train a small span categoriser on approved annotations. Pure spaCy; no Django import.

The model is its own spaCy pipeline (``spacy.blank("en")`` + sentencizer + spancat with an internal
HashEmbedCNN tok2vec), trained on CPU from scratch in seconds to minutes, saved with ``nlp.to_disk``.
Candidate spans come from ``newsroom.attribution_suggester.v1``: every 1..N-token n-gram (sources)
and, inside each sentence, every stretch between two cut points (punctuation, quote marks and words
such as "said", "that", "according"), trimmed of punctuation (claims).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch, registry
from thinc.api import get_current_ops
from thinc.types import Ragged

SPANS_KEY = "sc"
SUGGESTER = "newsroom.attribution_suggester.v1"
CUT_WORDS = frozenset({"said", "says", "say", "told", "tells", "that", "according", "added", "claimed",
                       "stated", "warned", "reported", "insisted", "explained", "announced"})
TRIM_WORDS = frozenset({"that"})


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    while start < end and (doc[start].is_punct or doc[start].is_space or doc[start].lower_ in TRIM_WORDS):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    return (start, end) if start < end else None


def candidate_spans(doc: Doc, max_ngram: int = 6, max_cuts: int = 40) -> list[tuple[int, int]]:
    cands: set[tuple[int, int]] = set()
    n = len(doc)
    for i in range(n):
        if doc[i].is_punct or doc[i].is_space:
            continue
        for k in range(1, max_ngram + 1):
            if i + k > n:
                break
            if not (doc[i + k - 1].is_punct or doc[i + k - 1].is_space):
                cands.add((i, i + k))
    sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    for sent in sents:
        cuts = {sent.start, sent.end}
        for t in sent:
            if t.is_punct or t.lower_ in CUT_WORDS:
                cuts.update((t.i, t.i + 1))
        ordered = sorted(cuts)[:max_cuts]
        for ai, a in enumerate(ordered):
            for b in ordered[ai + 1:]:
                r = _trim(doc, a, b)
                if r:
                    cands.add(r)
    return sorted(cands)


@registry.misc(SUGGESTER)
def build_attribution_suggester(max_ngram: int = 6, max_cuts: int = 40):
    def suggest(docs: Iterable[Doc], *, ops=None) -> Ragged:
        ops = ops or get_current_ops()
        spans: list[tuple[int, int]] = []
        lengths: list[int] = []
        for doc in docs:
            found = candidate_spans(doc, max_ngram, max_cuts)
            spans.extend(found)
            lengths.append(len(found))
        lengths_array = ops.asarray1i(lengths)
        if spans:
            return Ragged(ops.asarray2i(spans), lengths_array)
        return Ragged(ops.xp.zeros((0, 2), dtype="i"), lengths_array)

    return suggest


def build_pipeline(labels: Sequence[str], *, width: int = 64, seed: int = 0):
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    spancat = nlp.add_pipe("spancat", config={
        "spans_key": SPANS_KEY,
        "threshold": 0.35,
        "max_positive": 1,
        "suggester": {"@misc": SUGGESTER, "max_ngram": 6, "max_cuts": 40},
        "model": {
            "@architectures": "spacy.SpanCategorizer.v1",
            "reducer": {"@layers": "spacy.mean_max_reducer.v1", "hidden_size": width},
            "scorer": {"@layers": "spacy.LinearLogistic.v1"},
            "tok2vec": {
                "@architectures": "spacy.HashEmbedCNN.v2", "width": width, "depth": 2, "embed_size": 2000,
                "window_size": 1, "maxout_pieces": 3, "subword_features": True, "pretrained_vectors": None,
            },
        },
    })
    for label in labels:
        spancat.add_label(label)
    return nlp


def make_example(nlp, text: str, spans: Iterable[tuple[int, int, str]]) -> Example:
    predicted = nlp.get_pipe("sentencizer")(nlp.make_doc(text))
    reference = nlp.make_doc(text)
    gold = []
    for start, end, label in spans:
        span = reference.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            gold.append(span)
    reference.spans[SPANS_KEY] = gold
    return Example(predicted, reference)


def train(
    docs: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
    labels: Sequence[str],
    out_dir: str | Path,
    *,
    epochs: int = 20,
    seed: int = 0,
    batch_size: int = 4,
    meta: dict | None = None,
) -> dict:
    """Train on (text, [(start, end, label)]) pairs; save to `out_dir`; return the loss history."""
    nlp = build_pipeline(labels, seed=seed)
    examples = [make_example(nlp, text, spans) for text, spans in docs]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    history = []
    for _ in range(epochs):
        rng.shuffle(examples)
        losses: dict = {}
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, drop=0.1, losses=losses)
        history.append(round(float(losses.get("spancat", 0.0)), 4))
    nlp.meta.update({"name": "newsroom_spancat", "version": "1.0.0", **(meta or {})})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return {"losses": history, "examples": len(examples)}

"""A project's own trained model (annotations/training/spancat.py) as a pre-annotator. No Django import.

Spans: the spancat's predictions above its threshold; per label, overlapping predictions are
resolved greedily by score (the best one stays). Links: each CLAIM is linked attributed_to the
nearest SOURCE of the same sentence (confidence: the lower of the two scores x 0.8). The pipeline is
loaded once per process and path.
"""

from __future__ import annotations

import threading

from annotations.preannotators.base import PreannotatorError, Prediction, SuggestedRelation, SuggestedSpan

_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()


def load_trained(path: str):
    with _LOCK:
        nlp = _CACHE.get(path)
        if nlp is None:
            import spacy

            import annotations.training.spancat  # noqa: F401  registers the suggester

            try:
                nlp = spacy.load(path)
            except (OSError, ValueError) as exc:
                raise PreannotatorError(f"cannot load the trained model at {path}: {exc}") from exc
            if "spancat" not in nlp.pipe_names:
                raise PreannotatorError(f"the model at {path} has no spancat component")
            _CACHE[path] = nlp
        return nlp


class TrainedPreannotator:
    name = "trained"

    def __init__(self, path: str, version: str = "", batch_size: int = 16):
        self.path = path
        self._version = version
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        return self._version or f"trained:{self.path}"

    def predict(self, texts: list[str], labels: list[str]) -> list[Prediction]:
        from annotations.training.spancat import SPANS_KEY

        nlp = load_trained(self.path)
        wanted = set(labels)
        out = []
        for doc in nlp.pipe(texts, batch_size=self.batch_size):
            group = doc.spans.get(SPANS_KEY, [])
            scores = group.attrs.get("scores") if hasattr(group, "attrs") else None
            found = []
            for i, span in enumerate(group):
                if span.label_ not in wanted:
                    continue
                score = float(max(scores[i].ravel())) if scores is not None and len(scores) > i else 0.5
                found.append((score, span))
            kept: list[tuple[float, object]] = []
            for score, span in sorted(found, key=lambda x: (-x[0], x[1].start_char)):
                if any(k.label_ == span.label_ and k.start_char < span.end_char and span.start_char < k.end_char
                       for _, k in kept):
                    continue
                kept.append((score, span))
            kept.sort(key=lambda x: (x[1].start_char, x[1].end_char))
            spans = [SuggestedSpan(s.start_char, s.end_char, s.label_, round(max(0.0, min(1.0, sc)), 4))
                     for sc, s in kept]
            relations = []
            for ci, (cs, c) in enumerate(kept):
                if c.label_ != "CLAIM":
                    continue
                best = None
                for si, (ss, s) in enumerate(kept):
                    if s.label_ != "SOURCE" or s.sent.start != c.sent.start:
                        continue
                    distance = max(s.start_char - c.end_char, c.start_char - s.end_char, 0)
                    if best is None or distance < best[0]:
                        best = (distance, si, ss)
                if best is not None:
                    relations.append(SuggestedRelation(ci, best[1], "attributed_to", round(min(cs, best[2]) * 0.8, 4)))
            out.append(Prediction(spans, relations, self.name, self.version))
        return out

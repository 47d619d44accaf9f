"""Span-level precision / recall / F1 per label. Pure; no Django, no spaCy.

Input: two parallel lists (one entry per document) of spans ``(start, end, label)``.

Matching, always within one document and one label, one-to-one:

* ``match="exact"``: a predicted span is a true positive iff a gold span with the same label has
  the same (start, end). Duplicate predictions of one gold span count once as TP, the rest as FP.
* ``match="overlap"``: a predicted span may match a gold span of the same label that shares at
  least one code point. Pairs are chosen greedily by overlap length: all overlapping
  (gold, pred) pairs are sorted by overlap length (longest first; ties broken by the smaller
  absolute difference of span lengths, then by the two ranges' positions, ordered so that the key
  does not depend on which side is gold), and a pair is taken when neither side is matched yet.
  Swapping gold and predictions gives the same number of matches, so F1 is symmetric (as
  annotations/metrics/agreement.py relies on). Each gold and each predicted span is used at most
  once, so one long prediction covering two gold spans is one TP and one FN, not two TPs.

TP = matched pairs, FP = predictions left unmatched, FN = gold spans left unmatched.
precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = harmonic mean; each is 0.0 when its
denominator is 0 (a label absent from both sides does not appear in the result). The pseudo-label
``"ALL"`` is not added; call ``micro_average`` for that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

Span = tuple[int, int, str]


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def match_exact(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs with identical offsets."""
    free: dict[tuple[int, int], list[int]] = defaultdict(list)
    for gi, g in enumerate(gold):
        free[(g[0], g[1])].append(gi)
    pairs = []
    for pi, p in enumerate(pred):
        bucket = free.get((p[0], p[1]))
        if bucket:
            pairs.append((bucket.pop(0), pi))
    return pairs


def match_overlap(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs, greedy by overlap length (see module doc)."""
    cands = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            ov = min(g[1], p[1]) - max(g[0], p[0])
            if ov > 0:
                size_diff = abs((g[1] - g[0]) - (p[1] - p[0]))
                lo, hi = sorted([(g[0], g[1]), (p[0], p[1])])
                cands.append((-ov, size_diff, lo, hi, gi, pi))
    cands.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for *_, gi, pi in cands:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi))
    return sorted(pairs)


def span_counts(
    gold_docs: Sequence[Sequence[Span]], pred_docs: Sequence[Sequence[Span]], match: str = "exact"
) -> dict[str, dict[str, int]]:
    """Per-label {"tp", "fp", "fn"} summed over documents."""
    if match not in ("exact", "overlap"):
        raise ValueError(f"match must be 'exact' or 'overlap', not {match!r}")
    if len(gold_docs) != len(pred_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(pred_docs)} predicted ones")
    matcher = match_exact if match == "exact" else match_overlap
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for gold, pred in zip(gold_docs, pred_docs, strict=True):
        labels = {s[2] for s in gold} | {s[2] for s in pred}
        for label in labels:
            g = [(s[0], s[1]) for s in gold if s[2] == label]
            p = [(s[0], s[1]) for s in pred if s[2] == label]
            tp = len(matcher(g, p))
            c = counts[label]
            c["tp"] += tp
            c["fp"] += len(p) - tp
            c["fn"] += len(g) - tp
    return dict(counts)


def span_prf(
    gold_docs: Sequence[Sequence[Span]], pred_docs: Sequence[Sequence[Span]], match: str = "exact"
) -> dict[str, dict]:
    """{label: {"precision", "recall", "f1", "tp", "fp", "fn"}}, micro-averaged over documents."""
    return {
        label: _prf(c["tp"], c["fp"], c["fn"])
        for label, c in sorted(span_counts(gold_docs, pred_docs, match).items())
    }


def micro_average(result: dict[str, dict]) -> dict:
    """Pool the counts of every label of a ``span_prf`` result."""
    tp = sum(r["tp"] for r in result.values())
    fp = sum(r["fp"] for r in result.values())
    fn = sum(r["fn"] for r in result.values())
    return _prf(tp, fp, fn)

"""Inter-annotator agreement. Pure: no Django, no database.

Input per annotator and document: spans ``(start, end, label)`` in code points into the text.

* Span-level F1 between two annotators A and B (exact and overlap match, one-to-one; the matching
  rules are those of ``annotations.preannotators.evaluation``). F1 is symmetric: treating A as gold
  and B as prediction gives the same F1 as the reverse. Per label, and pooled over labels ("ALL").
* Cohen's kappa on tokens: the text is split into tokens with ``TOKEN_RE`` (runs of word
  characters, or single other non-space characters). A token belongs to a span when they share at
  least one code point. Per label, kappa is computed on the binary "token is in a span of this label
  or not"; "ALL" is multi-class kappa where each token carries the label of the first span (by
  start, then end, then label) covering it, or "O". Counts are pooled over documents before kappa is
  computed (one contingency table per pair), not averaged per document.
  kappa = (po - pe) / (1 - pe); when pe == 1 (both annotators put every token in one and the same
  class) kappa is undefined and reported as None.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from annotations.preannotators.evaluation import span_counts

Span = tuple[int, int, str]
TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
ALL = "ALL"


def tokenize(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def _covered(tokens: list[tuple[int, int]], ends: list[int], start: int, end: int) -> range:
    """Indices of tokens sharing at least one code point with [start, end); `ends` = token ends."""
    first = bisect_left(ends, start + 1)  # first token ending after `start`
    last = first
    while last < len(tokens) and tokens[last][0] < end:
        last += 1
    return range(first, last)


def token_tags(tokens: list[tuple[int, int]], spans: Sequence[Span]) -> tuple[list[str], dict[str, set[int]]]:
    """(one tag per token, "O" or the first covering span's label; {label: token indices covered})."""
    tags = ["O"] * len(tokens)
    per_label: dict[str, set[int]] = {}
    ends = [t[1] for t in tokens]
    for start, end, label in sorted(spans):
        idx = _covered(tokens, ends, start, end)
        per_label.setdefault(label, set()).update(idx)
        for i in idx:
            if tags[i] == "O":
                tags[i] = label
    return tags, per_label


def kappa_from_pairs(pairs: Counter) -> float | None:
    """Cohen's kappa from a Counter of (tag_a, tag_b) -> count."""
    n = sum(pairs.values())
    if n == 0:
        return None
    po = sum(c for (a, b), c in pairs.items() if a == b) / n
    ma, mb = Counter(), Counter()
    for (a, b), c in pairs.items():
        ma[a] += c
        mb[b] += c
    pe = sum(ma[k] * mb.get(k, 0) for k in ma) / (n * n)
    if pe >= 1.0:
        return None
    return (po - pe) / (1 - pe)


def cohen_kappa(a: Sequence, b: Sequence) -> float | None:
    if len(a) != len(b):
        raise ValueError("both annotators must tag the same tokens")
    return kappa_from_pairs(Counter(zip(a, b, strict=True)))


def _f1(c: dict) -> float:
    d = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / d if d else 0.0


def pair_agreement(texts: Sequence[str], a_docs: Sequence[Sequence[Span]], b_docs: Sequence[Sequence[Span]],
                   labels: Sequence[str] | None = None, tokens: Sequence[list] | None = None) -> dict:
    """Agreement between two annotators over the documents both annotated.

    Returns {"documents": n, "f1_exact": {label: f1, "ALL": f1}, "f1_overlap": {...},
    "kappa": {label: kappa or None, "ALL": kappa or None}}. Labels are `labels` if given (so every
    pair reports the same ones), else those either annotator used.
    """
    if not (len(texts) == len(a_docs) == len(b_docs)):
        raise ValueError("texts, a_docs and b_docs must have one entry per document")
    used = sorted({s[2] for d in a_docs for s in d} | {s[2] for d in b_docs for s in d})
    labels = list(labels) if labels is not None else used
    result: dict = {"documents": len(texts)}
    for match in ("exact", "overlap"):
        counts = span_counts(a_docs, b_docs, match=match)
        per = {lab: _f1(counts.get(lab, {"tp": 0, "fp": 0, "fn": 0})) for lab in labels}
        pooled = {k: sum(c[k] for c in counts.values()) for k in ("tp", "fp", "fn")}
        per[ALL] = _f1(pooled)
        result[f"f1_{match}"] = per
    multi: Counter = Counter()
    binary: dict[str, Counter] = {lab: Counter() for lab in labels}
    token_lists = tokens if tokens is not None else [tokenize(t) for t in texts]
    for doc_tokens, a_spans, b_spans in zip(token_lists, a_docs, b_docs, strict=True):
        ta, la = token_tags(doc_tokens, a_spans)
        tb, lb = token_tags(doc_tokens, b_spans)
        multi.update(zip(ta, tb, strict=True))
        for lab in labels:
            sa, sb = la.get(lab, set()), lb.get(lab, set())
            both = len(sa & sb)
            only_a, only_b = len(sa - sb), len(sb - sa)
            binary[lab].update({(1, 1): both, (1, 0): only_a, (0, 1): only_b,
                                (0, 0): len(doc_tokens) - both - only_a - only_b})
    result["kappa"] = {lab: kappa_from_pairs(binary[lab]) for lab in labels}
    result["kappa"][ALL] = kappa_from_pairs(multi)
    return result


def agreement_table(texts: dict, layers: dict, labels: Sequence[str], tokens: dict | None = None) -> list[dict]:
    """Every annotator pair over the documents they share.

    `texts`: {doc_id: text}; `layers`: {annotator: {doc_id: [spans]}}. Returns a list of
    {"a", "b", ...pair_agreement(...)} for pairs sharing at least one document, sorted by (a, b).
    `tokens` ({doc_id: tokenize(text)}) is filled in as documents are tokenised, and can be shared.
    """
    tokens = tokens if tokens is not None else {}
    rows = []
    for a, b in combinations(sorted(layers), 2):
        shared = sorted(set(layers[a]) & set(layers[b]))
        if not shared:
            continue
        for d in shared:
            if d not in tokens:
                tokens[d] = tokenize(texts[d])
        row = pair_agreement([texts[d] for d in shared], [layers[a][d] for d in shared],
                             [layers[b][d] for d in shared], labels=labels, tokens=[tokens[d] for d in shared])
        rows.append({"a": a, "b": b, **row})
    return rows


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None

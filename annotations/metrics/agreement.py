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
* Link F1 (CLAIM -attributed_to-> SOURCE): a link is ``(from span, to span, type)`` with both
  spans as ``(start, end, label)``. Exact: identical spans and type. Overlap: same type, and each
  end overlaps the other link's end with the same label; one-to-one, greedy by the summed overlap
  of the two ends. Reported as None for a pair where neither annotator drew a link.
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


def _f1(tp: int, fp: int, fn: int) -> float:
    d = 2 * tp + fp + fn
    return 2 * tp / d if d else 0.0


# --- additive counts: what one document contributes to a pair's figures ------------------------
#
# Every figure here is a function of counts that add up over documents (span tp/fp/fn per label,
# token contingency tables), so a pair's agreement over many documents is the sum of each
# document's counts. Callers can keep one document's counts (it changes only when its text or
# either layer does) and add them up again instead of recomputing every document.

Link = tuple[Span, Span, str]


def _overlap(x: Span, y: Span) -> int:
    return min(x[1], y[1]) - max(x[0], y[0]) if x[2] == y[2] else 0


def link_counts(a_links: Sequence[Link], b_links: Sequence[Link], match: str = "exact") -> tuple[int, int, int]:
    """(tp, fp, fn) of B's links against A's in one document (see the module doc)."""
    if match == "exact":
        pairs = len(match_exact_links(a_links, b_links))
    else:
        cands = []
        for i, a in enumerate(a_links):
            for j, b in enumerate(b_links):
                if a[2] != b[2]:
                    continue
                of, ot = _overlap(a[0], b[0]), _overlap(a[1], b[1])
                if of > 0 and ot > 0:
                    cands.append((-(of + ot), min(i, j), max(i, j), i, j))
        used_a, used_b, pairs = set(), set(), 0
        for *_k, i, j in sorted(cands):
            if i not in used_a and j not in used_b:
                used_a.add(i)
                used_b.add(j)
                pairs += 1
    return pairs, len(b_links) - pairs, len(a_links) - pairs


def match_exact_links(a_links: Sequence[Link], b_links: Sequence[Link]) -> list[tuple[int, int]]:
    free: dict = {}
    for i, a in enumerate(a_links):
        free.setdefault(tuple(a), []).append(i)
    pairs = []
    for j, b in enumerate(b_links):
        bucket = free.get(tuple(b))
        if bucket:
            pairs.append((bucket.pop(0), j))
    return pairs


def pair_counts(tokens: list[tuple[int, int]], a_spans: Sequence[Span], b_spans: Sequence[Span],
                a_links: Sequence[Link] = (), b_links: Sequence[Link] = ()) -> dict:
    """One document's additive counts for annotators A and B (`tokens`: tokenize(text))."""
    spans = {}
    for match in ("exact", "overlap"):
        counts = span_counts([a_spans], [b_spans], match=match)
        spans[match] = {lab: (c["tp"], c["fp"], c["fn"]) for lab, c in counts.items()}
    ta, la = token_tags(tokens, a_spans)
    tb, lb = token_tags(tokens, b_spans)
    binary = {}
    for lab in set(la) | set(lb):
        sa, sb = la.get(lab, set()), lb.get(lab, set())
        binary[lab] = (len(sa & sb), len(sa - sb), len(sb - sa))  # (1,1), (1,0), (0,1); (0,0) is the rest
    return {"documents": 1, "tokens": len(tokens), "exact": spans["exact"], "overlap": spans["overlap"],
            "multi": dict(Counter(zip(ta, tb, strict=True))), "binary": binary,
            "links_exact": link_counts(a_links, b_links, "exact"),
            "links_overlap": link_counts(a_links, b_links, "overlap")}


def empty_counts() -> dict:
    return {"documents": 0, "tokens": 0, "exact": {}, "overlap": {}, "multi": {}, "binary": {},
            "links_exact": (0, 0, 0), "links_overlap": (0, 0, 0)}


def counts_add(total: dict, c: dict) -> dict:
    """Add document counts `c` into `total` (changed in place and returned)."""
    total["documents"] += c["documents"]
    total["tokens"] += c["tokens"]
    for key in ("links_exact", "links_overlap"):
        total[key] = tuple(x + y for x, y in zip(total[key], c[key], strict=True))
    for key in ("exact", "overlap", "binary"):
        into = total[key]
        for lab, values in c[key].items():
            old = into.get(lab)
            into[lab] = values if old is None else tuple(x + y for x, y in zip(old, values, strict=True))
    multi = total["multi"]
    for pair, n in c["multi"].items():
        multi[pair] = multi.get(pair, 0) + n
    return total


def agreement_from_counts(c: dict, labels: Sequence[str]) -> dict:
    """{"documents", "f1_exact", "f1_overlap", "kappa"} (see pair_agreement) from summed counts."""
    result: dict = {"documents": c["documents"]}
    for match in ("exact", "overlap"):
        per = {lab: _f1(*c[match].get(lab, (0, 0, 0))) for lab in labels}
        pooled = [sum(v[i] for v in c[match].values()) for i in range(3)]
        per[ALL] = _f1(*pooled)
        result[f"f1_{match}"] = per
    kappa = {}
    for lab in labels:
        both, only_a, only_b = c["binary"].get(lab, (0, 0, 0))
        kappa[lab] = kappa_from_pairs(Counter({(1, 1): both, (1, 0): only_a, (0, 1): only_b,
                                               (0, 0): c["tokens"] - both - only_a - only_b}))
    kappa[ALL] = kappa_from_pairs(Counter(c["multi"]))
    result["kappa"] = kappa
    for match in ("exact", "overlap"):
        tp, fp, fn = c[f"links_{match}"]
        result[f"links_f1_{match}"] = _f1(tp, fp, fn) if tp + fp + fn else None
    return result


def pair_agreement(texts: Sequence[str], a_docs: Sequence[Sequence[Span]], b_docs: Sequence[Sequence[Span]],
                   labels: Sequence[str] | None = None, tokens: Sequence[list] | None = None,
                   a_links: Sequence[Sequence[Link]] | None = None,
                   b_links: Sequence[Sequence[Link]] | None = None) -> dict:
    """Agreement between two annotators over the documents both annotated.

    Returns {"documents": n, "f1_exact": {label: f1, "ALL": f1}, "f1_overlap": {...},
    "kappa": {label: kappa or None, "ALL": kappa or None}}. Labels are `labels` if given (so every
    pair reports the same ones), else those either annotator used.
    """
    if not (len(texts) == len(a_docs) == len(b_docs)):
        raise ValueError("texts, a_docs and b_docs must have one entry per document")
    used = sorted({s[2] for d in a_docs for s in d} | {s[2] for d in b_docs for s in d})
    labels = list(labels) if labels is not None else used
    token_lists = tokens if tokens is not None else [tokenize(t) for t in texts]
    a_links = a_links if a_links is not None else [()] * len(texts)
    b_links = b_links if b_links is not None else [()] * len(texts)
    total = empty_counts()
    for doc_tokens, a_spans, b_spans, a_l, b_l in zip(token_lists, a_docs, b_docs, a_links, b_links, strict=True):
        counts_add(total, pair_counts(doc_tokens, a_spans, b_spans, a_l, b_l))
    return agreement_from_counts(total, labels)


def agreement_table(texts: dict, layers: dict, labels: Sequence[str], tokens: dict | None = None,
                    links: dict | None = None) -> list[dict]:
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
        links = links or {}
        row = pair_agreement([texts[d] for d in shared], [layers[a][d] for d in shared],
                             [layers[b][d] for d in shared], labels=labels, tokens=[tokens[d] for d in shared],
                             a_links=[links.get(a, {}).get(d, []) for d in shared],
                             b_links=[links.get(b, {}).get(d, []) for d in shared])
        rows.append({"a": a, "b": b, **row})
    return rows


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None

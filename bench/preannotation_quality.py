"""Pre-annotation quality on the hand-annotated Lee dev set.

Usage (from the repository root):

    .venv/bin/python bench/preannotation_quality.py [--fallback] [--threshold 0.35]
        [--split tune|check|blind|all] [--relations] [--errors] [--sweep]

Prints precision / recall / F1 per label (exact and overlap match, see
annotations/preannotators/evaluation.py) for the "tune" split (rules iterated on), the held-out
"check" split, the "blind" split (annotated after the rules were frozen) and all documents;
--fallback adds the token-pattern fallback; --relations adds attributed_to scores (a predicted
link counts when both its ends overlap-match the ends of a gold link); --errors lists misses and
false alarms; --sweep prints CLAIM scores per threshold on the tune split. Exit status 1 if the
builtin pre-annotator is under the floors
(overlap F1: SOURCE >= 0.75, CLAIM >= 0.6 on all documents).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotations.preannotators.builtin import FallbackPreannotator, SpacyRulesPreannotator  # noqa: E402
from annotations.preannotators.evaluation import match_overlap, micro_average, span_prf  # noqa: E402
from bench.devset.load import load_devset  # noqa: E402

FLOORS = {"SOURCE": 0.75, "CLAIM": 0.6}
LABELS = ["CLAIM", "SOURCE"]


def relation_prf(docs, preds) -> dict:
    tp = fp = fn = 0
    for doc, pred in zip(docs, preds, strict=True):
        gold_spans = [(s["start"], s["end"], s["label"]) for s in doc.spans]
        pred_spans = [(s.start, s.end, s.label) for s in pred.spans]
        # map predicted span index -> gold span index via one-to-one overlap matching per label
        mapping = {}
        for label in LABELS:
            g_idx = [i for i, s in enumerate(gold_spans) if s[2] == label]
            p_idx = [i for i, s in enumerate(pred_spans) if s[2] == label]
            for gi, pi in match_overlap([gold_spans[i][:2] for i in g_idx], [pred_spans[i][:2] for i in p_idx]):
                mapping[p_idx[pi]] = g_idx[gi]
        gold_rel = {(r["from"], r["to"]) for r in doc.relations}
        pred_rel = {(mapping.get(r.from_index), mapping.get(r.to_index)) for r in pred.relations}
        hit = {r for r in pred_rel if r in gold_rel}
        tp += len(hit)
        fp += len(pred.relations) - len(hit)
        fn += len(gold_rel) - len(hit)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def table(title: str, docs, preds, with_relations: bool) -> dict:
    gold = [d.triples() for d in docs]
    pred = [[(s.start, s.end, s.label) for s in p.spans] for p in preds]
    print(f"\n{title}  ({len(docs)} articles)")
    print(f"  {'label':<10}{'match':<9}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
    results = {}
    for match in ("exact", "overlap"):
        res = span_prf(gold, pred, match=match)
        results[match] = res
        rows = [(label, res.get(label)) for label in LABELS] + [("all", micro_average(res))]
        for label, r in rows:
            if r is None:
                continue
            print(
                f"  {label:<10}{match:<9}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}"
                f"{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}"
            )
    if with_relations:
        r = relation_prf(docs, preds)
        print(
            f"  {'relation':<10}{'overlap':<9}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}"
            f"{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}"
        )
    return results


def show_errors(docs, preds) -> None:
    for doc, p in zip(docs, preds, strict=True):
        print(f"\n--- line {doc.line} ({doc.split})")
        for label in LABELS:
            g = [(s["start"], s["end"]) for s in doc.spans if s["label"] == label]
            q = [(s.start, s.end) for s in p.spans if s.label == label]
            pairs = match_overlap(g, q)
            mg = {a for a, _ in pairs}
            mp = {b for _, b in pairs}
            for i, (a, b) in enumerate(g):
                if i not in mg:
                    print(f"  MISS {label}: {doc.text[a:b]!r}")
            for i, (a, b) in enumerate(q):
                if i not in mp:
                    print(f"  FA   {label}: {doc.text[a:b]!r}")


def run(annotator, docs, args) -> dict:
    t0 = time.perf_counter()
    preds = annotator.predict([d.text for d in docs], LABELS)
    dt = time.perf_counter() - t0
    print(f"\n=== {annotator.name}  {annotator.version}  ({dt:.2f}s for {len(docs)} articles)")
    out = {}
    for split in ("tune", "check", "blind", "all"):
        if args.split not in ("all", split) and split != "all":
            continue
        sel = [i for i, d in enumerate(docs) if split == "all" or d.split == split]
        out[split] = table(f"[{split}]", [docs[i] for i in sel], [preds[i] for i in sel], args.relations)
    if args.errors:
        keep = [i for i, d in enumerate(docs) if args.split in ("all", d.split)]
        show_errors([docs[i] for i in keep], [preds[i] for i in keep])
    return out


def sweep(docs) -> int:
    """CLAIM overlap P/R/F1 on the tune split for thresholds 0.05 .. 0.80 (one model run)."""
    tune = [d for d in docs if d.split == "tune"]
    preds = SpacyRulesPreannotator(claim_threshold=0.0).predict([d.text for d in tune], LABELS)
    gold = [d.triples() for d in tune]
    print(f"{'threshold':>10}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}   (CLAIM, overlap, tune split)")
    for k in range(1, 17):
        t = k * 0.05
        pred = [
            [(s.start, s.end, s.label) for s in p.spans if s.label != "CLAIM" or s.confidence >= t - 1e-9]
            for p in preds
        ]
        r = span_prf(gold, pred, match="overlap").get("CLAIM")
        print(f"{t:>10.2f}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fallback", action="store_true", help="also score the fallback pre-annotator")
    ap.add_argument("--threshold", type=float, default=None, help="CLAIM check-worthiness threshold")
    ap.add_argument("--split", default="all", choices=["tune", "check", "blind", "all"])
    ap.add_argument("--relations", action="store_true")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--sweep", action="store_true", help="CLAIM overlap scores per threshold, tune split")
    args = ap.parse_args(argv)
    docs = load_devset()
    if args.sweep:
        return sweep(docs)
    kw = {} if args.threshold is None else {"claim_threshold": args.threshold}
    res = run(SpacyRulesPreannotator(**kw), docs, args)
    if args.fallback:
        run(FallbackPreannotator(**kw), docs, args)
    overlap = res["all"]["overlap"]
    ok = all(overlap.get(label, {}).get("f1", 0.0) >= floor for label, floor in FLOORS.items())
    print(
        "\nfloors (builtin, all, overlap F1): "
        + ", ".join(f"{lab} {overlap.get(lab, {}).get('f1', 0.0):.3f} >= {fl}" for lab, fl in FLOORS.items())
        + ("  OK" if ok else "  NOT MET")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

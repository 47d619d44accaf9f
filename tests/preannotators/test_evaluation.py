"""Hand-computed P/R/F1 for annotations.preannotators.evaluation.span_prf."""

import pytest

from annotations.preannotators.evaluation import match_overlap, micro_average, span_prf


def approx(d):
    return {k: pytest.approx(v) for k, v in d.items()}


def test_exact_match_counts_and_scores():
    gold = [[(0, 5, "SOURCE"), (10, 20, "CLAIM"), (30, 40, "CLAIM")]]
    pred = [[(0, 5, "SOURCE"), (10, 19, "CLAIM"), (30, 40, "CLAIM"), (50, 55, "SOURCE")]]
    res = span_prf(gold, pred, match="exact")
    # CLAIM: (30,40) exact -> tp 1; (10,19) fp; gold (10,20) fn. P = 1/2, R = 1/2, F1 = 1/2
    assert res["CLAIM"] == approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 1, "fp": 1, "fn": 1})
    # SOURCE: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 = 2*0.5*1/1.5 = 2/3
    assert res["SOURCE"] == approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "tp": 1, "fp": 1, "fn": 0})


def test_overlap_match_is_lenient_on_boundaries():
    gold = [[(0, 5, "SOURCE"), (10, 20, "CLAIM"), (30, 40, "CLAIM")]]
    pred = [[(0, 5, "SOURCE"), (10, 19, "CLAIM"), (30, 40, "CLAIM"), (50, 55, "SOURCE")]]
    res = span_prf(gold, pred, match="overlap")
    assert res["CLAIM"] == approx({"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 2, "fp": 0, "fn": 0})
    assert res["SOURCE"]["tp"] == 1 and res["SOURCE"]["fp"] == 1


def test_overlap_is_one_to_one():
    # One long prediction covering two gold claims: one TP, one FN (not two TPs).
    gold = [[(0, 10, "CLAIM"), (12, 30, "CLAIM")]]
    pred = [[(0, 30, "CLAIM")]]
    res = span_prf(gold, pred, match="overlap")["CLAIM"]
    assert (res["tp"], res["fp"], res["fn"]) == (1, 0, 1)
    assert res["precision"] == pytest.approx(1.0)
    assert res["recall"] == pytest.approx(0.5)
    assert res["f1"] == pytest.approx(2 / 3)


def test_overlap_greedy_prefers_longest_overlap():
    # pred 0 overlaps gold 0 by 2 and gold 1 by 8; pred 1 overlaps gold 0 by 5.
    gold = [(0, 10), (10, 20)]
    pred = [(8, 18), (3, 8)]
    assert match_overlap(gold, pred) == [(0, 1), (1, 0)]


def test_touching_spans_do_not_overlap_and_labels_are_separate():
    gold = [[(0, 5, "SOURCE")]]
    pred = [[(5, 9, "SOURCE"), (0, 5, "CLAIM")]]
    res = span_prf(gold, pred, match="overlap")
    assert res["SOURCE"] == approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 1})
    assert res["CLAIM"]["fp"] == 1 and res["CLAIM"]["recall"] == 0.0


def test_counts_are_summed_over_documents_and_micro_average():
    gold = [[(0, 4, "CLAIM")], [(0, 4, "CLAIM"), (6, 8, "SOURCE")], []]
    pred = [[(0, 4, "CLAIM")], [], [(1, 2, "CLAIM")]]
    res = span_prf(gold, pred, match="exact")
    # CLAIM: tp 1, fp 1, fn 1 ; SOURCE: tp 0 fp 0 fn 1
    assert (res["CLAIM"]["tp"], res["CLAIM"]["fp"], res["CLAIM"]["fn"]) == (1, 1, 1)
    assert res["SOURCE"]["precision"] == 0.0 and res["SOURCE"]["fn"] == 1
    all_ = micro_average(res)
    assert (all_["tp"], all_["fp"], all_["fn"]) == (1, 1, 2)
    assert all_["precision"] == pytest.approx(0.5)
    assert all_["recall"] == pytest.approx(1 / 3)
    assert all_["f1"] == pytest.approx(0.4)


def test_duplicate_exact_predictions_count_once():
    res = span_prf([[(0, 4, "CLAIM")]], [[(0, 4, "CLAIM"), (0, 4, "CLAIM")]], match="exact")["CLAIM"]
    assert (res["tp"], res["fp"], res["fn"]) == (1, 1, 0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        span_prf([[]], [[]], match="fuzzy")
    with pytest.raises(ValueError):
        span_prf([[]], [], match="exact")


def test_devset_loader_verifies_quotes(tmp_path):
    import json
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.devset.load import DEVSET_PATH, DevsetError, load_devset

    docs = load_devset()
    assert len(docs) >= 20
    assert {d.split for d in docs} == {"tune", "check", "blind"}
    for d in docs:
        for s in d.spans:
            assert d.text[s["start"] : s["end"]] == s["text"]
    # a shifted offset fails loudly
    rec = json.loads(DEVSET_PATH.read_text(encoding="utf-8").splitlines()[0])
    rec["spans"][0]["start"] += 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    with pytest.raises(DevsetError, match="quote"):
        load_devset(bad)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

RANGES = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1])), max_size=8
)


@given(RANGES, RANGES)
def test_overlap_matching_is_one_to_one_and_symmetric(a, b):
    pairs = match_overlap(a, b)
    assert len({g for g, _ in pairs}) == len(pairs) == len({p for _, p in pairs})
    assert all(a[g][0] < b[p][1] and b[p][0] < a[g][1] for g, p in pairs)
    assert len(match_overlap(b, a)) == len(pairs)
    ga = [[(s, e, "CLAIM") for s, e in a]]
    gb = [[(s, e, "CLAIM") for s, e in b]]
    if a and b:
        assert span_prf(ga, gb, "overlap")["CLAIM"]["f1"] == pytest.approx(span_prf(gb, ga, "overlap")["CLAIM"]["f1"])

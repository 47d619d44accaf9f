"""Management commands: evaluate_preannotation, train_preannotator, sweep_jobs."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.preannotators.registry import get_preannotator
from tests.preannotation.approved import approve_article

TEXTS = [
    'Officials said 42 people died in the floods. "We will rebuild," the mayor told reporters.',
    "According to the police, 300 homes were destroyed. The minister said aid is coming.",
]


@pytest.fixture
def people(annotator, editor, reviewer):
    return {"annotator": annotator, "editor": editor, "reviewer": reviewer}


def test_evaluate_preannotation_prints_prf_per_label(project, people):
    plugin = get_preannotator("fallback")
    predictions = plugin.predict(TEXTS, ["CLAIM", "SOURCE"])
    gold0 = [(s.start, s.end, s.label) for s in predictions[0].spans]
    # article 2: gold = the predictions plus one CLAIM the pre-annotator does not find, minus one SOURCE it does
    pred1 = [(s.start, s.end, s.label) for s in predictions[1].spans]
    extra = (0, 9, "CLAIM")
    assert extra not in pred1
    dropped = next(s for s in pred1 if s[2] == "SOURCE")
    gold1 = [s for s in pred1 if s != dropped] + [extra]
    approve_article(project, text=TEXTS[0], spans=gold0, **people)
    approve_article(project, text=TEXTS[1], spans=gold1, **people)

    out = StringIO()
    call_command("evaluate_preannotation", "--project", project.slug, "--json", stdout=out)
    metrics = json.loads(out.getvalue())
    claims = sum(1 for s in gold0 + pred1 if s[2] == "CLAIM")
    sources = sum(1 for s in gold0 + pred1 if s[2] == "SOURCE")
    exact = metrics["exact"]
    assert exact["CLAIM"]["tp"] == claims and exact["CLAIM"]["fp"] == 0 and exact["CLAIM"]["fn"] == 1
    assert exact["SOURCE"]["tp"] == sources - 1 and exact["SOURCE"]["fp"] == 1 and exact["SOURCE"]["fn"] == 0
    assert exact["CLAIM"]["recall"] == pytest.approx(claims / (claims + 1))
    assert exact["SOURCE"]["precision"] == pytest.approx((sources - 1) / sources)
    assert metrics["articles"] == 2 and metrics["preannotator"] == "fallback"

    out = StringIO()
    call_command("evaluate_preannotation", "--project", project.slug, stdout=out)
    text = out.getvalue()
    lines = {tuple(line.split()[:2]): line.split()[2:] for line in text.splitlines()[2:]}
    assert set(lines) == {(lab, m) for lab in ("CLAIM", "SOURCE", "ALL") for m in ("exact", "overlap")}
    assert lines[("CLAIM", "exact")][:3] == ["1.000", f"{claims / (claims + 1):.3f}",
                                             f"{exact['CLAIM']['f1']:.3f}"]


def test_evaluate_preannotation_errors(project):
    with pytest.raises(CommandError, match="No project"):
        call_command("evaluate_preannotation", "--project", "nope")
    with pytest.raises(CommandError, match="no approved articles"):
        call_command("evaluate_preannotation", "--project", project.slug)


def test_train_preannotator_needs_approved_articles(project):
    with pytest.raises(CommandError, match="at least 5 approved articles"):
        call_command("train_preannotator", "--project", project.slug, "--sync")


def test_sweep_jobs_command(project):
    out = StringIO()
    call_command("sweep_jobs", stdout=out)
    assert "resent_queued" in out.getvalue() and "'import'" in out.getvalue()

"""Wire datelines are metadata: no suggested span starts inside one."""

import pytest

from annotations.intake.wire import dateline_end
from annotations.preannotators.builtin import FallbackPreannotator, SpacyRulesPreannotator

WIRE = (
    "GENEVA, March 14 (Newsroom Wire) - Floods have displaced about 12,000 people, "
    "the regional governor said on Tuesday."
)


@pytest.mark.parametrize(
    "text,expected",
    [
        (WIRE, "Floods have"),
        ("March 3, 2024\nWASHINGTON (Reuters) — The minister said 42 people died.", "The minister"),
        ("The minister said 42 people died.", None),
        ("UN (the body) said 42 people died.", None),  # no capitalised place and outlet: not a dateline
    ],
)
def test_dateline_end(text, expected):
    end = dateline_end(text)
    if expected is None:
        assert end == 0
    else:
        assert text[end:].startswith(expected)


@pytest.mark.parametrize("plugin", [SpacyRulesPreannotator(), FallbackPreannotator()], ids=["builtin", "fallback"])
def test_no_suggestion_reaches_into_the_dateline(plugin):
    prediction = plugin.predict([WIRE], ["CLAIM", "SOURCE"])[0]
    cut = dateline_end(WIRE)
    claims = [s for s in prediction.spans if s.label == "CLAIM"]
    assert claims, "the sentence is check-worthy and attributed: a CLAIM is expected"
    assert all(s.start >= cut for s in prediction.spans)
    assert any(WIRE[s.start : s.end].startswith("Floods have displaced") for s in claims)
    for r in prediction.relations:
        assert 0 <= r.from_index < len(prediction.spans) and 0 <= r.to_index < len(prediction.spans)

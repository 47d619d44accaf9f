"""The fallback pre-annotator: blank English pipeline + sentencizer + token patterns, no trained model."""

import pytest

from annotations.preannotators.base import Prediction
from annotations.preannotators.builtin import FallbackPreannotator, load_blank

LABELS = ["CLAIM", "SOURCE"]


@pytest.fixture(scope="module")
def fallback():
    return FallbackPreannotator()


def pairs(text: str, pred: Prediction) -> set[tuple[str, str]]:
    return {
        (
            text[pred.spans[r.from_index].start : pred.spans[r.from_index].end],
            text[pred.spans[r.to_index].start : pred.spans[r.to_index].end],
        )
        for r in pred.relations
    }


def well_formed(text: str, pred: Prediction) -> None:
    for s in pred.spans:
        piece = text[s.start : s.end]
        assert piece and piece == piece.strip()
        assert s.label in LABELS and 0 <= s.confidence <= 1
    for r in pred.relations:
        assert pred.spans[r.from_index].label == "CLAIM" and pred.spans[r.to_index].label == "SOURCE"


def test_needs_no_trained_model(fallback):
    nlp, _ = load_blank()
    assert nlp.pipe_names == ["newsroom_newline_boundaries", "sentencizer"]
    assert fallback.name == "fallback"
    assert fallback.version.startswith("fallback-rules-1.2+blank-en-")


@pytest.mark.parametrize(
    "text, claim, source",
    [
        ("Officials said 42 people died in the floods.", "42 people died in the floods", "Officials"),
        ('"We will win," Smith said.', "We will win", "Smith"),
        ('"We will win," said Smith.', "We will win", "Smith"),
        (
            "According to police, three men were arrested on Friday night.",
            "three men were arrested on Friday night",
            "police",
        ),
        (
            "The death toll rose to 42, according to the United Nations.",
            "The death toll rose to 42",
            "the United Nations",
        ),
        (
            "The minister told reporters that the budget deficit had doubled to $3 billion.",
            "the budget deficit had doubled to $3 billion",
            "The minister",
        ),
        (
            "The Foreign Minister, Dr Abdullah, said an agreement on 5,000 troops was about to be signed.",
            "an agreement on 5,000 troops was about to be signed",
            "The Foreign Minister, Dr Abdullah",
        ),
        (
            "Exports fell by 12 per cent in the first quarter, he said.",
            "Exports fell by 12 per cent in the first quarter",
            "he",
        ),
        (
            "The president has reportedly resigned after 12 years in office.",
            "The president has reportedly resigned after 12 years in office",
            "reportedly",
        ),
        (
            "Finance Minister Żaneta Kowalska-Ångström 🎉 said inflation rose to 7 per cent in 2023 📈.",
            "inflation rose to 7 per cent in 2023",
            "Finance Minister Żaneta Kowalska-Ångström",
        ),
        (
            "Президент Владимир Путин said the economy grew by 3 per cent in 2021.",
            "the economy grew by 3 per cent in 2021",
            "Президент Владимир Путин",
        ),
    ],
)
def test_patterns(fallback, text, claim, source):
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    assert (claim, source) in pairs(text, pred)


def test_participle_and_capitalised_verb_forms(fallback):
    text = (
        "Pakistan's Foreign Ministry announced sanctions against India on Monday, saying it would ban 40 flights. "
        "Today, the United States will play France in the final."
    )
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    assert ("it would ban 40 flights", "Pakistan's Foreign Ministry") in pairs(text, pred)
    assert {text[s.start : s.end] for s in pred.spans if s.label == "SOURCE"} == {"Pakistan's Foreign Ministry"}


def test_continuation_quote_and_quoted_reporting_verb(fallback):
    text = (
        '"Prices rose 8 per cent this year," Mr Farmer said. "We expect them to double by 2030."\n'
        '"We said the bridge would open in 2024, and it did," the mayor told reporters.'
    )
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    got = pairs(text, pred)
    assert ("We expect them to double by 2030", "Mr Farmer") in got
    assert ("We said the bridge would open in 2024, and it did", "the mayor") in got
    assert {text[s.start : s.end] for s in pred.spans if s.label == "SOURCE"} == {"Mr Farmer", "the mayor"}


def test_unattributed_claims_are_scored(fallback):
    text = "Unemployment rose to 7.5 per cent in March, the highest level since 1998. What a day."
    (pred,) = fallback.predict([text], LABELS)
    assert [text[s.start : s.end] for s in pred.spans] == [
        "Unemployment rose to 7.5 per cent in March, the highest level since 1998"
    ]
    assert pred.relations == []


def test_batch_labels_and_empty_texts(fallback):
    texts = ["", "   ", "Officials said 42 people died.", "No."]
    preds = fallback.predict(texts, ["SOURCE"])
    assert len(preds) == 4
    assert [len(p.spans) for p in preds] == [0, 0, 1, 0]
    assert preds[2].spans[0].attributes["source_kind"] == "unnamed"
    assert fallback.predict(["Officials said 42 people died."], [])[0].spans == []


def test_quotes_running_over_sentences(fallback):
    text = (
        '"The Boxing Day Test has been good to me. I took 5 wickets here in 2019," Bichel said. '
        '"Prices rose 8 per cent," Mr Farmer said. "Rents doubled. Wages fell 3 per cent."'
    )
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    got = pairs(text, pred)
    assert ("The Boxing Day Test has been good to me. I took 5 wickets here in 2019", "Bichel") in got
    assert ("Wages fell 3 per cent", "Mr Farmer") in got


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(
    [
        "Officials", "said", "says", "told reporters", "according to", "the UN", "reportedly", '"', "\u201c",
        "\u201d", ",", ".", ":", " ", "  ", "\n", "\t", "42", "per cent", "$3 billion", "Mr Smith", "he", "that",
        "😀", "👩🏽‍⚕️", "🇦🇺", "Żaneta", "Путин", "李克强", "مرحبا", "rose", "will", "It is understood",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, max_size=40).map(" ".join) | st.text(max_size=200))
def test_any_text_gives_well_formed_spans(fallback, text):
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)


def test_texts_longer_than_the_pipeline_limit_are_chunked():
    from annotations.preannotators.builtin import split_long

    text = "Officials said 42 people died in the floods.\n" * 5 + "Police said 3 men were arrested on Friday."
    assert "".join(p for _, p in split_long(text, 50)) == text
    assert all(len(p) <= 50 for _, p in split_long(text, 50))
    small = FallbackPreannotator(max_chars=60)
    (pred,) = small.predict([text], LABELS)
    (whole,) = FallbackPreannotator().predict([text], LABELS)
    well_formed(text, pred)
    assert [(s.start, s.end, s.label) for s in pred.spans] == [(s.start, s.end, s.label) for s in whole.spans]
    assert pairs(text, pred) == pairs(text, whole)
    assert ("3 men were arrested on Friday", "Police") in pairs(text, pred)


def test_line_breaks_end_sentences(fallback):
    text = "Floods kill 42 in Queensland\nOfficials said 42 people died in the floods."
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    assert "\n" not in "".join(text[s.start : s.end] for s in pred.spans)
    assert ("42 people died in the floods", "Officials") in pairs(text, pred)


@pytest.mark.parametrize(
    "text, claim, both",
    [
        (
            "Officials said 42 people died in the floods, according to the Red Cross.",
            "42 people died in the floods",
            ("Officials", "the Red Cross"),
        ),
        (
            "According to the Red Cross, officials said 42 people died in the floods.",
            "42 people died in the floods",
            ("officials", "the Red Cross"),
        ),
        (
            "Sources said, according to Reuters, that 40 troops were sent.",
            "40 troops were sent",
            ("Sources", "Reuters"),
        ),
        (
            "The death toll rose to 42, officials said, according to the Red Cross.",
            "The death toll rose to 42",
            ("officials", "the Red Cross"),
        ),
        (
            '"We will cut prices by 10 per cent," he said, according to Reuters.',
            "We will cut prices by 10 per cent",
            ("he", "Reuters"),
        ),
        (
            'According to the BBC, Smith said: "We will win the election by 20 seats."',
            "We will win the election by 20 seats",
            ("Smith", "the BBC"),
        ),
    ],
)
def test_two_attributions_give_one_claim_linked_to_both_sources(fallback, text, claim, both):
    (pred,) = fallback.predict([text], LABELS)
    well_formed(text, pred)
    assert [text[s.start : s.end] for s in pred.spans if s.label == "CLAIM"] == [claim]
    assert pairs(text, pred) == {(claim, source) for source in both}

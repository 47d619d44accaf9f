"""The formatters are pure functions of plain dicts: tested here without a database."""

import csv
import io
import json

import pytest

from annotations.exporters import conll, csv_, doccano, jsonl, label_studio, spacy_docbin
from annotations.exporters.base import to_utf16, with_offsets
from annotations.exporters.registry import FORMATS, get_format

TEXT = "The minister said 42 people died. 👍 =Police said so."


def span(id_, label, start, end, **kw):
    return {"id": id_, "label": label, "start": start, "end": end, "text": TEXT[start:end], "author": "rita",
            "origin": "human", "state": "accepted", "confidence": None, "model_version": "", **kw}


def article(**kw):
    a = {
        "id": 7, "title": "Floods", "text": TEXT, "url": "", "outlet": "Wire", "author": "", "published_at": None,
        "meta": {"k": "v"}, "status": "approved", "reviewer": "rita", "layer": {"kind": "review", "annotator": "rita"},
        "spans": [span(1, "SOURCE", 0, 12), span(2, "CLAIM", 18, 32), span(3, "SOURCE", 36, 43)],
        "relations": [{"id": 9, "from": 2, "to": 1, "type": "attributed_to"}],
    }
    a.update(kw)
    return a


def render(module, articles) -> bytes:
    out = module.render(list(articles))
    return b"".join(out)


def test_jsonl_one_line_per_article_with_offset_unit():
    lines = render(jsonl, [article(), article(id=8)]).decode().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[0])
    assert rec["offsets"] == "codepoint"
    assert rec["spans"][1] == span(2, "CLAIM", 18, 32)
    assert rec["relations"] == [{"id": 9, "from": 2, "to": 1, "type": "attributed_to"}]
    assert rec["reviewer"] == "rita" and rec["status"] == "approved"
    for s in rec["spans"]:
        assert rec["text"][s["start"]:s["end"]] == s["text"]


def test_utf16_offsets_count_code_units_after_an_emoji():
    converted = to_utf16(article())
    assert converted["offsets"] == "utf16"
    police = converted["spans"][2]
    # 👍 is one code point but two UTF-16 units: everything after it moves by one.
    assert (police["start"], police["end"]) == (37, 44)
    units = TEXT.encode("utf-16-le")
    assert units[police["start"] * 2:police["end"] * 2].decode("utf-16-le") == "=Police"
    assert converted["spans"][0]["start"] == 0
    rec = json.loads(render(jsonl, with_offsets([article()], "utf16")))
    assert rec["offsets"] == "utf16" and rec["spans"][2]["start"] == 37
    with pytest.raises(ValueError):
        list(with_offsets([article()], "bytes"))


def test_doccano_shape():
    rec = json.loads(render(doccano, [article()]))
    assert rec["text"] == TEXT
    assert rec["entities"][1] == {"id": 2, "label": "CLAIM", "start_offset": 18, "end_offset": 32}
    assert rec["relations"] == [{"id": 9, "from_id": 2, "to_id": 1, "type": "attributed_to"}]


def test_label_studio_is_one_json_array_streamed_in_pieces_with_predictions():
    sugg = span(4, "CLAIM", 44, 52, origin="machine", state="pending", confidence=0.8, model_version="m1",
                author=None)
    arts = [article(), article(id=8, spans=[*article()["spans"], sugg])]
    chunks = list(label_studio.render(iter(arts)))
    tasks = json.loads(b"".join(chunks))
    assert [t["id"] for t in tasks] == [7, 8]
    result = tasks[0]["annotations"][0]["result"]
    labels = [r for r in result if r["type"] == "labels"]
    assert labels[1]["value"] == {"start": 18, "end": 32, "text": "42 people died", "labels": ["CLAIM"]}
    rel = [r for r in result if r["type"] == "relation"]
    assert rel == [{"type": "relation", "from_id": "2", "to_id": "1", "direction": "right",
                    "labels": ["attributed_to"]}]
    assert tasks[0]["predictions"] == []
    pred = tasks[1]["predictions"][0]
    assert pred["model_version"] == "m1" and pred["result"][0]["value"]["labels"] == ["CLAIM"]
    assert len([r for r in tasks[1]["annotations"][0]["result"] if r["type"] == "labels"]) == 3
    assert json.loads(b"".join(label_studio.render([]))) == []


def test_label_studio_layer_all_is_one_annotation_per_person():
    layers = [
        {"kind": "annotation", "annotator": "ann", "spans": [span(1, "SOURCE", 0, 12)], "relations": []},
        {"kind": "annotation", "annotator": "ann2", "spans": [span(5, "CLAIM", 18, 32)], "relations": []},
    ]
    task = label_studio.task(article(layers=layers))
    assert [a["completed_by"] for a in task["annotations"]] == ["ann", "ann2"]


def test_label_studio_config_names_every_label_and_relation():
    xml = label_studio.labeling_config([{"name": "CLAIM", "color": "#ffcc80"}, {"name": "SOURCE", "color": "#90caf9"}],
                                       ["attributed_to"])
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.tag == "View"
    labels = root.find("Labels")
    assert labels.get("name") == label_studio.FROM_NAME and labels.get("toName") == label_studio.TO_NAME
    assert [lab.get("value") for lab in labels] == ["CLAIM", "SOURCE"]
    assert root.find("Text").get("value") == "$text"
    assert [r.get("value") for r in root.find("Relations")] == ["attributed_to"]


def test_csv_neutralises_formula_cells():
    evil = article(title="=HYPERLINK(\"http://x\")", spans=[span(3, "SOURCE", 36, 43), span(4, "CLAIM", 18, 32)])
    evil["spans"][1]["text"] = "+cmd|' /C calc'!A0"
    evil["spans"][0]["author"] = "@admin"
    rows = list(csv.reader(io.StringIO(render(csv_, [evil]).decode())))
    assert rows[0] == csv_.HEADER
    body = rows[1:]
    assert len(body) == 2
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert body[0][6] == "'=Police" and body[0][1].startswith("'=HYPERLINK")
    assert body[1][6].startswith("'+cmd") and body[0][7] == "'@admin"
    assert body[0][14] == "codepoint"


def test_conll_bio_one_token_per_line_sentences_separated():
    text = render(conll, [article()]).decode()
    blocks = text.split("\n\n")
    assert blocks[0] == "-DOCSTART-\tO"
    first = [line.split("\t") for line in blocks[1].splitlines()]
    assert first[:4] == [["The", "B-SOURCE"], ["minister", "I-SOURCE"], ["said", "O"], ["42", "B-CLAIM"]]
    assert ["died", "I-CLAIM"] in first
    assert all(len(line.split("\t")) == 2 for block in blocks for line in block.splitlines())


def test_conll_widens_partial_tokens_and_drops_overlaps():
    a = article(spans=[span(1, "SOURCE", 4, 8), span(2, "CLAIM", 0, 12), span(3, "CLAIM", 18, 20)])
    rows = [line.split("\t") for line in render(conll, [a]).decode().splitlines() if "\t" in line][1:]
    # the longer CLAIM wins the overlap at 0; "mini" (part of "minister") is not a separate tag
    assert rows[0] == ["The", "B-CLAIM"] and rows[1] == ["minister", "I-CLAIM"]
    assert rows[3] == ["42", "B-CLAIM"]


def test_spacy_docbin_round_trip(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    path = tmp_path / "out.spacy"
    with path.open("wb") as f:
        assert spacy_docbin.write([article(), article(id=8, spans=[])], f) == 2
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))
    assert [d.user_data["article_id"] for d in docs] == [7, 8]
    doc = docs[0]
    assert doc.text == TEXT
    assert [(s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans["SOURCE"]] == [
        (0, 12, "SOURCE", "1"), (36, 43, "SOURCE", "3")]
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
        (0, 12, "SOURCE"), (18, 32, "CLAIM"), (36, 43, "SOURCE")]
    assert list(doc.user_data["relations"]) == [("2", "1", "attributed_to")]
    assert len(list(docs[1].ents)) == 0


def test_registry_names_every_format():
    assert set(FORMATS) == {"jsonl", "doccano", "label-studio", "conll", "spacy", "csv"}
    with pytest.raises(ValueError, match="unknown format"):
        get_format("xml")


@pytest.mark.parametrize("text", [
    TEXT, 'He said: "It is over." Then he left!! Really?! Yes... no.\n\nNew para. «Quoted.» (Aside.) End',
    "No punctuation at all", "...", "", "Dr. Smith met Mr. Jones. 😀 Fine.\r\nNext line? ok",
])
def test_sentence_rule_matches_spacys_sentencizer(text):
    import numpy
    from spacy.attrs import IS_PUNCT, ORTH

    from annotations.exporters.tokenize import _punct_hashes, nlp, sentence_starts

    pipeline = nlp()
    doc = pipeline.tokenizer(text)
    arr = doc.to_array([IS_PUNCT, ORTH])
    ours = sentence_starts(arr[:, 0].astype(bool), numpy.isin(arr[:, 1], _punct_hashes())).tolist()
    sentencizer = pipeline.create_pipe("sentencizer")
    theirs = [bool(t.is_sent_start) for t in sentencizer(pipeline.tokenizer(text))]
    assert ours == theirs


def test_batched_conll_equals_the_token_by_token_reference():
    """The numpy assembly of a batch gives exactly what a per-token loop gives, across documents
    that end and start with punctuation (sentence state must not leak between documents)."""
    from annotations.exporters.conll import _slow_doc, batch_text
    from annotations.exporters.tokenize import batches

    texts = [TEXT, '"Quoted start," he said. End.', "…and CRLF\r\nlines here. 🇺🇦 Flag!", "No final stop",
             '"Next doc starts with a quote.']
    arts = [article(id=i, text=t, spans=[s for s in article()["spans"] if s["end"] <= len(t)])
            for i, t in enumerate(texts)]
    for b in batches(arts, size=3):
        fast = batch_text(b).decode("utf-8", "surrogatepass")
        slow = "".join(_slow_doc(b, d) for d in range(len(b.articles)))
        assert fast == slow

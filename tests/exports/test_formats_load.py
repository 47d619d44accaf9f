"""Each export loads in the tool it is for, in the test itself, with the spans we stored."""

import csv
import io
import json

import pytest

from annotations.models import Span
from annotations.services.exports import export_format_and_filters, export_write

pytestmark = pytest.mark.django_db


def write(project, fmt, tmp_path, **params):
    fmt_, filters = export_format_and_filters(format_name=fmt, params=params)
    path = tmp_path / f"out.{fmt_.extension}"
    with path.open("wb") as out:
        counts, sha, size = export_write(project=project, fmt=fmt_, filters=filters, out=out)
    assert size == path.stat().st_size
    return path, counts


def final_spans(article):
    """(label, start, end, text) of the article's exported (review) layer."""
    return sorted(
        (s.label.name, s.start, s.end, s.text)
        for s in Span.objects.filter(article=article, assignment__kind="review", state="accepted")
        .select_related("label")
    )


def test_jsonl_loads_with_hugging_face_datasets_offline(project, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    path, counts = write(project, "jsonl", tmp_path)
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == 3 == counts.articles
    for row, article in zip(ds, dataset, strict=True):
        assert row["id"] == article.id and row["text"] == article.text and row["offsets"] == "codepoint"
        got = sorted((s["label"], s["start"], s["end"], s["text"]) for s in row["spans"])
        assert got == final_spans(article)
        for s in row["spans"]:
            assert row["text"][s["start"]:s["end"]] == s["text"]
    assert sum(len(r["relations"]) for r in ds) == counts.relations == 4


def test_spacy_docbin_from_disk_with_matching_spans(project, dataset, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    path, counts = write(project, "spacy", tmp_path)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))
    assert len(docs) == 3 == counts.articles
    for doc, article in zip(docs, dataset, strict=True):
        assert doc.text == article.text and doc.user_data["article_id"] == article.id
        got = sorted((s.label_, s.start_char, s.end_char, s.text) for key in doc.spans for s in doc.spans[key])
        assert got == final_spans(article)  # these spans sit on token boundaries
        assert sorted((e.label_, e.start_char, e.end_char, e.text) for e in doc.ents) == final_spans(article)


def read_bio(text: str) -> list[list[tuple[str, str]]]:
    """A strict two-column CoNLL BIO reader: token TAB tag, blank line between sentences."""
    sentences, current = [], []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line:
            if current:
                sentences.append(current)
                current = []
            continue
        cols = line.split("\t")
        assert len(cols) == 2, f"line {n}: expected 2 columns, got {cols!r}"
        token, tag = cols
        assert token and not any(ch.isspace() for ch in token), f"line {n}: bad token {token!r}"
        assert tag == "O" or tag[:2] in ("B-", "I-"), f"line {n}: bad tag {tag!r}"
        if token == "-DOCSTART-":
            continue
        if tag.startswith("I-"):  # seqeval-style validity: I-X continues B-X or I-X
            assert current and current[-1][1] in ("B-" + tag[2:], tag), f"line {n}: {tag} after {current[-1:]}"
        current.append((token, tag))
    assert not current, "the file must end with a blank line"
    return sentences


def entities(sentences):
    out, cur = [], None
    for sent in sentences:
        for token, tag in sent:
            if tag.startswith("B-"):
                cur = [tag[2:], [token]]
                out.append(cur)
            elif tag.startswith("I-"):
                cur[1].append(token)
            else:
                cur = None
        cur = None
    return [(label, " ".join(tokens)) for label, tokens in out]


def test_conll_reads_with_a_strict_bio_reader(project, dataset, tmp_path):
    path, _ = write(project, "conll", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.count("-DOCSTART-") == 3
    sentences = read_bio(text)
    assert len(sentences) >= 6
    ents = entities(sentences)
    assert ("CLAIM", "42 people died") in ents and ("SOURCE", "The minister") in ents
    # spaCy's tokenizer splits a flag into its two regional indicators
    assert ("CLAIM", "🇺 🇦 aid arrived on Monday") in ents and ("SOURCE", "Reuters") in ents


def test_doccano_shape_and_round_trip_through_our_importer(project, dataset, tmp_path):
    from annotations.intake import parse_upload, prepare_article

    path, _ = write(project, "doccano", tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:  # doccano's documented seq2seq-with-relations shape
        rec = json.loads(line)
        assert isinstance(rec["text"], str)
        for e in rec["entities"]:
            assert set(e) == {"id", "label", "start_offset", "end_offset"}
            assert all(isinstance(e[k], int) for k in ("id", "start_offset", "end_offset"))
        ids = {e["id"] for e in rec["entities"]}
        for r in rec["relations"]:
            assert set(r) == {"id", "from_id", "to_id", "type"} and r["from_id"] in ids and r["to_id"] in ids
    result = parse_upload("export.jsonl", path.read_bytes())
    assert not result.rejected, result.rejected
    for parsed, article in zip(result.articles, dataset, strict=True):
        prepared = prepare_article(parsed)
        assert prepared.text == article.text
        assert sorted((s.label, s.start, s.end, s.text) for s in prepared.spans) == final_spans(article)
        assert len(prepared.relations) == len(parsed.relations) == article.relations.filter(
            assignment__kind="review").count()


def test_label_studio_shape_and_round_trip_through_our_importer(project, dataset, tmp_path, api_client, manager):
    from annotations.intake import parse_upload, prepare_article

    path, _ = write(project, "label-studio", tmp_path, include_suggestions="true")
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(tasks, list) and len(tasks) == 3
    for t in tasks:  # Label Studio's documented task shape
        assert isinstance(t["data"]["text"], str)
        for ann in t["annotations"]:
            for r in ann["result"]:
                if r["type"] == "relation":
                    assert {"from_id", "to_id", "direction", "labels"} <= set(r)
                else:
                    assert r["from_name"] == "label" and r["to_name"] == "text" and r["type"] == "labels"
                    assert set(r["value"]) == {"start", "end", "text", "labels"}
    assert tasks[2]["predictions"][0]["result"][0]["value"]["text"] == "@home"
    result = parse_upload("export.json", path.read_bytes())
    assert not result.rejected, result.rejected
    for parsed, article in zip(result.articles, dataset, strict=True):
        prepared = prepare_article(parsed)
        assert sorted((s.label, s.start, s.end, s.text) for s in prepared.spans) == final_spans(article)
    # the labelling config names what the tasks use
    api_client.force_authenticate(manager)
    xml = api_client.get(f"/api/projects/{project.id}/export/label-config/").content.decode()
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    used = {lab for t in tasks for a in t["annotations"] for r in a["result"]
            for lab in r.get("value", {}).get("labels", [])}
    assert used <= {lab.get("value") for lab in root.find("Labels")}


def test_utf16_offsets_match_javascript_counting(project, dataset, tmp_path):
    path, _ = write(project, "label-studio", tmp_path, offsets="utf16")
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert all(t["meta"]["offsets"] == "utf16" for t in tasks)
    for t in tasks:
        units = t["data"]["text"].encode("utf-16-le")
        for r in t["annotations"][0]["result"]:
            if r["type"] == "labels":
                v = r["value"]
                assert units[v["start"] * 2:v["end"] * 2].decode("utf-16-le") == v["text"]


def test_csv_has_one_row_per_span_and_no_formula(project, dataset, tmp_path):
    path, counts = write(project, "csv", tmp_path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == counts.spans == 8
    assert {r["text"] for r in rows if r["article_id"] == str(dataset[2].id)} == {"'=SUM(A1) is not a claim",
                                                                                   "the analyst"}

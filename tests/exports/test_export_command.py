"""`manage.py export_dataset`: the same export, offline."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_export_dataset_writes_the_file_and_reports_its_checksum(project, dataset, tmp_path, capsys):
    out = tmp_path / "claims.jsonl"
    config = tmp_path / "config.xml"
    call_command("export_dataset", "--project", "wire-desk", "--format", "jsonl", "-o", str(out),
                 "--label", "CLAIM", "--offsets", "utf16", "--label-config", str(config))
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == [a.id for a in dataset]
    assert all(x["offsets"] == "utf16" and {s["label"] for s in x["spans"]} <= {"CLAIM"} for x in lines)
    printed = capsys.readouterr().out
    assert hashlib.sha256(out.read_bytes()).hexdigest() in printed and "3 articles" in printed
    assert "<Labels" in config.read_text()


def test_spacy_offline(project, dataset, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    out = tmp_path / "train.spacy"
    call_command("export_dataset", "--project", "wire-desk", "--format", "spacy", "-o", str(out))
    assert len(list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))) == 3


@pytest.mark.parametrize("args, message", [
    (["--project", "nope", "--format", "jsonl"], "No project"),
    (["--project", "wire-desk", "--format", "conll", "--offsets", "utf16"], "offsets"),
    (["--project", "wire-desk", "--format", "jsonl", "--date-from", "soon"], "date_from"),
])
def test_bad_arguments_leave_no_file(project, tmp_path, args, message):
    out = tmp_path / "x.out"
    with pytest.raises(CommandError, match=message):
        call_command("export_dataset", *args, "-o", str(out))
    assert list(tmp_path.iterdir()) == []

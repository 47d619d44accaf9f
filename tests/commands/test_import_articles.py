"""The import_articles command: summary of imported, duplicate and rejected; all or nothing unless --partial."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Article, PreannotationJob, Span

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("annotations.services.preannotation.preannotation_jobs_enqueue", lambda job_ids: None)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_articles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_files_and_folders_with_a_summary(project, editor, tmp_path):
    (tmp_path / "a.txt").write_text("First story.\n")
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "b.jsonl").write_text(json.dumps({"text": "Police said two died.", "spans": [
        {"label": "SOURCE", "start": 0, "end": 6, "text": "Police"}]}) + "\n" + json.dumps({"text": "First story."}))
    out, _ = run("--project", "wire-desk", "--user", "editor", str(tmp_path))
    assert "Done: 2 imported, 1 skipped as duplicate, 0 rejected (1 spans, 0 relations)." in out
    assert "duplicate: b.jsonl, line 2" in out
    assert Article.objects.count() == 2 and PreannotationJob.objects.count() == 2
    assert Span.objects.get().assignment.user == editor


def test_rejection_stops_everything_unless_partial(project, tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.csv"
    good.write_text("A good story.")
    bad.write_text("title,body\nx,y\n")
    with pytest.raises(CommandError, match="Nothing imported: 0 imported, 0 skipped as duplicate, 1 rejected"):
        run("--project", "wire-desk", str(good), str(bad))
    assert not Article.objects.exists()
    out, _ = run("--project", "wire-desk", "--partial", str(good), str(bad))
    assert "rejected: bad.csv: CSV without a 'text' column (columns: title, body)" in out
    assert "Done: 1 imported" in out and Article.objects.count() == 1


def test_unknown_project_or_path(project, tmp_path):
    with pytest.raises(CommandError, match="No project"):
        run("--project", "nope", str(tmp_path))
    with pytest.raises(CommandError, match="no such file"):
        run("--project", "wire-desk", str(tmp_path / "missing.txt"))


def test_spans_without_a_user_are_rejected(project, tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps({"text": "Police said.", "spans": [{"label": "SOURCE", "start": 0, "end": 6}]}))
    with pytest.raises(CommandError):
        run("--project", "wire-desk", str(f))

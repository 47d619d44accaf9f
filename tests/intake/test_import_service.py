"""articles_import: duplicates, all-or-nothing, partial imports, imported spans as human work, on-commit jobs."""

import pytest
from django.db import transaction

from annotations.intake import ParsedArticle, ParsedRelation, ParsedSpan, Rejection
from annotations.models import (
    Article,
    ArticleEvent,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    PreannotationJob,
    Relation,
    Span,
)
from annotations.services.intake import articles_import
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """What would be published to the broker (the broker itself is exercised with a real worker elsewhere)."""
    calls = []

    class Producer:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr("annotations.tasks.preannotate_article.app.producer_or_acquire", lambda: Producer())
    monkeypatch.setattr("annotations.tasks.preannotate_article.apply_async",
                        lambda args, **kw: calls.extend([args[0], *(args[1] if len(args) > 1 else [])]))
    monkeypatch.setattr("annotations.tasks.preannotate_article.delay", lambda job_id: calls.append(job_id))
    return calls


def art(text, source="t", **kw):
    return ParsedArticle(text=text, source=source, **kw)


def test_imports_articles_and_queues_one_job_each_after_commit(project, editor, sent,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = articles_import(project=project, items=[art("First text.", "a"), art("Second text.", "b")],
                                 user=editor)
        assert sent == []  # nothing before the commit
    assert report.committed and len(report.imported) == 2
    ids = [r["id"] for r in report.imported]
    jobs = PreannotationJob.objects.filter(article_id__in=ids)
    assert jobs.count() == 2
    assert sorted(sent) == sorted(j.id for j in jobs)
    stored = Article.objects.get(id=ids[0])
    assert stored.text == "First text." and stored.created_by == editor and stored.source_name == "a"
    assert ArticleEvent.objects.filter(article_id__in=ids, kind="article.imported").count() == 2


@pytest.mark.django_db(transaction=True)
def test_rollback_queues_nothing(project, editor, sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        articles_import(project=project, items=[art("Will be rolled back.")], user=editor)
        raise RuntimeError("the request failed after saving")
    assert sent == []
    assert not Article.objects.exists() and not PreannotationJob.objects.exists()


def test_duplicates_are_reported_not_stored_twice(project, editor, sent):
    existing = make_article(project, text="Officials said 42 people died.")
    report = articles_import(project=project, user=editor, items=[
        art("Officials said 42 people died.\r\n", "x.txt"),  # same after normalisation
        art("New one.", "y.txt"), art("New one.  ", "z.txt"),
    ])
    assert report.committed and [r["source"] for r in report.imported] == ["y.txt"]
    assert report.duplicates == [{"source": "z.txt", "duplicate_of": "y.txt"},
                                 {"source": "x.txt", "duplicate_of": f"article {existing.id}"}]
    assert Article.objects.filter(project=project).count() == 2


def test_all_or_nothing_by_default(project, editor, sent):
    report = articles_import(project=project, user=editor,
                             items=[art("Valid text.", "ok.txt"), art(" \n\t", "blank.txt")],
                             rejected=[Rejection("feed.jsonl, line 3", "malformed JSON: x")])
    assert not report.committed and report.imported == []
    assert {r["source"] for r in report.rejected} == {"blank.txt", "feed.jsonl, line 3"}
    assert not Article.objects.exists() and not PreannotationJob.objects.exists()


def test_partial_imports_what_is_valid_and_lists_the_rest(project, editor, sent):
    report = articles_import(project=project, user=editor, partial=True,
                             items=[art("Valid text.", "ok.txt"), art(" \n\t", "blank.txt"),
                                    art("Bad label.", "l", spans=[ParsedSpan("OPINION", 0, 3)])])
    assert report.committed and [r["source"] for r in report.imported] == ["ok.txt"]
    assert report.rejected == [
        {"source": "blank.txt", "reason": "the text is empty"},
        {"source": "l", "reason": "span 1: unknown label 'OPINION' (this project has CLAIM, SOURCE)"},
    ]
    assert Article.objects.count() == 1


def test_imported_spans_are_the_importing_editors_submitted_work(project, editor, sent):
    text = "Cafe\u0301 prices rose 10%, officials said. \U0001f468\u200d\U0001f469\u200d\U0001f467"
    s = text.index("Cafe")
    report = articles_import(project=project, user=editor, items=[art(
        text, "s", spans=[ParsedSpan("CLAIM", s, text.index(","), quote=text[s : text.index(",")]),
                          ParsedSpan("SOURCE", text.index("officials"), text.index("officials") + 9)],
        relations=[ParsedRelation(0, 1, None)])])
    assert report.committed and report.span_count == 2 and report.relation_count == 1
    article = Article.objects.get(id=report.imported[0]["id"])
    assignment = Assignment.objects.get(article=article)
    assert (assignment.user, assignment.kind, assignment.status) == (
        editor, AssignmentKind.ANNOTATION, AssignmentStatus.SUBMITTED)
    spans = list(Span.objects.filter(article=article).order_by("start"))
    assert [(sp.label.name, sp.text, sp.origin, sp.state) for sp in spans] == [
        ("CLAIM", "Café prices rose 10%", "human", "accepted"), ("SOURCE", "officials", "human", "accepted")]
    assert all(article.text[sp.start : sp.end] == sp.text and sp.assignment == assignment for sp in spans)
    rel = Relation.objects.get(article=article)
    assert (rel.from_span, rel.to_span, rel.type.name, rel.assignment) == (spans[0], spans[1], "attributed_to",
                                                                           assignment)


def test_relation_against_the_schema_is_rejected(project, editor, sent):
    report = articles_import(project=project, user=editor, items=[art(
        "Police said two died.", "r", spans=[ParsedSpan("SOURCE", 0, 6), ParsedSpan("CLAIM", 12, 20)],
        relations=[ParsedRelation(0, 1, "attributed_to")])])
    assert not report.committed
    assert report.rejected[0]["reason"] == "relation 1: attributed_to links CLAIM -> SOURCE, not SOURCE -> CLAIM"

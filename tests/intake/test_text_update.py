"""article_text_update: spans follow their quotes (emoji included); ambiguous ones are flagged, not moved."""

import pytest

from annotations.models import (
    ArticleEvent,
    Assignment,
    JobStatus,
    LabelType,
    PreannotationJob,
    Span,
    SuggestionState,
)
from annotations.services.articles import article_text_update
from annotations.services.errors import ConflictError, ValidationError
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("annotations.services.preannotation.preannotation_job_enqueue", lambda job_id: None)


def span(article, label, quote, *, occurrence=0, assignment=None, machine=False):
    start = -1
    for _ in range(occurrence + 1):
        start = article.text.index(quote, start + 1)
    return Span.objects.create(
        article=article, assignment=assignment, label=label, start=start, end=start + len(quote), text=quote,
        origin="machine" if machine else "human", state=SuggestionState.PENDING if machine else "accepted")


def test_spans_follow_their_quotes_across_emoji_and_crlf(project, editor, annotator):
    article = make_article(project, text="Police said two people died. The mayor disputed it.")
    claim = LabelType.objects.get(project=project, name="CLAIM")
    source = LabelType.objects.get(project=project, name="SOURCE")
    layer = Assignment.objects.create(article=article, user=annotator)
    s1 = span(article, claim, "two people died", assignment=layer)
    s2 = span(article, source, "The mayor", assignment=layer)
    m = span(article, claim, "disputed it", machine=True)
    new = ("\U0001f468\u200d\U0001f469\u200d\U0001f467 BREAKING 🇫🇷\r\n"
           "Police said two people died. The mayor disputed it.")
    updated = article_text_update(article=article, text=new, user=editor, expected_version=1)
    assert updated.version == 2 and "\r" not in updated.text
    for s, quote in ((s1, "two people died"), (s2, "The mayor"), (m, "disputed it")):
        s.refresh_from_db()
        assert updated.text[s.start : s.end] == s.text == quote and not s.needs_review
    assert s1.start == updated.text.index("two people died")
    event = ArticleEvent.objects.get(article=article, kind="text.updated")
    assert event.before["text"] == "Police said two people died. The mayor disputed it."
    assert event.after["version"] == 2 and event.actor == editor


def test_ambiguous_quote_is_flagged_never_moved(project, editor, annotator):
    article = make_article(project, text="He said no. She said no. They said no.")
    claim = LabelType.objects.get(project=project, name="CLAIM")
    layer = Assignment.objects.create(article=article, user=annotator)
    second = span(article, claim, "no", occurrence=1, assignment=layer)
    old = (second.start, second.end)
    new = "Then he said no. Later she said no, and no again. They said no."
    article_text_update(article=article, text=new, user=editor, expected_version=1)
    second.refresh_from_db()
    assert second.needs_review is True and second.state == SuggestionState.UNPLACED
    assert (second.start, second.end, second.text) == (*old, "no")  # left where it was, with its quote
    flagged = ArticleEvent.objects.get(kind="text.updated").after["spans_flagged"]
    assert flagged[0]["id"] == second.id and "occurs" in flagged[0]["reason"]


def test_removed_quote_is_flagged(project, editor):
    article = make_article(project, text="Police said two people died in Kyiv.")
    claim = LabelType.objects.get(project=project, name="CLAIM")
    s = span(article, claim, "two people died", machine=True)
    article_text_update(article=article, text="Police said nobody was hurt in Kyiv.", user=editor,
                        expected_version=1)
    s.refresh_from_db()
    assert s.needs_review and s.state == SuggestionState.UNPLACED


def test_an_unplaced_span_is_out_of_every_offset_read_until_its_owner_removes_it(project, editor, annotator,
                                                                                  reviewer, api_client):
    """After an edit that removes a quote: the annotate page lists the span as unplaced (not among
    the spans), its link is gone from the layer, the review layer does not take it, the export
    leaves it out, and its owner removes it through the API."""
    from annotations.selectors.exports import ExportFilters, export_articles
    from annotations.services.spans import relation_create
    from annotations.services.workflow import assignment_next, assignment_submit, review_approve, review_start
    from tests.review.helpers import mark

    article = make_article(project, text="Police said two people died in Kyiv on Monday.")
    slot = assignment_next(user=annotator, project=project)
    claim = mark(slot, "CLAIM", 12, 27)  # two people died
    source = mark(slot, "SOURCE", 0, 6)  # Police
    slot.refresh_from_db()
    relation_create(assignment_id=slot.id, user=annotator, from_span_id=claim.id, to_span_id=source.id,
                    expected_version=slot.version)
    article.refresh_from_db()
    article_text_update(article=article, text="Police said nobody was hurt in Kyiv on Monday.", user=editor,
                        expected_version=article.version)
    api_client.force_authenticate(annotator)
    layer = api_client.get(f"/api/assignments/{slot.id}/").json()
    assert [s["text"] for s in layer["spans"]] == ["Police"]
    assert [(s["id"], s["text"]) for s in layer["unplaced"]] == [(claim.id, "two people died")]
    assert layer["relations"] == []
    assignment_submit(assignment=slot, user=annotator)
    review = review_start(article=article, user=reviewer)
    assert list(Span.objects.filter(assignment=review).values_list("text", flat=True)) == ["Police"]
    review_approve(article=article, user=reviewer)
    [exported] = list(export_articles(project=project, filters=ExportFilters()))
    assert [(s["start"], s["end"], s["text"]) for s in exported["spans"]] == [(0, 6, "Police")]
    assert all(exported["text"][s["start"]:s["end"]] == s["text"] for s in exported["spans"])


def test_stale_version_is_a_conflict_and_changes_nothing(project, editor):
    article = make_article(project, text="Original text.")
    with pytest.raises(ConflictError) as exc:
        article_text_update(article=article, text="New text.", user=editor, expected_version=7)
    assert exc.value.current_version == 1
    article.refresh_from_db()
    assert article.text == "Original text." and article.version == 1


def test_empty_and_duplicate_texts_are_refused(project, editor):
    article = make_article(project, text="Original text.")
    make_article(project, text="Other article.")
    with pytest.raises(ValidationError):
        article_text_update(article=article, text=" \r\n ", user=editor, expected_version=1)
    with pytest.raises(ValidationError, match="Duplicate"):
        article_text_update(article=article, text="Other article.\n", user=editor, expected_version=1)


def test_edit_supersedes_the_queued_job_and_queues_a_fresh_one(project, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(project, text="Original text.", preannotate=True)
    old_job = PreannotationJob.objects.get(article=article)
    with django_capture_on_commit_callbacks(execute=True):
        updated = article_text_update(article=article, text="Edited text.", user=editor, expected_version=1)
    old_job.refresh_from_db()
    assert old_job.status == JobStatus.FAILED and "Superseded" in old_job.error
    fresh = PreannotationJob.objects.exclude(id=old_job.id).get(article=article)
    assert fresh.status == JobStatus.QUEUED and fresh.text_hash == updated.text_hash


def test_an_open_annotate_page_gets_a_conflict_after_a_text_edit(project, editor, annotator, api_client):
    """The page holds the old text and offsets: its next save is refused (409) and it reloads."""
    from annotations.services.workflow import assignment_next

    article = make_article(project, text="Police said two people died in Kyiv.")
    slot = assignment_next(user=annotator, project=project)
    loaded = slot.version
    article.refresh_from_db()
    article_text_update(article=article, text="Update: police said two people died in Kyiv.", user=editor,
                        expected_version=article.version)
    api_client.force_authenticate(annotator)
    r = api_client.post(f"/api/assignments/{slot.id}/spans/", {"label": "CLAIM", "start": 12, "end": 27,
                        "text": "two people died", "expected_version": loaded}, format="json")
    assert r.status_code == 409


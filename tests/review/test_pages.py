"""Review area pages: the queue with filters, the review page (take, drop, take all), the
progress page and its CSV, the timeline; query counts stay flat as the data grows."""

import csv
import io
import itertools

import pytest
from django.test import Client

from annotations.models import ArticleStatus, Assignment, AssignmentKind, Span
from annotations.services.workflow import review_return
from tests.review.helpers import annotate_and_submit

pytestmark = pytest.mark.django_db

TEXT = "Alice said taxes rose. Bob denied it."
_numbers = itertools.count()


@pytest.fixture
def two_per_article(project):
    project.annotators_per_article = 2
    project.save()
    return project


def _pair(project, annotator, annotator2, n, *, differ=True):
    out = []
    for _ in range(n):
        i = next(_numbers)
        a = [("CLAIM", 11, 21), ("SOURCE", 0, 5)]
        b = [("CLAIM", 11, 16), ("SOURCE", 0, 5)] if differ else a
        article, _ = annotate_and_submit(project, {annotator: a, annotator2: b}, text=f"{TEXT} #{i}",
                                         title=f"Story {i}")
        out.append(article)
    return out


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_queue_lists_submitted_articles_with_filters(two_per_article, annotator, annotator2, reviewer):
    differ = _pair(two_per_article, annotator, annotator2, 2, differ=True)
    same = _pair(two_per_article, annotator, annotator2, 1, differ=False)[0]
    client = _client(reviewer)
    html = client.get("/review/").content.decode()
    assert all(f'data-article="{a.id}"' in html for a in [*differ, same])
    html = client.get("/review/?disagreement=1").content.decode()
    assert f'data-article="{same.id}"' not in html and f'data-article="{differ[0].id}"' in html
    html = client.get("/review/?disagreement=0").content.decode()
    assert f'data-article="{same.id}"' in html and f'data-article="{differ[0].id}"' not in html
    html = client.get(f"/review/?annotator={annotator.id}&label=CLAIM&min_count=1").content.decode()
    assert f'data-article="{same.id}"' in html
    html = client.get("/review/?label=CLAIM&min_count=2").content.decode()
    assert "Nothing waiting for review." in html
    html = client.get("/review/?since=2999-01-01").content.decode()
    assert "Nothing waiting for review." in html


def test_queue_pages_through_every_waiting_article(two_per_article, annotator, annotator2, reviewer):
    from annotations.selectors.review import review_queue

    articles = _pair(two_per_article, annotator, annotator2, 5)
    seen = []
    for page in (1, 2, 3):
        rows, _choices, paging = review_queue(user=reviewer, page=page, per_page=2)
        assert paging["total"] == 5 and paging["pages"] == 3 and paging["page"] == page
        seen += [row.article.id for row in rows]
    assert seen == [a.id for a in articles]  # oldest first, each once
    _rows, _choices, paging = review_queue(user=reviewer, page="999", per_page=2)
    assert paging["page"] == 3 and paging["next"] is None and paging["previous"] == 2
    _rows, _choices, paging = review_queue(user=reviewer, page="nope", per_page=2)
    assert paging["page"] == 1
    html = _client(reviewer).get("/review/?disagreement=1&page=1").content.decode()
    assert "Articles 1–5 of 5 (before the label and disagreement filters)." in html


def test_queue_and_review_page_query_counts_do_not_grow(two_per_article, annotator, annotator2, reviewer,
                                                        django_assert_max_num_queries):
    client = _client(reviewer)
    articles = _pair(two_per_article, annotator, annotator2, 3)
    with django_assert_max_num_queries(16):
        assert client.get("/review/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/review/{articles[0].id}/").status_code == 200
    more = _pair(two_per_article, annotator, annotator2, 9)
    with django_assert_max_num_queries(16):
        assert client.get("/review/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/review/{more[-1].id}/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(f"/projects/{two_per_article.id}/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/projects/{two_per_article.id}/progress/").status_code == 200


def test_review_page_merge_span_by_span_then_approve(two_per_article, annotator, annotator2, reviewer):
    (article,) = _pair(two_per_article, annotator, annotator2, 1)
    client = _client(reviewer)
    page = client.get(f"/review/{article.id}/").content.decode()
    assert 'class="differs"' in page and 'class="agreed"' in page
    assert client.post(f"/review/{article.id}/", {"action": "start"}).status_code == 302
    review = Assignment.objects.get(article=article, kind=AssignmentKind.REVIEW)
    # the agreed span (SOURCE 0-5) is in the review layer from the start
    assert list(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 5)]
    theirs = Span.objects.get(assignment__user=annotator2, article=article, label__name="CLAIM")
    client.post(f"/review/{article.id}/", {"action": "take", "span": theirs.id})
    assert sorted(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 5), (11, 16)]
    # stale version from an old page: refused, nothing changes
    review.refresh_from_db()
    mine = Span.objects.get(assignment__user=annotator, article=article, label__name="CLAIM")
    client.post(f"/review/{article.id}/", {"action": "take", "span": mine.id, "version": review.version - 1})
    assert Span.objects.filter(assignment=review).count() == 2
    taken = Span.objects.get(assignment=review, start=11)
    client.post(f"/review/{article.id}/", {"action": "drop", "span": taken.id})
    client.post(f"/review/{article.id}/", {"action": "take", "span": mine.id, "version": review.version + 1})
    assert sorted(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 5), (11, 21)]
    client.post(f"/review/{article.id}/", {"action": "approve"})
    client.post(f"/review/{article.id}/", {"action": "approve"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.APPROVED
    assert article.reviews.count() == 1
    kinds = list(article.events.values_list("kind", flat=True))
    # 4 by the annotators, then in the review layer: the seeded agreed span and two takes
    assert kinds.count("span.created") == 4 + 3 and kinds.count("span.deleted") == 1


def test_take_all_replaces_the_review_layer(two_per_article, annotator, annotator2, reviewer):
    (article,) = _pair(two_per_article, annotator, annotator2, 1)
    slot = Assignment.objects.get(article=article, user=annotator2)
    client = _client(reviewer)
    client.post(f"/review/{article.id}/", {"action": "take_all", "assignment": slot.id})
    review = Assignment.objects.get(article=article, kind=AssignmentKind.REVIEW)
    assert sorted(Span.objects.filter(assignment=review).values_list("start", "end", "label__name")) == [
        (0, 5, "SOURCE"), (11, 16, "CLAIM")]


def test_returned_comment_and_timeline(project, annotator, reviewer):
    article, _ = annotate_and_submit(project, {annotator: [("CLAIM", 11, 21)]}, text=TEXT)
    review_return(article=article, user=reviewer, comment="Bob's denial is a claim too.")
    html = _client(reviewer).get(f"/articles/{article.id}/timeline/").content.decode()
    assert "review.returned" in html and "Bob&#x27;s denial is a claim too." in html
    assert "Returned" in html
    review_page = _client(reviewer).get(f"/review/{article.id}/?status=returned").content.decode()
    assert "Bob&#x27;s denial is a claim too." in review_page


def test_progress_counts_and_csv(two_per_article, annotator, annotator2, editor):
    _pair(two_per_article, annotator, annotator2, 2)
    client = _client(editor)
    html = client.get(f"/projects/{two_per_article.id}/progress/").content.decode()
    assert "Submitted" in html
    response = client.get(f"/projects/{two_per_article.id}/progress/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert ["status", "submitted", "articles", "2"] in rows
    assert ["annotator", "annotator", "submitted", "2"] in rows
    assert ["label", "CLAIM", "annotated", "4"] in rows
    api = client.get(f"/api/projects/{two_per_article.id}/progress/").json()
    assert {"status": "submitted", "label": "Submitted", "count": 2} in api["statuses"]


def test_project_page_lists_the_lowest_agreement_first(two_per_article, annotator, annotator2, reviewer):
    agree, _ = annotate_and_submit(two_per_article, {annotator: [("CLAIM", 11, 21)], annotator2: [("CLAIM", 11, 21)]},
                                   text=f"{TEXT} agree", title="They agree")
    differ, _ = annotate_and_submit(two_per_article, {annotator: [("CLAIM", 11, 21)],
                                                      annotator2: [("SOURCE", 23, 26)]},
                                    text=f"{TEXT} differ", title="They differ <b>")
    html = _client(reviewer).get(f"/projects/{two_per_article.id}/").content.decode()
    table = html[html.index('id="article-agreement"'):]
    assert table.index(f"/review/{differ.id}/") < table.index(f"/review/{agree.id}/")
    assert "They differ &lt;b&gt;" in table and "2 compared articles." in html


def test_review_page_compares_links_and_merges_them_one_by_one(two_per_article, annotator, annotator2, reviewer):
    """Alice said taxes rose. Bob denied it: both annotators mark the same spans, but link the claim
    to different sources. The Links table shows both as differences; take and drop work per link."""
    from annotations.models import Relation
    from annotations.services.spans import relation_create
    from annotations.services.workflow import assignment_next, assignment_submit
    from tests.review.helpers import mark
    from tests.support.factories import make_article

    article = make_article(two_per_article, text=TEXT, title="Links")
    for user, source in ((annotator, (0, 5)), (annotator2, (23, 26))):
        slot = assignment_next(user=user, project=two_per_article)
        claim = mark(slot, "CLAIM", 11, 21)
        sources = {se: mark(slot, "SOURCE", *se) for se in ((0, 5), (23, 26))}
        slot.refresh_from_db()
        relation_create(assignment_id=slot.id, user=user, from_span_id=claim.id, to_span_id=sources[source].id,
                        expected_version=slot.version)
        assignment_submit(assignment=slot, user=user)
    client = _client(reviewer)
    client.post(f"/review/{article.id}/", {"action": "start"})
    html = client.get(f"/review/{article.id}/").content.decode()
    table = html[html.index('id="links-table"'):html.index("</table>", html.index('id="links-table"'))]
    assert table.count('class="differs"') == 2 and "Alice" in table and "Bob" in table
    assert table.count('value="take_link"') == 2  # neither is in the final version yet
    agreement = html[html.index('id="article-agreement"'):]
    agreement = agreement[:agreement.index("</table>")]
    assert "<td>0.00</td><td>0.00</td></tr>" in agreement  # links F1: Alice vs Bob

    from annotations.models import AssignmentKind

    review = Assignment.objects.get(article=article, kind=AssignmentKind.REVIEW)
    to_alice = Relation.objects.get(assignment__user=annotator, article=article)
    r = client.post(f"/review/{article.id}/", {"action": "take_link", "relation": to_alice.id,
                                               "version": review.version})
    assert r.status_code == 302
    final = Relation.objects.select_related("to_span").get(assignment=review)
    assert (final.to_span.start, final.to_span.end) == (0, 5)
    review.refresh_from_db()
    client.post(f"/review/{article.id}/", {"action": "drop_link", "relation": final.id, "version": review.version})
    assert not Relation.objects.filter(assignment=review).exists()
    assert Span.objects.filter(assignment=review).count() == 3  # the spans stay
    # taking a span brings its own links only: the dropped "taxes rose -> Alice" stays dropped
    other = Span.objects.create(article=article, assignment=Assignment.objects.get(article=article, user=annotator),
                                label=Span.objects.filter(assignment=review).first().label, start=27, end=36,
                                text="denied it")
    review.refresh_from_db()
    client.post(f"/review/{article.id}/", {"action": "take", "span": other.id, "version": review.version})
    assert Span.objects.filter(assignment=review).count() == 4
    assert not Relation.objects.filter(assignment=review).exists()


def test_approve_every_article_where_the_annotators_agree(two_per_article, annotator, annotator2, reviewer):
    """Bulk approval: agreeing articles (same spans, same links) are approved with their common
    layer as the final version; articles whose spans or only whose links differ stay in the queue."""
    from annotations.models import ArticleStatus, Relation

    spans = [("CLAIM", 11, 21), ("SOURCE", 0, 5), ("SOURCE", 23, 26)]
    agree, _ = annotate_and_submit(two_per_article, {annotator: spans, annotator2: spans}, text=f"{TEXT} 1",
                                   links={annotator: [(0, 1)], annotator2: [(0, 1)]})
    links_differ, _ = annotate_and_submit(two_per_article, {annotator: spans, annotator2: spans}, text=f"{TEXT} 2",
                                          links={annotator: [(0, 1)], annotator2: [(0, 2)]})
    spans_differ = _pair(two_per_article, annotator, annotator2, 1, differ=True)[0]
    client = _client(reviewer)
    html = client.get("/review/").content.decode()
    assert "Approve the 1 article on this page where the annotators agree" in html
    assert html.count('name="article"') == 1  # the link difference counts as a disagreement
    r = client.post("/review/approve-agreed/", {"article": [agree.id, links_differ.id, spans_differ.id],
                                                "query": "project=" + str(two_per_article.id)}, follow=True)
    page = r.content.decode()
    assert "Approved 1 article(s)" in page and "links differ" in page and "spans differ" in page
    for article, status in ((agree, ArticleStatus.APPROVED), (links_differ, ArticleStatus.SUBMITTED),
                            (spans_differ, ArticleStatus.SUBMITTED)):
        article.refresh_from_db()
        assert article.status == status
    review = Assignment.objects.get(article=agree, kind=AssignmentKind.REVIEW)
    assert sorted(Span.objects.filter(assignment=review).values_list("start", "end")) == [(0, 5), (11, 21), (23, 26)]
    assert Relation.objects.filter(assignment=review).count() == 1
    # annotators cannot use it
    other = annotate_and_submit(two_per_article, {annotator: spans, annotator2: spans}, text=f"{TEXT} 3")[0]
    _client(annotator).post("/review/approve-agreed/", {"article": [other.id]})
    other.refresh_from_db()
    assert other.status == ArticleStatus.SUBMITTED


def test_review_queue_is_403_for_people_who_review_nowhere(project, annotator, editor, reviewer):
    assert _client(annotator).get("/review/").status_code == 403
    assert _client(editor).get("/review/").status_code == 403
    assert _client(reviewer).get("/review/").status_code == 200

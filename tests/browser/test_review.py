"""A reviewer in a real Chromium: merges two annotators' spans on the review page, approves the
article (a double click changes the state once), returns another with a comment that the annotator
then sees. The pages run under the CSP with no violation. Takes the README screenshots."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotations.models import ArticleEvent, ArticleStatus, Assignment, AssignmentKind, Relation, Review, Span
from tests.browser.conftest import login
from tests.review.helpers import annotate_and_submit
from tests.support.browser_watch import BrowserWatch

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TEXT = "Alice said taxes rose. Bob denied it."


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def watch(page):
    w = BrowserWatch(page)
    yield w
    w.close()


@pytest.fixture
def two_per_article(project):
    project.annotators_per_article = 2
    project.save()
    return project


def test_reviewer_merges_approves_and_returns(page, context, live_server, watch, two_per_article, annotator,
                                              annotator2, reviewer):
    merged, _ = annotate_and_submit(
        two_per_article,
        {annotator: [("CLAIM", 11, 21), ("SOURCE", 0, 5)],
         annotator2: [("SOURCE", 0, 5), ("SOURCE", 23, 26), ("CLAIM", 27, 36)]},
        text=TEXT, title="Taxes story",
        links={annotator: [(0, 1)], annotator2: [(2, 1)]},  # taxes rose -> Alice; denied it -> Bob
    )
    returned, slots = annotate_and_submit(
        two_per_article, {annotator: [("CLAIM", 0, 10)], annotator2: [("CLAIM", 0, 10)]},
        text="Police said the road was closed.", title="Road story",
    )

    login(page, live_server, "reviewer", next_path="/review/")
    watch.check_page()
    queue = page.locator("#review-queue")
    assert queue.locator(f'tr[data-article="{merged.id}"]').get_by_text("differ").is_visible()
    queue.locator(f'tr[data-article="{merged.id}"]').get_by_role("link", name="Review").click()
    page.wait_for_load_state("load")
    watch.check_page()

    page.locator("#start-review").click()
    page.wait_for_load_state("load")
    assert page.locator("#article-status").inner_text() == "In review"
    # the span both annotators marked is already in the final version; the others differ
    assert page.locator('tr[data-key="0-5-SOURCE"]').get_attribute("class") == "agreed"
    assert page.locator('tr[data-key="11-21-CLAIM"]').get_attribute("class") == "differs"
    # merge span by span: the claim from annotator, the source "Bob" from annotator2
    page.locator('tr[data-key="11-21-CLAIM"] button.take').click()
    page.wait_for_load_state("load")
    page.locator('tr[data-key="23-26-SOURCE"] button.take').click()
    page.wait_for_load_state("load")
    assert page.locator('tr[data-key="23-26-SOURCE"] td.final-cell').inner_text() == "✓"
    assert page.locator("#final-text mark").count() == 3
    # the links: "taxes rose -> Alice" came with the claim; take "denied it -> Bob" link by link
    links = page.locator("#links-table tbody tr")
    assert links.count() == 2
    taken = links.filter(has_text="taxes rose")
    assert taken.locator("td.final-cell").inner_text() == "✓"
    links.filter(has_text="denied it").locator("button.take").click()
    page.wait_for_load_state("load")
    assert page.locator("#links-table td.final-cell").all_inner_texts() == ["✓", "✓"]
    assert page.locator("#final-text mark").count() == 4  # the link brought its claim
    watch.check_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "review.png"), full_page=True)

    review = Assignment.objects.get(article=merged, kind=AssignmentKind.REVIEW)
    final = sorted(Span.objects.filter(assignment=review).values_list("start", "end", "label__name",
                                                                       "created_by__username"))
    assert final == [(0, 5, "SOURCE", "annotator"), (11, 21, "CLAIM", "annotator"),
                     (23, 26, "SOURCE", "annotator2"), (27, 36, "CLAIM", "annotator2")]
    assert sorted(Relation.objects.filter(assignment=review).values_list("from_span__start", "to_span__start")) == [
        (11, 0), (27, 23)]

    page.locator("#approve").dblclick()
    page.wait_for_load_state("load")
    page.get_by_text("Approved.").first.wait_for()
    merged.refresh_from_db()
    assert merged.status == ArticleStatus.APPROVED
    assert Review.objects.filter(article=merged).count() == 1
    assert ArticleEvent.objects.filter(article=merged, kind="status", after__status="approved").count() == 1

    # return the other article with a comment
    page.goto(f"{live_server.url}/review/{returned.id}/")
    page.locator("#return-comment").fill("The police statement is the claim, not the attribution.")
    page.locator("#return").click()
    page.wait_for_load_state("load")
    assert page.locator("#article-status").inner_text() == "Returned"
    watch.check_page()
    slot = slots[annotator]
    slot.refresh_from_db()
    assert slot.status == "returned"

    # the annotator sees the comment
    other = context.browser.new_context()
    try:
        annotator_page = other.new_page()
        login(annotator_page, live_server, "annotator", next_path=f"/articles/{returned.id}/timeline/")
        annotator_page.goto(f"{live_server.url}/articles/{returned.id}/timeline/")
        assert annotator_page.get_by_text("The police statement is the claim, not the attribution.").first.is_visible()
    finally:
        other.close()
    watch.assert_clean()


def test_project_page_chart_screenshot(page, live_server, watch, two_per_article, annotator, annotator2, reviewer):
    now = timezone.now()
    for i in range(6):
        a = [("CLAIM", 11, 21), ("SOURCE", 0, 5)]
        b = [("CLAIM", 11, 21 if i % 2 else 16), ("SOURCE", 0, 5)] + ([("SOURCE", 23, 26)] if i % 3 == 0 else [])
        article, slots = annotate_and_submit(two_per_article, {annotator: a, annotator2: b},
                                             text=f"{TEXT} ({i})", title=f"Story {i}")
        # spread the work over three weeks so that the chart has a shape (display data only)
        Assignment.objects.filter(article=article).update(submitted_at=now - timedelta(weeks=2 - i // 2))
    login(page, live_server, "reviewer", next_path=f"/projects/{two_per_article.id}/")
    watch.check_page()
    assert page.locator("#agreement").get_by_text("annotator / annotator2").is_visible()
    assert page.locator("#chart-throughput polyline").count() == 2
    assert page.locator("#chart-agreement circle").count() == 6
    page.screenshot(path=str(SHOTS / "project.png"), full_page=True)
    watch.assert_clean()

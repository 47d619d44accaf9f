"""The annotate page end to end in Chromium against the live server and the real database."""

import re
from pathlib import Path

from playwright.sync_api import expect

from annotations.models import Assignment, Relation, Span
from tests.browser.annotate_helpers import drag_select, span_el, wait_saved
from tests.browser.conftest import login
from tests.support.factories import make_article
from tests.support.layers import find, make_suggestion

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RAW = ("Police in Kyiv said 👨‍👩‍👧 families left Zoë’s village 🇺🇦 on Monday.\r\n"
       "The claim was repeated by Мария Иванова, a local official.\r\n"
       "Nobody 🎉 confirmed the numbers, according to Reuters.")


def test_annotator_full_flow(page, live_server, project, annotator):
    article = make_article(project, text=RAW, title="Flood report")
    text = article.text
    assert "\r" not in text
    accept_me = make_suggestion(article, "SOURCE", *find(text, "Reuters"), confidence=0.93)
    reject_me = make_suggestion(article, "CLAIM", *find(text, "Nobody 🎉 confirmed the numbers"), confidence=0.61)

    login(page, live_server, "annotator")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()

    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    region = page.get_by_role("region", name="Article text")
    expect(region).to_contain_text("Мария Иванова")
    expect(page.get_by_role("status")).to_have_text("Saved")

    # CLAIM: drag from inside "families" to inside "village": snaps to whole words.
    drag_select(page, "milies left Zoë’s villa")
    page.keyboard.press("1")
    claim = span_el(page, "CLAIM", "families left Zoë’s village")
    expect(claim).to_be_visible()
    wait_saved(page)
    # SOURCE with the button, after a non-Latin name
    drag_select(page, "Мария Иванова")
    page.get_by_role("button", name="SOURCE", exact=True).click()
    source = span_el(page, "SOURCE", "Мария Иванова")
    expect(source).to_be_visible()
    wait_saved(page)
    # exact characters with Shift, right after an emoji
    drag_select(page, "Kyiv said", shift=True)
    page.keyboard.press("2")
    expect(span_el(page, "SOURCE", "Kyiv said")).to_be_visible()
    wait_saved(page)

    # link CLAIM -> SOURCE
    claim.click()
    page.keyboard.press("l")
    source.click()
    expect(page.locator("#link-list li")).to_have_count(1)
    expect(page.locator("#link-list")).to_contain_text("attributed_to")
    wait_saved(page)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    claim.click()
    page.screenshot(path=str(SCREENSHOTS / "annotate.png"))

    # suggestions: dashed, confidence on hover; A accepts, R rejects
    sugg = page.locator(f'[data-suggestion="{accept_me.id}"]')
    expect(sugg).to_have_attribute("title", re.compile(r"confidence 0\.93"))
    sugg.focus()
    page.keyboard.press("a")
    expect(span_el(page, "SOURCE", "Reuters")).not_to_have_attribute("data-suggestion", re.compile(".*"))
    wait_saved(page)
    page.locator(f'[data-suggestion="{reject_me.id}"]').focus()
    page.keyboard.press("r")
    expect(page.locator("[data-suggestion]")).to_have_count(0)
    wait_saved(page)

    # delete a span with the Delete key
    span_el(page, "SOURCE", "Kyiv said").focus()
    page.keyboard.press("Delete")
    expect(span_el(page, "SOURCE", "Kyiv said")).to_have_count(0)
    wait_saved(page)

    # reload: the state is persisted on the server
    page.reload()
    expect(span_el(page, "CLAIM", "families left Zoë’s village")).to_be_visible()
    expect(span_el(page, "SOURCE", "Мария Иванова")).to_be_visible()
    expect(span_el(page, "SOURCE", "Reuters")).to_be_visible()
    expect(page.locator("#link-list li")).to_have_count(1)
    expect(page.locator("[data-suggestion]")).to_have_count(0)
    expect(span_el(page, "SOURCE", "Kyiv said")).to_have_count(0)

    assignment = Assignment.objects.get(user=annotator, article=article)
    stored = {s.text: (s.start, s.end, s.label.name, s.state) for s in Span.objects.filter(assignment=assignment)}
    for quote, (start, end, _label, _state) in stored.items():
        assert article.text[start:end] == quote
    assert stored["families left Zoë’s village"][2] == "CLAIM"
    assert stored["Мария Иванова"][2] == "SOURCE"
    assert stored["Nobody 🎉 confirmed the numbers"][3] == "rejected"
    assert Relation.objects.filter(assignment=assignment).count() == 1
    # the data attributes are code points, like the server
    start, end = stored["Мария Иванова"][:2]
    expect(source).to_have_attribute("data-start", str(start))
    expect(source).to_have_attribute("data-end", str(end))

    # submit: read-only from now on
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("read-only")
    expect(page.get_by_role("button", name="CLAIM", exact=True)).to_be_disabled()
    assignment.refresh_from_db()
    assert assignment.status == "submitted"
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Read-only")
    span_el(page, "CLAIM", "families left Zoë’s village").focus()
    page.keyboard.press("Delete")
    expect(span_el(page, "CLAIM", "families left Zoë’s village")).to_be_visible()

    # My queue shows it submitted, with its counts, and what is still open
    make_article(project, text="Another article waiting in the pool.", title="Council budget")
    page.get_by_role("link", name="My queue").first.click()
    row = page.get_by_role("row", name=re.compile("Flood report"))
    expect(row).to_contain_text("Submitted")
    expect(row.get_by_role("cell").nth(4)).to_have_text("3")  # spans
    expect(row.get_by_role("cell").nth(5)).to_have_text("1")  # links
    expect(page.get_by_role("row", name=re.compile("Council budget"))).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))


def test_undo_restores_deleted_span_and_its_link(page, live_server, project, annotator):
    article = make_article(project, text="The mayor said taxes will fall, according to the town hall.")
    login(page, live_server, "annotator")
    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    drag_select(page, "taxes will fall")
    page.keyboard.press("1")
    wait_saved(page)
    drag_select(page, "mayor")
    page.keyboard.press("2")
    wait_saved(page)
    span_el(page, "CLAIM", "taxes will fall").click()
    page.keyboard.press("l")
    span_el(page, "SOURCE", "mayor").click()
    expect(page.locator("#link-list li")).to_have_count(1)
    wait_saved(page)
    span_el(page, "SOURCE", "mayor").focus()
    page.keyboard.press("Delete")
    expect(page.locator("#link-list li")).to_have_count(0)
    wait_saved(page)
    page.keyboard.press("Control+z")
    expect(span_el(page, "SOURCE", "mayor")).to_be_visible()
    expect(page.locator("#link-list li")).to_have_count(1)
    wait_saved(page)
    page.reload()
    expect(page.locator("#link-list li")).to_have_count(1)
    assignment = Assignment.objects.get(article=article)
    assert sorted(Span.objects.filter(assignment=assignment).values_list("text", flat=True)) == [
        "mayor", "taxes will fall"]
    rel = Relation.objects.get(assignment=assignment)
    assert (rel.from_span.text, rel.to_span.text) == ("taxes will fall", "mayor")
    # undo a label change and an accepted suggestion too
    span_el(page, "CLAIM", "taxes will fall").focus()
    page.keyboard.press("2")
    expect(span_el(page, "SOURCE", "taxes will fall")).to_be_visible()
    wait_saved(page)
    page.keyboard.press("Control+z")
    expect(span_el(page, "CLAIM", "taxes will fall")).to_be_visible()
    wait_saved(page)
    assert Span.objects.get(assignment=assignment, text="taxes will fall").label.name == "CLAIM"


def test_overlapping_and_nested_spans_are_distinct_and_clickable(page, live_server, project, annotator):
    make_article(project, text="Officials in the capital city said the river would rise again.")
    login(page, live_server, "annotator")
    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    drag_select(page, "the capital city said the river would rise")
    page.keyboard.press("1")
    wait_saved(page)
    drag_select(page, "Officials in the capital city")
    page.keyboard.press("2")
    wait_saved(page)
    drag_select(page, "capital")
    page.keyboard.press("2")
    wait_saved(page)
    outer = span_el(page, "CLAIM", "the capital city said the river would rise")
    crossing = span_el(page, "SOURCE", "Officials in the capital city")
    inner = span_el(page, "SOURCE", "capital")
    for el in (outer, crossing, inner):
        expect(el).to_be_visible()
        el.click()
        expect(page.locator("#selected-info")).to_contain_text(el.get_attribute("aria-label"))
    # Tab moves from span to span
    inner.focus()
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused and focused.startswith(("CLAIM", "SOURCE"))


def test_accept_all_above_threshold_in_one_step(page, live_server, project, annotator):
    from tests.support.layers import make_suggested_relation

    article = make_article(project, text="Analysts said 🇬🇧 growth would slow, the central bank warned on Friday.")
    text = article.text
    claim = make_suggestion(article, "CLAIM", *find(text, "growth would slow"), confidence=0.91)
    source = make_suggestion(article, "SOURCE", *find(text, "the central bank"), confidence=0.87)
    weak = make_suggestion(article, "SOURCE", *find(text, "Analysts"), confidence=0.42)
    make_suggested_relation(article, claim, source, confidence=0.9)
    login(page, live_server, "annotator")
    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    expect(page.locator("[data-suggestion]")).to_have_count(3)
    expect(page.locator("#link-list")).to_contain_text("suggested")
    page.get_by_label("Accept suggestions with confidence ≥").fill("0.8")
    page.get_by_role("button", name="Accept all above").click()
    expect(page.locator("[data-suggestion]")).to_have_count(1)
    expect(page.locator(f'[data-suggestion="{weak.id}"]')).to_have_count(1)
    expect(span_el(page, "CLAIM", "growth would slow")).to_be_visible()
    expect(span_el(page, "SOURCE", "the central bank")).to_be_visible()
    expect(page.locator("#link-list li")).to_have_count(1)
    expect(page.locator("#link-list")).to_contain_text("attributed_to")
    wait_saved(page)
    assignment = Assignment.objects.get(article=article)
    accepted = Span.objects.filter(assignment=assignment, state="accepted")
    assert {s.from_suggestion_id for s in accepted} == {claim.id, source.id}
    assert all(s.origin == "machine" and s.confidence for s in accepted)
    assert Relation.objects.filter(assignment=assignment).count() == 1
    # one undo puts them back to pending (the focus is in the threshold field: use the button)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("[data-suggestion]")).to_have_count(3)
    wait_saved(page)
    page.reload()
    expect(page.locator("[data-suggestion]")).to_have_count(3)
    assert not Span.objects.filter(assignment=assignment).exists()


def test_a_suggested_link_is_rejected_on_its_own_and_undone(page, live_server, project, annotator):
    from annotations.models import RelationDecision
    from tests.support.layers import make_suggested_relation

    article = make_article(project, text="Officials said 42 people 😢 died, the Red Cross said on Friday.")
    text = article.text
    claim = make_suggestion(article, "CLAIM", *find(text, "42 people 😢 died"), confidence=0.9)
    source = make_suggestion(article, "SOURCE", *find(text, "the Red Cross"), confidence=0.9)
    rel = make_suggested_relation(article, claim, source, confidence=0.6)
    login(page, live_server, "annotator")
    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    expect(page.locator("#link-list li")).to_have_count(1)
    page.get_by_role("button", name=re.compile(r"^Reject suggested link")).click()
    expect(page.locator("#link-list li")).to_have_count(0)
    expect(page.locator("[data-suggestion]")).to_have_count(2)  # both spans are still offered
    wait_saved(page)
    assignment = Assignment.objects.get(article=article)
    assert RelationDecision.objects.filter(assignment=assignment, suggestion=rel, state="rejected").exists()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#link-list")).to_contain_text("suggested")
    wait_saved(page)
    assert not RelationDecision.objects.filter(assignment=assignment).exists()
    page.get_by_role("button", name=re.compile(r"^Reject suggested link")).click()
    wait_saved(page)
    page.reload()
    expect(page.locator("[data-suggestion]")).to_have_count(2)
    expect(page.locator("#link-list li")).to_have_count(0)  # still rejected after a reload


def test_spans_unplaced_by_a_text_edit_are_listed_and_removed(page, live_server, project, annotator, editor):
    from annotations.services.articles import article_text_update
    from annotations.services.workflow import assignment_next
    from tests.review.helpers import mark

    article = make_article(project, text="Police said two people 😢 died in Kyiv on Monday.")
    slot = assignment_next(user=annotator, project=project)
    gone = mark(slot, "CLAIM", *find(article.text, "two people 😢 died"))
    mark(slot, "SOURCE", *find(article.text, "Police"))
    article.refresh_from_db()
    article_text_update(article=article, text="Police said <b>nobody</b> was hurt in Kyiv on Monday.", user=editor,
                        expected_version=article.version)
    login(page, live_server, "annotator")
    page.goto(f"{live_server.url}/annotate/{slot.id}/")
    box = page.locator("#unplaced")
    expect(box).to_be_visible()
    expect(box.locator("li")).to_have_count(1)
    expect(box).to_contain_text("CLAIM “two people 😢 died”")
    expect(span_el(page, "SOURCE", "Police")).to_be_visible()
    box.get_by_role("button", name=re.compile("^Remove unplaced")).click()
    expect(box).to_be_hidden()
    wait_saved(page)
    assert not Span.objects.filter(id=gone.id).exists()
    page.reload()
    expect(page.locator("#unplaced")).to_be_hidden()

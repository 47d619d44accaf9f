"""The annotate page under pressure: a concurrent edit (409), hostile content, a strict CSP,
keyboard-only selection."""

import re

from playwright.sync_api import expect

from annotations.models import Assignment, Span
from tests.browser.annotate_helpers import drag_select, span_el, wait_saved
from tests.browser.conftest import login
from tests.support.factories import make_article


def open_next(page, live_server, username):
    login(page, live_server, username)
    page.get_by_role("button", name="Next article").first.click()
    page.wait_for_url(re.compile(r"/annotate/\d+/$"))
    expect(page.get_by_role("status")).to_have_text("Saved")


def test_conflict_between_two_browser_contexts(browser, live_server, project, annotator):
    article = make_article(project, text="The governor said schools will reopen, the ministry confirmed.")
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    try:
        a, b = ctx_a.new_page(), ctx_b.new_page()
        open_next(a, live_server, "annotator")
        open_next(b, live_server, "annotator")  # the same assignment, open in a second browser
        drag_select(a, "schools will reopen")
        a.keyboard.press("1")
        wait_saved(a)
        # B still holds the old version: its save is refused, it says so and shows A's version
        drag_select(b, "governor")
        b.keyboard.press("2")
        status = b.get_by_role("status")
        expect(status).to_have_attribute("data-state", "conflict")
        expect(status).to_contain_text("Conflict")
        alert = b.get_by_role("alert")
        expect(alert).to_contain_text("Someone else changed this article")
        expect(alert).to_contain_text("governor")  # B's unsaved work is still described on screen
        expect(span_el(b, "CLAIM", "schools will reopen")).to_be_visible()
        expect(span_el(b, "SOURCE", "governor")).to_have_count(0)
        assignment = Assignment.objects.get(article=article)
        assert list(Span.objects.filter(assignment=assignment).values_list("text", flat=True)) == [
            "schools will reopen"]
        # after the reload B works on the current version normally
        drag_select(b, "governor")
        b.keyboard.press("2")
        wait_saved(b)
        assert sorted(Span.objects.filter(assignment=assignment).values_list("text", flat=True)) == [
            "governor", "schools will reopen"]
    finally:
        ctx_a.close()
        ctx_b.close()


HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_TEXT = ('Officials said <script>window.__pwned=2</script> the <img src=x onerror="window.__pwned=3"> '
                'bridge is safe.\n<b>bold</b> & "quoted" </textarea></script>')


def test_hostile_title_and_text_are_shown_as_text(page, live_server, project, annotator):
    article = make_article(project, text=HOSTILE_TEXT, title=HOSTILE_TITLE)
    open_next(page, live_server, "annotator")
    assert page.evaluate("() => window.__pwned") is None
    expect(page.get_by_role("heading", name=HOSTILE_TITLE)).to_be_visible()
    region = page.get_by_role("region", name="Article text")
    assert region.text_content() == article.text
    assert page.locator("#article-text img, #article-text script, #article-text b").count() == 0
    drag_select(page, "<script>window.__pwned=2</script>", shift=True)
    page.keyboard.press("1")
    expect(span_el(page, "CLAIM", "<script>window.__pwned=2</script>")).to_be_visible()
    wait_saved(page)
    page.reload()
    expect(span_el(page, "CLAIM", "<script>window.__pwned=2</script>")).to_be_visible()
    assert page.evaluate("() => window.__pwned") is None
    assert Span.objects.get(assignment__article=article).text == "<script>window.__pwned=2</script>"
    page.goto(f"{live_server.url}/queue/")
    expect(page.get_by_role("link", name=HOSTILE_TITLE)).to_be_visible()
    assert page.evaluate("() => window.__pwned") is None


STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def test_page_works_under_a_strict_csp(page, live_server, project, annotator):
    """No inline script, handler or style attribute: the page works with script/style-src 'self'."""
    make_article(project, text="The agency said inflation eased in March, official data showed.")
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    def add_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(r".*/annotate/\d+/$"), add_csp)
    open_next(page, live_server, "annotator")
    drag_select(page, "inflation eased")
    page.keyboard.press("1")
    expect(span_el(page, "CLAIM", "inflation eased")).to_be_visible()
    wait_saved(page)
    page.keyboard.press("Escape")  # unselect: the span shows its label colour
    mark = page.evaluate("() => getComputedStyle(document.querySelector('.nr-h[data-label=CLAIM]')).backgroundColor")
    assert mark == "rgb(255, 204, 128)"
    # label colours reached the marks through the constructed stylesheet
    colour = page.evaluate(
        "() => getComputedStyle(document.querySelector('.nr-label-btn .nr-swatch')).backgroundColor")
    assert colour == "rgb(255, 204, 128)"
    assert violations == []
    html = page.content()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>(?!\s*</script>)", html.split('id="layer-data"')[0])
    assert not re.search(r"\son[a-z]+=", html)


def test_keyboard_only_selection_creates_a_span(page, live_server, project, annotator):
    make_article(project, text="Witnesses say the fire started at noon.")
    open_next(page, live_server, "annotator")
    region = page.get_by_role("region", name="Article text")
    region.focus()
    page.keyboard.press("ArrowRight")        # caret to the start of the first word
    page.keyboard.press("Shift+ArrowRight")  # select "Witnesses"
    assert page.evaluate("() => window.getSelection().toString()") == "Witnesses"
    page.keyboard.press("2")
    expect(span_el(page, "SOURCE", "Witnesses")).to_be_visible()
    wait_saved(page)
    # the caret continues: skip a word, select five
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("() => window.getSelection().toString()") == "the fire started at noon"
    page.keyboard.press("1")
    expect(span_el(page, "CLAIM", "the fire started at noon")).to_be_visible()
    wait_saved(page)
    # Tab to the spans; change a label with its hotkey and back
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.label") == "SOURCE"
    page.keyboard.press("1")
    expect(span_el(page, "CLAIM", "Witnesses")).to_be_visible()
    page.keyboard.press("2")
    expect(span_el(page, "SOURCE", "Witnesses")).to_be_visible()
    wait_saved(page)
    # link from the keyboard: Tab to the CLAIM, L, Shift+Tab back to the SOURCE, Enter
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.label") == "CLAIM"
    page.keyboard.press("l")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#link-list li")).to_have_count(1)
    expect(page.locator("#link-list")).to_contain_text("the fire started at noon")
    wait_saved(page)
    # Delete from the keyboard, and Ctrl+Z brings it back
    span_el(page, "SOURCE", "Witnesses").focus()
    page.keyboard.press("Delete")
    expect(span_el(page, "SOURCE", "Witnesses")).to_have_count(0)
    wait_saved(page)
    page.keyboard.press("Control+z")
    expect(span_el(page, "SOURCE", "Witnesses")).to_be_visible()
    expect(page.locator("#link-list li")).to_have_count(1)
    wait_saved(page)

"""Hostile content: markup and script stored in every user-controlled field never runs, anywhere.

Article text, title, author and metadata, label names, review comments, token names, webhook
URLs and upload file names hold payloads that would set `window.__xss` if they ever became
markup. Every page is visited in Chromium as the role that sees it; on each we check that
no script ran, that the payload is shown as text where the page shows that field, that no link
has a `javascript:` address, and that no CSP violation was reported (event, console, report-uri).
"""

import contextlib

import pytest

from annotations.models import Article, ImportJob, Membership, Role
from annotations.services.tokens import token_create
from annotations.services.workflow import assignment_submit, review_return, review_start
from tests.browser.conftest import login
from tests.support.browser_watch import BrowserWatch
from tests.support.factories import UserFactory
from tests.support.world import build_world

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
QUOTE = "';window.__xss=1;//"
PAYLOAD = f"{IMG}{SCRIPT}{SVG}{QUOTE}"
LABEL = "<b onmouseover=window.__xss=1>"  # label names are at most 50 characters
TEXT = (f"Breaking {IMG} the minister said {SCRIPT} that {SVG} 42 people died {QUOTE} "
        f"according to police.\r\nA second paragraph </textarea></script><!-- with more.")


@pytest.fixture
def hostile(db, manager, editor, annotator, reviewer):
    world = build_world(
        "hostile", users={"manager": manager, "editor": editor, "annotator": annotator, "reviewer": reviewer},
        text=TEXT, title=f"Title {PAYLOAD}", author=f"Author {SVG}", label_prefix=LABEL,
        meta={"<script>k</script>": PAYLOAD, "source": IMG}, file_name=f"{IMG}.txt",
        comment=f"Comment {PAYLOAD}", webhook_url="https://hooks.example.org/<script>x</script>",
    )
    Article.objects.filter(id=world.ids["article"]).update(url="javascript:window.__xss=1")
    # Failed, so its page does not refresh itself while the test moves on.
    ImportJob.objects.filter(id=world.ids["import_job"]).update(error=f"Bad file {PAYLOAD}", status="failed")
    token_create(user=annotator, name=f"Token {IMG}")
    assignment = world.project.articles.get().assignments.get(user=annotator)
    assignment_submit(assignment=assignment, user=annotator)
    article = Article.objects.get(id=world.ids["article"])
    review_start(article=article, user=reviewer)
    review_return(article=Article.objects.get(id=article.id), user=reviewer, comment=f"Return {PAYLOAD}")
    return world


@pytest.fixture
def watch(page):
    w = BrowserWatch(page)
    yield w
    w.close()


def shows(page, needle):
    return needle in page.evaluate("document.body.innerText")


def no_javascript_links(page):
    bad = page.evaluate(
        "[...document.querySelectorAll('[href],[src],[action],[formaction]')]"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action')"
        " || e.getAttribute('formaction') || '')"
        ".filter(v => v.trim().toLowerCase().replace(/[\\s\\x00-\\x1f]/g, '').startsWith('javascript:'))")
    assert bad == [], f"javascript: address on {page.url}: {bad}"


def visit_all(watch, base, paths):
    for path, needles in paths:
        watch.visit(base + path)
        status = watch.page.evaluate("document.readyState")
        assert status == "complete"
        no_javascript_links(watch.page)
        for needle in needles:
            assert shows(watch.page, needle), f"{needle!r} is not shown as text on {path}"
        # Hovering and focusing elements must not run anything either (onmouseover payloads).
        for el in watch.page.locator("b, img, svg, td, a, button").filter(visible=True).all()[:15]:
            with contextlib.suppress(Exception):  # a detached or covered element is fine to skip
                el.hover(timeout=300)
        watch.check_page()


def test_annotator_pages(page, live_server, watch, hostile, annotator):
    a = Article.objects.get(id=hostile.ids["article"])
    a_id = a.assignments.get(user=annotator).id
    login(page, live_server, "annotator", next_path="/queue/")
    watch.check_page()
    visit_all(watch, live_server.url, [
        ("/queue/", [IMG]),
        (f"/annotate/{a_id}/", [IMG, SCRIPT, LABEL]),
        ("/account/", [f"Token {IMG}", "hostile desk"]),
        (f"/api/assignments/{a_id}/", ["onerror"]),
        (f"/api/articles/{hostile.ids['article']}/", ["onerror"]),
        (f"/api/projects/{hostile.ids['project']}/", [LABEL]),
        (f"/annotate/{a_id}/{SCRIPT}", []),          # a 404 with markup in the address
        (f"/no-such-page/{IMG}", []),
        (f"/api/assignments/999999/?x={SCRIPT}", []),
    ])
    watch.assert_clean()


def test_reviewer_and_manager_pages(page, live_server, watch, hostile, reviewer, manager):
    article_id, project_id = hostile.ids["article"], hostile.ids["project"]
    login(page, live_server, "reviewer", next_path="/review/")
    watch.check_page()
    visit_all(watch, live_server.url, [
        ("/review/", []),  # the article was returned: no longer in the review queue
        (f"/review/{article_id}/", [IMG, LABEL]),
        (f"/articles/{article_id}/timeline/", [f"Return {IMG}"]),
    ])
    page.context.clear_cookies()
    login(page, live_server, "manager", next_path=f"/projects/{project_id}/")
    watch.check_page()
    visit_all(watch, live_server.url, [
        (f"/projects/{project_id}/", ["hostile desk"]),
        (f"/projects/{project_id}/progress/", [LABEL]),
        (f"/api/projects/{project_id}/articles/", ["onerror"]),
        (f"/api/projects/{project_id}/webhooks/", ["<script>x</script>"]),
        (f"/api/projects/{project_id}/members/", []),
    ])
    watch.assert_clean()


def test_admin_pages(page, live_server, watch, hostile, manager):
    root = UserFactory(username="root")
    root.is_staff = root.is_superuser = True
    root.save()
    article_id = hostile.ids["article"]
    login(page, live_server, "root", next_path="/admin/")
    watch.check_page()
    label_id = hostile.project.label_types.first().id
    visit_all(watch, live_server.url, [
        ("/admin/annotations/article/", [IMG]),
        (f"/admin/annotations/article/{article_id}/change/", []),
        (f"/admin/annotations/article/{article_id}/history/", []),
        ("/admin/annotations/span/", [LABEL]),
        (f"/admin/annotations/span/{hostile.ids['span']}/change/", []),
        ("/admin/annotations/labeltype/", [LABEL]),
        (f"/admin/annotations/labeltype/{label_id}/change/", []),
        ("/admin/annotations/articleevent/", []),
        ("/admin/annotations/review/", []),
        ("/admin/annotations/importjob/", [f"{IMG}.txt"]),
        (f"/admin/annotations/importjob/{hostile.ids['import_job']}/change/", []),
        ("/admin/annotations/webhook/", []),
        ("/admin/annotations/apitoken/", [f"Token {IMG}"[:20]]),
        (f"/admin/annotations/project/{hostile.ids['project']}/change/", []),
        (f"/admin/annotations/article/?q={SCRIPT}", [SCRIPT]),
        (f"/admin/annotations/article/{article_id}/delete/", []),
        ("/admin/annotations/article/upload/", []),
        (f"/admin/annotations/article/import-jobs/{hostile.ids['import_job']}/", [f"Bad file {IMG}"]),
    ])
    # The article change form holds the payloads as form values, not markup.
    watch.visit(f"{live_server.url}/admin/annotations/article/{article_id}/change/")
    assert IMG in page.locator("#id_title").input_value()
    watch.assert_clean()


def test_login_page_error_and_next_payloads(page, live_server, watch, db):
    watch.visit(f"{live_server.url}/accounts/login/?next=javascript:window.__xss=1")
    page.get_by_label("Username").fill(SCRIPT)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    watch.check_page()
    assert page.get_by_label("Username").input_value() == SCRIPT
    watch.assert_clean()


def test_membership_of_a_hostile_project_is_listed_as_text(page, live_server, watch, hostile, outsider):
    Membership.objects.create(project=hostile.project, user=outsider, role=Role.ANNOTATOR)
    hostile.project.name = f"Desk {IMG}"
    hostile.project.save(update_fields=["name"])
    login(page, live_server, "outsider", next_path="/account/")
    visit_all(watch, live_server.url, [("/account/", [f"Desk {IMG}"]), ("/queue/", [])])
    watch.assert_clean()

"""The Django admin, the login page and the API pages work under our CSP with no violation.

CSP: script-src 'self', style-src 'self' (no 'unsafe-inline' for either), object-src 'none'.
Every page is checked three ways (securitypolicyviolation events, console, report-uri log).
"""

import pytest
from django.contrib.auth import get_user_model

from annotations.models import Role
from tests.browser.conftest import login
from tests.support.browser_watch import BrowserWatch
from tests.support.factories import UserFactory, make_article, make_project


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def watch(page):
    w = BrowserWatch(page)
    yield w
    w.close()


def test_login_page_has_no_violation(page, live_server, watch, db):
    watch.visit(f"{live_server.url}/accounts/login/")
    watch.visit(f"{live_server.url}/admin/login/")
    watch.page.get_by_label("Username").fill("nobody")
    watch.page.get_by_label("Password").fill("wrong-password")
    watch.page.get_by_role("button", name="Log in").click()
    watch.page.wait_for_load_state("load")
    assert watch.page.get_by_text("Please enter the correct username and password").first.is_visible()
    watch.assert_clean()


def test_admin_pages_work_under_the_csp(page, live_server, watch, admin_user, annotator):
    project = make_project(name="Desk", slug="desk", members=[(annotator, Role.ANNOTATOR)])
    article = make_article(project, title="An article", text="The minister said 42 people died.")
    login(page, live_server, "root", next_path="/admin/")
    watch.check_page()
    base = live_server.url
    for path in [
        "/admin/",
        "/admin/annotations/",
        "/admin/annotations/project/",
        f"/admin/annotations/project/{project.id}/change/",
        "/admin/annotations/project/add/",
        "/admin/annotations/article/",
        "/admin/annotations/article/?status__exact=new",
        f"/admin/annotations/article/{article.id}/change/",
        f"/admin/annotations/article/{article.id}/history/",
        f"/admin/annotations/article/{article.id}/delete/",
        "/admin/annotations/span/",
        "/admin/annotations/membership/add/",
        "/admin/auth/user/",
        f"/admin/auth/user/{annotator.id}/change/",
        f"/admin/auth/user/{annotator.id}/password/",
        "/admin/auth/group/add/",
        "/admin/axes/accessattempt/",
        "/admin/password_change/",
    ]:
        watch.visit(base + path, expect_status=(200,))

    # A changelist action: select a row, pick "delete selected", get the confirmation page.
    watch.visit(f"{base}/admin/annotations/article/")
    page.locator("input.action-select").first.check()
    assert page.locator(".action-counter").inner_text().startswith("1 of")
    page.select_option("select[name=action]", "delete_selected")
    page.locator("button[name=index]").first.click()
    page.wait_for_load_state("load")
    assert "Delete multiple objects" in page.title()
    watch.check_page()

    # The change form's JavaScript: add an inline row, the collapse toggle, the date shortcuts.
    watch.visit(f"{base}/admin/annotations/project/{project.id}/change/")
    rows_before = page.locator("#label_types-group tr.form-row").count()
    page.locator("#label_types-group .add-row a").click()
    assert page.locator("#label_types-group tr.form-row").count() == rows_before + 1
    watch.visit(f"{base}/admin/annotations/article/{article.id}/change/")
    if page.locator(".datetimeshortcuts a", has_text="Today").count():
        page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    # The user autocomplete (select2) in the project's membership inline.
    watch.visit(f"{base}/admin/annotations/project/{project.id}/change/")
    page.locator("#memberships-group .select2-selection").first.click()
    page.locator(".select2-search__field").fill("annot")
    page.locator(".select2-results__option", has_text="annotator").first.wait_for()
    watch.check_page()

    # The theme toggle and the nav sidebar filter run admin scripts too.
    watch.visit(f"{base}/admin/annotations/span/")
    page.locator("button.theme-toggle").first.click()
    if page.locator("#nav-filter").count():
        page.locator("#nav-filter").fill("art")
    watch.check_page()

    # Saving a form posts to 'self' (form-action) and redirects.
    watch.visit(f"{base}/admin/annotations/article/{article.id}/change/")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("load")
    assert "was changed successfully" in page.content()
    watch.assert_clean()
    assert get_user_model().objects.filter(username="root").exists()


def test_api_pages_work_under_the_csp(page, live_server, watch, project, annotator):
    login(page, live_server, "annotator", next_path="/account/")
    base = live_server.url
    watch.visit(f"{base}/account/", expect_status=(200,))
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("load")
    assert page.locator("#new-token-key").input_value().startswith("nr_")
    watch.check_page()
    for path in ["/api/", "/api/projects/", f"/api/projects/{project.id}/", "/api/auth/tokens/"]:
        watch.visit(base + path, expect_status=(200,))
    watch.visit(f"{base}/api/docs/", expect_status=(200,))
    page.locator(".swagger-ui .information-container").wait_for()
    page.locator(".opblock").first.wait_for()
    watch.assert_clean()

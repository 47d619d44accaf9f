"""The smallest browser check: an annotator logs in through the admin-look login page."""

from tests.browser.conftest import login


def test_annotator_logs_in(page, live_server, project, annotator):
    login(page, live_server, "annotator")
    assert "/accounts/login" not in page.url

"""An editor uploads two files on the admin's "Upload articles" page and sees both articles listed."""

import re

from annotations.models import Article, PreannotationJob
from tests.browser.conftest import login


def test_editor_uploads_two_files_and_sees_them_listed(page, live_server, project, editor, tmp_path, monkeypatch):
    monkeypatch.setattr("annotations.services.preannotation.preannotation_jobs_enqueue", lambda job_ids: None)
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    first = tmp_path / "floods.txt"
    first.write_text("Floods in Valencia\n\nThe mayor said 200 homes were flooded.\n", encoding="utf-8")
    second = tmp_path / "budget.html"
    second.write_text("<html><head><title>Budget vote</title><script>x()</script></head>"
                      "<body><nav>Home</nav><p>The council said the budget passed 😀.</p></body></html>",
                      encoding="utf-8")
    login(page, live_server, "editor", next_path="/admin/annotations/article/")
    page.goto(f"{live_server.url}/admin/annotations/article/")
    page.get_by_role("link", name="Upload articles").click()
    page.wait_for_url(re.compile(r"/admin/annotations/article/upload/$"))
    page.get_by_label("Project").select_option(label="Wire desk")
    page.locator("input[type=file][name=files]").set_input_files([str(first), str(second)])
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/admin/annotations/article/\?project__id__exact="))
    results = page.locator("#result_list")
    results.get_by_text("Floods in Valencia").wait_for()
    results.get_by_text("Budget vote").wait_for()
    assert "2 imported, 0 skipped as duplicate, 0 rejected" in page.locator("ul.messagelist").inner_text()
    assert Article.objects.filter(project=project).count() == 2
    assert PreannotationJob.objects.filter(article__project=project).count() == 2
    html = Article.objects.get(title="Budget vote")
    assert html.text == "The council said the budget passed 😀." and html.source_name == "budget.html"


def test_a_bad_file_blocks_the_upload_with_a_clear_message(page, live_server, project, editor, tmp_path):
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    good = tmp_path / "good.txt"
    good.write_text("A perfectly good article.", encoding="utf-8")
    bad = tmp_path / "rows.csv"
    bad.write_text("title,body\nA,B\n", encoding="utf-8")
    login(page, live_server, "editor", next_path="/admin/annotations/article/upload/")
    page.goto(f"{live_server.url}/admin/annotations/article/upload/")
    page.locator("input[type=file][name=files]").set_input_files([str(good), str(bad)])
    page.get_by_role("button", name="Import").click()
    report = page.locator("#import-report")
    report.wait_for()
    assert "rows.csv" in report.inner_text() and "CSV without a 'text' column" in report.inner_text()
    assert not Article.objects.exists()

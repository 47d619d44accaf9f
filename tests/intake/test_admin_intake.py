"""The admin side: the change form edits text through the service; pasted text; the import job page."""

import unittest.mock

import pytest

from annotations.models import Article, Assignment, ImportJob, LabelType, Span
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("annotations.services.preannotation.preannotation_jobs_enqueue", lambda job_ids: None)
    monkeypatch.setattr("annotations.services.preannotation.preannotation_job_enqueue", lambda job_id: None)


@pytest.fixture
def staff_editor(client, editor):
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    client.force_login(editor)
    return editor


def change_data(article, **overrides):
    data = {"project": article.project_id, "title": article.title, "text": article.text, "outlet": "",
            "author": "", "published_at": "", "url": "", "meta": "{}", "source_name": "", "status": article.status,
            "expected_version": article.version}
    data.update(overrides)
    return data


def test_change_form_text_edit_reanchors_spans(client, project, staff_editor, annotator):
    article = make_article(project, text="Police said two people died.")
    layer = Assignment.objects.create(article=article, user=annotator)
    claim = LabelType.objects.get(project=project, name="CLAIM")
    span = Span.objects.create(article=article, assignment=layer, label=claim, start=12, end=27,
                               text="two people died")
    url = f"/admin/annotations/article/{article.id}/change/"
    r = client.post(url, change_data(article, text="Update 😀\r\nPolice said two people died."))
    assert r.status_code == 302, r.content.decode()[:3000]
    article.refresh_from_db()
    span.refresh_from_db()
    assert article.text == "Update 😀\nPolice said two people died." and article.version == 2
    assert article.text[span.start : span.end] == "two people died" and not span.needs_review


def test_change_form_on_a_stale_page_is_an_error_not_a_loss(client, project, staff_editor):
    article = make_article(project, text="Original text.")
    r = client.post(f"/admin/annotations/article/{article.id}/change/",
                    change_data(article, text="Edited.", expected_version=99))
    assert r.status_code == 200 and "changed this article since you opened it" in r.content.decode()
    article.refresh_from_db()
    assert article.text == "Original text."


def test_change_form_cannot_jump_the_workflow_or_move_the_article(client, project, staff_editor):
    """Status (the review workflow's), project (its spans use that project's labels) and provenance
    are read-only in the change form: posting them changes nothing."""
    from annotations.services.projects import project_create

    other = project_create(name="Other desk", slug="other-desk", created_by=staff_editor)
    article = make_article(project, text="The mayor said 3 bridges closed.")
    page = client.get(f"/admin/annotations/article/{article.id}/change/").content.decode()
    assert 'name="status"' not in page and 'name="project"' not in page and 'name="source_name"' not in page
    r = client.post(f"/admin/annotations/article/{article.id}/change/",
                    change_data(article, status="approved", project=other.id, source_name="x", title="Bridges"))
    assert r.status_code == 302
    article.refresh_from_db()
    assert (article.status, article.project_id, article.source_name) == ("new", project.id, "")
    assert article.title == "Bridges" and article.version == 2  # metadata went through the service


def test_a_change_racing_the_form_is_reported_not_overwritten(client, project, staff_editor, editor):
    """Someone saves between the form's check and its save: the later save is refused with a message
    (the service checks the version under the row lock), and the other person's change stays."""
    from annotations.services.articles import article_meta_update

    article = make_article(project, text="The mayor said 3 bridges closed.", title="Old")
    data = change_data(article, title="Mine")
    from annotations.admin.intake import ArticleChangeForm

    real_clean = ArticleChangeForm.clean

    def clean_then_someone_else_saves(form):
        cleaned = real_clean(form)
        article_meta_update(article=Article.objects.get(pk=article.pk), user=editor, expected_version=1,
                            title="Theirs")
        return cleaned

    with unittest.mock.patch.object(ArticleChangeForm, "clean", clean_then_someone_else_saves):
        r = client.post(f"/admin/annotations/article/{article.id}/change/", data, follow=True)
    article.refresh_from_db()
    assert article.title == "Theirs"
    page = r.content.decode()
    assert "Not saved" in page and "changed since you loaded it" in page and "was changed successfully" not in page


def test_pasted_text_is_imported(client, project, staff_editor):
    r = client.post("/admin/annotations/article/upload/", {
        "project": project.id, "title": "Pasted", "text": "March 3, 2024\r\nLONDON (AP) - Officials said so.  ",
        "outlet": "", "author": "A. Writer", "published_at": "", "url": "https://example.org/a"})
    assert r.status_code == 302
    article = Article.objects.get()
    assert (article.title, article.author, article.outlet, article.published_at.isoformat(), article.source_name) == (
        "Pasted", "A. Writer", "AP", "2024-03-03", "pasted text")
    assert article.text == "March 3, 2024\nLONDON (AP) - Officials said so."


def test_add_goes_to_the_upload_page_and_outsiders_get_nothing(client, project, staff_editor, outsider):
    assert client.get("/admin/annotations/article/add/")["Location"].endswith("/admin/annotations/article/upload/")
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    client.force_login(outsider)
    assert client.get("/admin/annotations/article/upload/").status_code == 404


def test_import_job_page_shows_progress(client, project, staff_editor):
    job = ImportJob.objects.create(project=project, requested_by=staff_editor, original_name="big.jsonl",
                                   total=10, processed=4)
    page = client.get(f"/admin/annotations/article/import-jobs/{job.id}/").content.decode()
    assert 'value="40"' in page and "4 of 10" in page and 'http-equiv="refresh"' in page

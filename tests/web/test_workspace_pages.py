"""My queue, Next article and the annotate page (server side): access, escaping, json_script,
no inline script, and a query count that does not grow with the number of spans."""

import json
import re

import pytest
from django.urls import reverse

from annotations.models import Article
from annotations.services.workflow import assignment_next
from tests.support.factories import make_article
from tests.support.layers import big_text, bulk_spans


@pytest.fixture
def work(project, annotator):
    make_article(project, text="Police said <b>nothing</b> & moved on 🎉.", title="<script>alert(1)</script>")
    return assignment_next(user=annotator)


def test_pages_need_login(client):
    for name in ("web:queue",):
        resp = client.get(reverse(name))
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    assert client.post(reverse("web:next")).status_code == 302


def test_queue_lists_my_work_and_open_articles(client, project, annotator, work):
    make_article(project, text="A second article, still open.", title="Second")
    client.force_login(annotator)
    resp = client.get(reverse("web:queue"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "My queue" in html and "Next article" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert reverse("web:annotate", args=[work.id]) in html
    assert "Second" in html


def test_next_article_redirects_to_annotate_or_back_to_queue(client, project, annotator2):
    client.force_login(annotator2)
    assert client.get(reverse("web:next")).status_code == 405
    resp = client.post(reverse("web:next"))
    assert resp.status_code == 302 and resp["Location"] == reverse("web:queue")
    make_article(project, text="Fresh text for annotator two.")
    resp = client.post(reverse("web:next"))
    assert re.fullmatch(r"/annotate/\d+/", resp["Location"])


def test_annotate_page_data_via_json_script_and_no_inline_script(client, annotator, work):
    client.force_login(annotator)
    resp = client.get(reverse("web:annotate", args=[work.id]))
    assert resp.status_code == 200
    html = resp.content.decode()
    data = json.loads(re.search(r'<script id="layer-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert data["article"]["text"] == work.article.text
    assert data["version"] == work.version and data["read_only"] is False
    # every script is either external or the JSON data block; no inline handlers
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"\sstyle\s*=", html)
    assert "<b>nothing</b>" not in html.replace("\\u003Cb\\u003E", "")  # text is escaped everywhere
    assert 'role="region" aria-label="Article text"' in html
    assert 'role="status"' in html


def test_annotate_page_access(client, project, annotator2, outsider, work):
    client.force_login(outsider)
    assert client.get(reverse("web:annotate", args=[work.id])).status_code == 404
    client.force_login(annotator2)
    resp = client.get(reverse("web:annotate", args=[work.id]))
    assert resp.status_code == 200
    assert "read-only for you" in resp.content.decode()


@pytest.mark.parametrize("n", [10, 1000])
def test_annotate_page_query_count_does_not_grow(client, annotator, work, django_assert_max_num_queries, n):
    Article.objects.filter(id=work.article_id).update(text=big_text(3000))
    work.article.refresh_from_db()
    bulk_spans(work.article, work, n, suggestions=n // 4)
    client.force_login(annotator)
    with django_assert_max_num_queries(10):
        resp = client.get(reverse("web:annotate", args=[work.id]))
    assert resp.status_code == 200
    assert resp.content.decode().count('"from_suggestion"') >= n


def test_queue_query_count_does_not_grow(client, project, annotator, django_assert_max_num_queries):
    for i in range(3):
        make_article(project, text=f"Article number {i} for the queue.")
        assignment_next(user=annotator)
        from annotations.models import Assignment
        Assignment.objects.filter(user=annotator).update(status="submitted")
    for i in range(5):
        make_article(project, text=f"Open article {i}.")
    client.force_login(annotator)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("web:queue")).status_code == 200


def test_annotate_page_shows_the_guidelines_and_label_descriptions_as_text(client, project, annotator, work):
    from annotations.models import LabelType

    project.guidelines = "Mark <i>every</i> check-worthy claim.\n\nSources: who said it."
    project.save(update_fields=["guidelines"])
    LabelType.objects.filter(project=project, name="SOURCE").update(description="Who <b>said</b> it")
    client.force_login(annotator)
    html = client.get(reverse("web:annotate", args=[work.id])).content.decode()
    box = html[html.index('id="guidelines"'):html.index("</details>")]
    assert "Mark &lt;i&gt;every&lt;/i&gt; check-worthy claim." in box and "<p>Sources: who said it.</p>" in box
    assert "Who &lt;b&gt;said&lt;/b&gt; it" in box and "<i>" not in box


def test_queue_shows_unfinished_work_the_latest_finished_and_my_projects(client, project, annotator, reviewer):
    from annotations.models import Assignment
    from annotations.selectors import layers

    for i in range(4):
        make_article(project, text=f"Finished article number {i}.", title=f"Done {i}")
        assignment_next(user=annotator)
        Assignment.objects.filter(user=annotator).update(status="submitted")
    make_article(project, text="Still to do.", title="To do")
    todo = assignment_next(user=annotator)
    layers.FINISHED_SHOWN, old = 3, layers.FINISHED_SHOWN
    try:
        client.force_login(annotator)
        html = client.get(reverse("web:queue")).content.decode()
    finally:
        layers.FINISHED_SHOWN = old
    mine = html[html.index('id="mine-heading"'):html.index('id="finished-heading"')]
    assert f'data-assignment="{todo.id}"' in mine and "Done" not in mine
    assert "Finished (the latest 3 of 4)" in html
    projects = html[html.index('id="projects-heading"'):]
    assert "Wire desk" in projects and "annotator" in projects and "Agreement" not in projects  # no figures role
    client.force_login(reviewer)
    projects = client.get(reverse("web:queue")).content.decode()
    projects = projects[projects.index('id="projects-heading"'):]
    assert reverse("web:project", args=[project.id]) in projects and "Review queue" in projects

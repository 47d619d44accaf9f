"""The workspace API behind the annotate page: layer reads, span/link/suggestion writes,
permissions, offsets in code points, optimistic concurrency and constant query counts."""

import pytest
from django.urls import reverse

from annotations.models import ArticleEvent, Assignment, Relation, Span, SuggestionState
from annotations.services.workflow import assignment_next
from tests.support.factories import make_article
from tests.support.layers import bulk_spans, find, make_suggested_relation, make_suggestion

TEXT = "Police said 👨‍👩‍👧 families left Zoë’s village 🇺🇦, according to Мария Иванова."


@pytest.fixture
def work(project, annotator):
    article = make_article(project, text=TEXT, title="<script>alert(1)</script>")
    assignment = assignment_next(user=annotator)
    assert assignment.article_id == article.id
    return assignment


def url(assignment, suffix=""):
    return reverse("api:assignment-layer", args=[assignment.id]) + suffix


def layer(client, assignment):
    resp = client.get(url(assignment))
    assert resp.status_code == 200, resp.content
    return resp.json()


def test_layer_read_has_text_labels_version(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    data = layer(api_client, work)
    assert data["article"]["text"] == TEXT
    assert [lbl["name"] for lbl in data["labels"]] == ["CLAIM", "SOURCE"]
    assert [lbl["hotkey"] for lbl in data["labels"]] == ["1", "2"]
    assert data["version"] == work.version
    assert data["read_only"] is False
    assert data["spans"] == [] and data["relations"] == []


def test_create_span_code_points_after_emoji(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    start, end = find(TEXT, "Мария Иванова")
    resp = api_client.post(url(work, "spans/"), {"label": "SOURCE", "start": start, "end": end,
                                                  "text": "Мария Иванова", "expected_version": work.version},
                           format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["version"] == work.version + 1
    span = Span.objects.get(id=body["span"]["id"])
    assert span.text == TEXT[span.start:span.end] == "Мария Иванова"
    assert span.assignment_id == work.id and span.origin == "human" and span.state == "accepted"
    assert ArticleEvent.objects.filter(article=work.article, kind="span.created").count() == 1
    work.refresh_from_db()
    assert work.status == "in_progress"


def test_mismatched_quote_is_400_and_writes_nothing(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    start, end = find(TEXT, "village")
    # UTF-16 offsets (what a buggy client would send) slice different text: rejected, clearly.
    resp = api_client.post(url(work, "spans/"), {"label": "CLAIM", "start": start + 3, "end": end + 3,
                                                  "text": "village", "expected_version": work.version},
                           format="json")
    assert resp.status_code == 400
    assert "does not match" in str(resp.json())
    assert not Span.objects.filter(assignment=work).exists()
    assert Assignment.objects.get(id=work.id).version == work.version


@pytest.mark.parametrize("payload, field", [
    ({"label": "NOPE", "start": 0, "end": 6, "text": "Police"}, "label"),
    ({"label": "CLAIM", "start": 5, "end": 5, "text": ""}, "text"),
    ({"label": "CLAIM", "start": 6, "end": 5, "text": "e"}, "start"),
    ({"label": "CLAIM", "start": 0, "end": 10_000, "text": "Police"}, "start"),
    ({"label": "CLAIM", "start": "x", "end": 3, "text": "Pol"}, "start"),
    ({"label": "CLAIM", "start": 0, "end": 6}, "text"),
])
def test_bad_input_is_400(api_client, work, annotator, payload, field):
    api_client.force_authenticate(annotator)
    resp = api_client.post(url(work, "spans/"), {**payload, "expected_version": work.version}, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_missing_version_is_400(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    resp = api_client.post(url(work, "spans/"), {"label": "CLAIM", "start": 0, "end": 6}, format="json")
    assert resp.status_code == 400
    assert "expected_version" in resp.json()


def test_stale_version_is_409_and_nothing_written(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    s, e = find(TEXT, "Police")
    ok = api_client.post(url(work, "spans/"), {"label": "SOURCE", "start": s, "end": e, "text": "Police",
                                                "expected_version": work.version}, format="json")
    assert ok.status_code == 201
    s, e = find(TEXT, "families")
    stale = api_client.post(url(work, "spans/"), {"label": "CLAIM", "start": s, "end": e, "text": "families",
                                                   "expected_version": work.version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == work.version + 1
    assert list(Span.objects.filter(assignment=work).values_list("text", flat=True)) == ["Police"]


def test_relabel_delete_link_unlink(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    v = work.version
    s, e = find(TEXT, "families left Zoë’s village")
    claim = api_client.post(url(work, "spans/"), {"label": "SOURCE", "start": s, "end": e,
                                                   "text": TEXT[s:e], "expected_version": v}, format="json").json()
    v = claim["version"]
    relabeled = api_client.patch(url(work, f"spans/{claim['span']['id']}/"), {"label": "CLAIM",
                                 "expected_version": v}, format="json")
    assert relabeled.status_code == 200 and relabeled.json()["span"]["label"] != claim["span"]["label"]
    v = relabeled.json()["version"]
    s, e = find(TEXT, "Police")
    source = api_client.post(url(work, "spans/"), {"label": "SOURCE", "start": s, "end": e, "text": "Police",
                                                    "expected_version": v}, format="json").json()
    v = source["version"]
    # SOURCE -> CLAIM is not a link type of the project
    wrong = api_client.post(url(work, "relations/"), {"from_span": source["span"]["id"],
                            "to_span": claim["span"]["id"], "expected_version": v}, format="json")
    assert wrong.status_code == 400
    link = api_client.post(url(work, "relations/"), {"from_span": claim["span"]["id"], "to_span": source["span"]["id"],
                                                      "expected_version": v}, format="json")
    assert link.status_code == 201, link.content
    v = link.json()["version"]
    rel = Relation.objects.get(id=link.json()["relation"]["id"])
    assert rel.type.name == "attributed_to" and rel.assignment_id == work.id
    data = layer(api_client, work)
    assert len(data["relations"]) == 1 and data["version"] == v
    unlink = api_client.delete(url(work, f"relations/{rel.id}/"), {"expected_version": v}, format="json")
    assert unlink.status_code == 200
    v = unlink.json()["version"]
    gone = api_client.delete(url(work, f"spans/{claim['span']['id']}/"), {"expected_version": v}, format="json")
    assert gone.status_code == 200
    assert [sp["text"] for sp in layer(api_client, work)["spans"]] == ["Police"]


def test_suggestions_accept_reject_reset_and_accept_above(api_client, work, annotator):
    article = work.article
    police = make_suggestion(article, "SOURCE", *find(TEXT, "Police"), confidence=0.95)
    claim = make_suggestion(article, "CLAIM", *find(TEXT, "families left"), confidence=0.9)
    maria = make_suggestion(article, "SOURCE", *find(TEXT, "Мария Иванова"), confidence=0.4)
    low = make_suggestion(article, "CLAIM", *find(TEXT, "village"), confidence=0.3)
    make_suggested_relation(article, claim, police, confidence=0.85)
    api_client.force_authenticate(annotator)
    data = layer(api_client, work)
    assert {s["id"] for s in data["suggestions"]} == {police.id, claim.id, maria.id, low.id}
    assert len(data["relation_suggestions"]) == 1
    v = data["version"]

    acc = api_client.post(url(work, f"suggestions/{maria.id}/accept/"), {"expected_version": v}, format="json")
    assert acc.status_code == 200
    accepted = Span.objects.get(id=acc.json()["span"]["id"])
    assert (accepted.from_suggestion_id, accepted.origin, accepted.state) == (maria.id, "machine", "accepted")
    assert accepted.confidence == 0.4 and accepted.model_version == "test-1"
    v = acc.json()["version"]
    rej = api_client.post(url(work, f"suggestions/{low.id}/reject/"), {"expected_version": v}, format="json")
    assert rej.status_code == 200
    v = rej.json()["version"]
    data = layer(api_client, work)
    assert {s["id"] for s in data["suggestions"]} == {police.id, claim.id}
    assert [s["from_suggestion"] for s in data["spans"]] == [maria.id]  # the tombstone is hidden
    # the machine layer itself is untouched
    assert Span.objects.filter(assignment__isnull=True, state=SuggestionState.PENDING).count() == 4

    reset = api_client.post(url(work, f"suggestions/{low.id}/reset/"), {"expected_version": v}, format="json")
    v = reset.json()["version"]
    assert low.id in {s["id"] for s in layer(api_client, work)["suggestions"]}

    bulk = api_client.post(url(work, "suggestions/accept-above/"), {"threshold": 0.8, "expected_version": v},
                           format="json")
    assert bulk.status_code == 200, bulk.content
    assert {s["from_suggestion"] for s in bulk.json()["spans"]} == {police.id, claim.id}
    assert len(bulk.json()["relations"]) == 1
    assert bulk.json()["version"] == v + 1  # one step, one version
    data = layer(api_client, work)
    assert {s["id"] for s in data["suggestions"]} == {low.id}
    assert data["relation_suggestions"] == []
    assert len(data["relations"]) == 1


def test_relation_suggestion_accept_accepts_both_spans(api_client, work, annotator):
    article = work.article
    police = make_suggestion(article, "SOURCE", *find(TEXT, "Police"))
    claim = make_suggestion(article, "CLAIM", *find(TEXT, "families left"))
    rel = make_suggested_relation(article, claim, police)
    api_client.force_authenticate(annotator)
    resp = api_client.post(url(work, f"relation-suggestions/{rel.id}/accept/"), {"expected_version": work.version},
                           format="json")
    assert resp.status_code == 200, resp.content
    data = layer(api_client, work)
    assert data["suggestions"] == [] and len(data["spans"]) == 2 and len(data["relations"]) == 1


def test_suggested_links_are_rejected_one_by_one(api_client, work, annotator, annotator2, project):
    """Reject a suggested link: no longer offered in this layer, its spans untouched, not brought
    back by accept-above; reset (undo) offers it again; accept still works after a rejection;
    another annotator's layer is not affected."""
    article = work.article
    police = make_suggestion(article, "SOURCE", *find(TEXT, "Police"), confidence=0.95)
    claim = make_suggestion(article, "CLAIM", *find(TEXT, "families left"), confidence=0.9)
    rel = make_suggested_relation(article, claim, police, confidence=0.9)
    api_client.force_authenticate(annotator)
    v = work.version
    rej = api_client.post(url(work, f"relation-suggestions/{rel.id}/reject/"), {"expected_version": v}, format="json")
    assert rej.status_code == 200, rej.content
    v = rej.json()["version"]
    assert v == work.version + 1
    again = api_client.post(url(work, f"relation-suggestions/{rel.id}/reject/"), {"expected_version": v},
                            format="json")
    assert again.status_code == 200  # idempotent
    v = again.json()["version"]
    data = layer(api_client, work)
    assert data["relation_suggestions"] == []
    assert {s["id"] for s in data["suggestions"]} == {police.id, claim.id}  # the spans are still offered
    assert ArticleEvent.objects.filter(article=article, kind="relation.rejected").count() == 1
    bulk = api_client.post(url(work, "suggestions/accept-above/"), {"threshold": 0.5, "expected_version": v},
                           format="json")
    assert bulk.status_code == 200 and len(bulk.json()["spans"]) == 2 and bulk.json()["relations"] == []
    v = bulk.json()["version"]
    assert Relation.objects.filter(assignment=work).count() == 0

    reset = api_client.post(url(work, f"relation-suggestions/{rel.id}/reset/"), {"expected_version": v},
                            format="json")
    assert reset.status_code == 200
    v = reset.json()["version"]
    assert [r["id"] for r in layer(api_client, work)["relation_suggestions"]] == [rel.id]
    api_client.post(url(work, f"relation-suggestions/{rel.id}/reject/"), {"expected_version": v}, format="json")
    v += 1
    acc = api_client.post(url(work, f"relation-suggestions/{rel.id}/accept/"), {"expected_version": v},
                          format="json")
    assert acc.status_code == 200, acc.content
    assert Relation.objects.filter(assignment=work).count() == 1

    # someone else's layer on the same article still gets the suggestion
    project.annotators_per_article = 2
    project.save()
    other = assignment_next(user=annotator2)
    assert other.article_id == article.id
    api_client.force_authenticate(annotator2)
    assert [r["id"] for r in layer(api_client, other)["relation_suggestions"]] == [rel.id]
    wrong = api_client.post(url(other, "relation-suggestions/999999/reject/"), {"expected_version": other.version},
                            format="json")
    assert wrong.status_code == 400


def test_deleting_an_accepted_suggestion_rejects_it(api_client, work, annotator):
    sug = make_suggestion(work.article, "SOURCE", *find(TEXT, "Police"))
    api_client.force_authenticate(annotator)
    acc = api_client.post(url(work, f"suggestions/{sug.id}/accept/"), {"expected_version": work.version},
                          format="json").json()
    api_client.delete(url(work, f"spans/{acc['span']['id']}/"), {"expected_version": acc["version"]}, format="json")
    data = layer(api_client, work)
    assert data["spans"] == [] and data["suggestions"] == []
    assert Span.objects.get(id=acc["span"]["id"]).state == "rejected"


def test_permissions_owner_writes_members_read_outsiders_404(api_client, work, annotator2, reviewer, outsider):
    payload = {"label": "CLAIM", "start": 0, "end": 6, "text": "Police", "expected_version": work.version}
    api_client.force_authenticate(outsider)
    assert api_client.get(url(work)).status_code == 404
    assert api_client.post(url(work, "spans/"), payload, format="json").status_code == 404
    api_client.force_authenticate(annotator2)
    data = layer(api_client, work)
    assert data["read_only"] is True
    assert api_client.post(url(work, "spans/"), payload, format="json").status_code == 403
    assert api_client.post(url(work, "submit/")).status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get(url(work)).status_code in (401, 403)


def test_submit_makes_it_read_only(api_client, work, annotator):
    api_client.force_authenticate(annotator)
    resp = api_client.post(url(work, "submit/"))
    assert resp.status_code == 200 and resp.json()["status"] == "submitted"
    assert layer(api_client, work)["read_only"] is True
    work.refresh_from_db()
    late = api_client.post(url(work, "spans/"), {"label": "CLAIM", "start": 0, "end": 6, "text": "Police",
                                                  "expected_version": work.version}, format="json")
    assert late.status_code == 403
    assert "read-only" in late.json()["detail"]


def test_next_article_api(api_client, project, annotator):
    api_client.force_authenticate(annotator)
    assert api_client.post(reverse("api:next-article")).status_code == 204
    article = make_article(project, text="A new one.")
    resp = api_client.post(reverse("api:next-article"))
    assert resp.status_code == 200 and resp.json()["article"] == article.id


@pytest.mark.parametrize("n", [10, 1000])
def test_layer_query_count_does_not_grow(api_client, work, annotator, django_assert_max_num_queries, n):
    from annotations.models import Article, Project
    from annotations.services.articles import article_create, text_hash  # noqa: F401

    article = work.article
    Article.objects.filter(id=article.id).update(text=TEXT * 120)
    article.refresh_from_db()
    bulk_spans(article, work, n, suggestions=n // 5)
    assert Project.objects.count() == 1
    api_client.force_authenticate(annotator)
    with django_assert_max_num_queries(10):
        resp = api_client.get(url(work))
    assert resp.status_code == 200
    assert len(resp.json()["spans"]) == n


def test_schema_documents_the_workspace_endpoints(api_client, annotator):
    api_client.force_authenticate(annotator)
    resp = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in ("/api/assignments/{id}/", "/api/assignments/{id}/spans/", "/api/assignments/{id}/spans/{span_id}/",
                 "/api/assignments/{id}/suggestions/accept-above/", "/api/assignments/{id}/relations/",
                 "/api/assignments/{id}/submit/", "/api/next-article/"):
        assert path in paths, path


def test_reviewer_works_on_their_review_copy_through_the_same_api(api_client, work, annotator, reviewer):
    from annotations.services.workflow import assignment_submit, review_start

    assignment_submit(assignment=work, user=annotator)
    review = review_start(article=work.article, user=reviewer)
    api_client.force_authenticate(reviewer)
    data = layer(api_client, review)
    assert data["assignment"]["kind"] == "review" and data["read_only"] is False
    s, e = find(TEXT, "Police")
    resp = api_client.post(url(review, "spans/"), {"label": "SOURCE", "start": s, "end": e, "text": "Police",
                                                    "expected_version": data["version"]}, format="json")
    assert resp.status_code == 201
    assert Span.objects.get(id=resp.json()["span"]["id"]).assignment_id == review.id
    assert api_client.post(url(review, "submit/")).status_code == 400
    # the annotator may read the review copy of their article but not change it
    api_client.force_authenticate(annotator)
    assert layer(api_client, review)["read_only"] is True

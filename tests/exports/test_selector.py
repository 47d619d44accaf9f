"""What an export contains: the final layer, suggestions, filters, and a query count bounded by chunks."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import ArticleStatus, AssignmentKind
from annotations.selectors.exports import ExportFilters, export_articles, export_filters_parse
from tests.exports.builders import TEXTS, add_layer, approve, approved_article, decide, suggest
from tests.support.factories import make_article

pytestmark = pytest.mark.django_db


def export(project, **params):
    return list(export_articles(project=project, filters=export_filters_parse(params)))


def test_final_layer_is_the_reviewers_with_relations_and_reviewer(project, annotator, reviewer):
    approved_article(project, annotator, reviewer)
    [a] = export(project)
    assert a["layer"] == {"kind": "review", "annotator": "reviewer"}
    assert a["reviewer"] == "reviewer" and a["status"] == "approved"
    assert [(s["label"], s["text"], s["author"], s["origin"]) for s in a["spans"]] == [
        ("SOURCE", "The minister", "reviewer", "human"), ("CLAIM", "42 people died", "reviewer", "human")]
    claim = next(s for s in a["spans"] if s["label"] == "CLAIM")
    source = next(s for s in a["spans"] if s["label"] == "SOURCE")
    assert a["relations"] == [{"id": a["relations"][0]["id"], "from": claim["id"], "to": source["id"],
                               "type": "attributed_to"}]


def test_without_review_layer_the_first_submitted_annotator_layer_and_layer_all(project, annotator, annotator2,
                                                                                reviewer):
    article = make_article(project, text=TEXTS[0])
    add_layer(article, annotator2, spans=[("CLAIM", "42 people died")])
    add_layer(article, annotator, spans=[("SOURCE", "The minister")])
    approve(article, reviewer)
    [a] = export(project)
    assert a["layer"] == {"kind": "annotation", "annotator": "annotator2"}
    assert [s["text"] for s in a["spans"]] == ["42 people died"]
    [b] = export(project, layer="all")
    assert [(layer["annotator"], [s["text"] for s in layer["spans"]]) for layer in b["layers"]] == [
        ("annotator2", ["42 people died"]), ("annotator", ["The minister"])]


def test_suggestions_only_on_request_and_only_undecided_ones_and_no_tombstones(project, annotator, reviewer):
    article = make_article(project, text=TEXTS[0])
    s_acc = suggest(article, "CLAIM", "42 people died")
    s_rej = suggest(article, "SOURCE", "Officials")
    s_open = suggest(article, "SOURCE", "The minister", confidence=0.4)
    review, _ = add_layer(article, reviewer, kind=AssignmentKind.REVIEW)
    decide(review, s_acc, accept=True)
    decide(review, s_rej, accept=False)
    approve(article, reviewer)
    [plain] = export(project)
    assert [(s["text"], s["origin"], s["state"]) for s in plain["spans"]] == [("42 people died", "machine", "accepted")]
    [with_s] = export(project, include_suggestions="true")
    assert [(s["text"], s["state"], s["confidence"]) for s in with_s["spans"]] == [
        ("The minister", "pending", 0.4), ("42 people died", "accepted", 0.9)]
    assert s_open.id in {s["id"] for s in with_s["spans"]}
    assert "Officials" not in {s["text"] for s in with_s["spans"]}


def test_status_filter(project, annotator, reviewer):
    approved_article(project, annotator, reviewer)
    submitted = make_article(project, text=TEXTS[1])
    add_layer(submitted, annotator, spans=[("SOURCE", "Police")])
    submitted.status = ArticleStatus.SUBMITTED
    submitted.save(update_fields=["status"])
    make_article(project, text=TEXTS[2])  # new
    assert [a["status"] for a in export(project)] == ["approved"]
    assert [a["id"] for a in export(project, status="submitted")] == [submitted.id]
    assert len(export(project, status="all")) == 3


def test_date_annotator_label_and_id_filters(project, annotator, annotator2, reviewer):
    a1 = approved_article(project, annotator, reviewer, TEXTS[0], published_at=dt.date(2024, 1, 10))
    a2 = make_article(project, text=TEXTS[1], published_at=dt.date(2024, 3, 1))
    add_layer(a2, annotator2, spans=[("SOURCE", "Police"), ("CLAIM", "the road was closed")])
    approve(a2, reviewer)
    assert [a["id"] for a in export(project, date_from="2024-02-01")] == [a2.id]
    assert [a["id"] for a in export(project, date_to="2024-01-31")] == [a1.id]
    assert [a["id"] for a in export(project, date_from="2024-01-10", date_to="2024-01-10")] == [a1.id]
    assert [a["id"] for a in export(project, annotator="annotator2")] == [a2.id]
    assert [a["id"] for a in export(project, ids=f"{a2.id}")] == [a2.id]
    only_claims = export(project, label="CLAIM")
    assert {s["label"] for a in only_claims for s in a["spans"]} == {"CLAIM"}
    assert all(a["relations"] == [] for a in only_claims)  # a link needs both ends exported
    today = dt.date.today().isoformat()
    assert len(export(project, date_field="status_changed", date_from=today)) == 2


@pytest.mark.parametrize("params, field", [
    ({"status": "done"}, "status"), ({"date_from": "yesterday"}, "date_from"), ({"ids": "1,x"}, "ids"),
    ({"include_suggestions": "maybe"}, "include_suggestions"), ({"layer": "mine"}, "layer"),
    ({"offsets": "bytes"}, "offsets"), ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_to"),
])
def test_bad_parameters_are_named(params, field):
    with pytest.raises(ValidationError) as err:
        export_filters_parse(params)
    assert field in err.value.message_dict


def test_format_specific_options_are_checked():
    with pytest.raises(ValidationError) as err:
        export_filters_parse({"layer": "all", "offsets": "utf16"}, format_name="conll")
    assert set(err.value.message_dict) == {"layer", "offsets"}
    assert export_filters_parse({"layer": "all"}, format_name="label-studio").layer == "all"


def test_filters_round_trip_through_a_stored_dict():
    f = export_filters_parse({"status": "all", "date_from": "2024-01-01", "label": "CLAIM,SOURCE", "ids": "3,1",
                              "include_suggestions": "1", "offsets": "utf16"})
    assert ExportFilters.from_dict(f.to_dict()) == f


def test_query_count_grows_with_chunks_not_articles(project, annotator, reviewer):
    base = "The minister said 42 people died. 👍 Article number {}."
    for i in range(12):
        approved_article(project, annotator, reviewer, base.format(i))
    filters = export_filters_parse({})

    def count(chunk_size):
        with CaptureQueriesContext(connection) as ctx:
            out = list(export_articles(project=project, filters=filters, chunk_size=chunk_size))
        assert len(out) == 12 and all(len(a["spans"]) == 2 for a in out)
        return len(ctx.captured_queries)

    one_chunk = count(12)
    three_chunks = count(4)
    assert one_chunk <= 5  # articles + assignments + spans + relations + reviews
    assert three_chunks - one_chunk == 2 * (one_chunk - 1)  # 4 queries per extra chunk, none per article

"""Agreement figures against examples worked out by hand (see the comments), and through the API."""

import re

import pytest

from annotations.metrics.agreement import cohen_kappa, pair_agreement, tokenize
from annotations.services.workflow import assignment_next, assignment_submit
from tests.review.helpers import mark
from tests.support.factories import make_article

TEXT = "Alice said taxes rose. Bob denied it."
# tokens: Alice(0,5) said(6,10) taxes(11,16) rose(17,21) .(21,22) Bob(23,26) denied(27,33) it(34,36) .(36,37)
A = [(11, 21, "CLAIM"), (0, 5, "SOURCE")]
B = [(11, 16, "CLAIM"), (0, 5, "SOURCE"), (23, 26, "SOURCE")]


def test_tokenize():
    assert tokenize(TEXT) == [(0, 5), (6, 10), (11, 16), (17, 21), (21, 22), (23, 26), (27, 33), (34, 36), (36, 37)]


def test_pairwise_span_f1_exact_and_overlap():
    r = pair_agreement([TEXT], [A], [B], labels=["CLAIM", "SOURCE"])
    # exact: CLAIM 0 matches (tp0 fp1 fn1) -> 0; SOURCE tp1 fp1 fn0 -> 2/3; pooled tp1 fp2 fn1 -> 2/5
    assert r["f1_exact"]["CLAIM"] == 0.0
    assert r["f1_exact"]["SOURCE"] == pytest.approx(2 / 3)
    assert r["f1_exact"]["ALL"] == pytest.approx(0.4)
    # overlap: "taxes rose" ~ "taxes" -> CLAIM 1.0; SOURCE still 2/3; pooled tp2 fp1 fn0 -> 4/5
    assert r["f1_overlap"]["CLAIM"] == 1.0
    assert r["f1_overlap"]["SOURCE"] == pytest.approx(2 / 3)
    assert r["f1_overlap"]["ALL"] == pytest.approx(0.8)
    # F1 is symmetric
    assert pair_agreement([TEXT], [B], [A], labels=["CLAIM", "SOURCE"])["f1_overlap"] == r["f1_overlap"]


def test_token_kappa_per_label_and_overall():
    r = pair_agreement([TEXT], [A], [B], labels=["CLAIM", "SOURCE"])
    # A tags: S O C C O O O O O ; B tags: S O C O O S O O O -> po = 7/9
    # marginals A: S1 C2 O6, B: S2 C1 O6 -> pe = (2 + 2 + 36)/81 = 40/81 -> kappa = 23/41
    assert r["kappa"]["ALL"] == pytest.approx(23 / 41)
    # CLAIM binary: A {2,3}, B {2}: po 8/9, pe (2*1 + 7*8)/81 = 58/81 -> kappa = 14/23
    assert r["kappa"]["CLAIM"] == pytest.approx(14 / 23)
    # SOURCE binary: A {0}, B {0,5}: the mirror image -> 14/23
    assert r["kappa"]["SOURCE"] == pytest.approx(14 / 23)


def test_identical_and_degenerate_cases():
    r = pair_agreement([TEXT], [A], [A], labels=["CLAIM", "SOURCE"])
    assert r["f1_exact"]["ALL"] == 1.0 and r["kappa"]["ALL"] == 1.0
    empty = pair_agreement([TEXT], [[]], [[]], labels=["CLAIM"])
    assert empty["kappa"]["ALL"] is None  # everyone says O everywhere: chance agreement is 1, kappa undefined
    assert empty["f1_exact"]["ALL"] == 0.0
    # a textbook 2x2 table: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> po .7, pe .5 -> kappa .4
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_counts_are_pooled_over_documents():
    r = pair_agreement([TEXT, TEXT], [A, A], [B, A], labels=["CLAIM", "SOURCE"])
    # exact pooled: doc1 tp1 fp2 fn1, doc2 tp2 -> tp3 fp2 fn1 -> 6/9
    assert r["f1_exact"]["ALL"] == pytest.approx(6 / 9)
    assert r["documents"] == 2


@pytest.mark.django_db
def test_agreement_api_matches_the_hand_computed_figures(api_client, project, annotator, annotator2, reviewer):
    project.annotators_per_article = 2
    project.save()
    make_article(project, text=TEXT)
    for user, spans in ((annotator, A), (annotator2, B)):
        assignment = assignment_next(user=user, project=project)
        for start, end, label in spans:
            mark(assignment, label, start, end)
        assignment_submit(assignment=assignment, user=user)
    api_client.force_authenticate(reviewer)
    response = api_client.get(f"/api/projects/{project.id}/agreement/")
    assert response.status_code == 200
    body = response.json()
    (pair,) = body["pairs"]
    assert (pair["a"], pair["b"]) == ("annotator", "annotator2")
    assert pair["f1_exact"]["SOURCE"] == pytest.approx(2 / 3)
    assert pair["f1_overlap"]["ALL"] == pytest.approx(0.8)
    assert pair["kappa"]["ALL"] == pytest.approx(23 / 41)
    assert pair["kappa"]["CLAIM"] == pytest.approx(14 / 23)
    assert body["articles"][0]["kappa"] == pytest.approx(23 / 41)
    # the project page shows the same figures
    from django.test import Client

    client = Client()
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "annotator / annotator2" in html and "0.56" in html and "<svg" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (CSP)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_document_counts_add_up_to_the_pooled_figures():
    """pair_agreement over many documents == agreement_from_counts of the summed per-document
    counts (what the project page caches per article), on random layers."""
    import random

    from annotations.metrics.agreement import agreement_from_counts, counts_add, empty_counts, pair_counts

    rng = random.Random(3)
    texts, a_docs, b_docs = [], [], []
    for _ in range(25):
        words = [rng.choice(["police", "said", "42", "died", ",", "minister", "claimed", "📰"]) for _ in range(30)]
        text = " ".join(words)
        bounds = [0] + [i + 1 for i, ch in enumerate(text) if ch == " "]

        def layer(text=text, bounds=bounds):
            out = []
            for _ in range(rng.randint(0, 5)):
                i = rng.randrange(len(bounds) - 3)
                out.append((bounds[i], bounds[i + rng.randint(1, 2)] - 1, rng.choice(["CLAIM", "SOURCE", "X"])))
            return out

        texts.append(text)
        a_docs.append(layer())
        b_docs.append(layer() if rng.random() < 0.7 else list(a_docs[-1]))
    labels = ["CLAIM", "SOURCE", "X", "UNUSED"]
    total = empty_counts()
    for text, a, b in zip(texts, a_docs, b_docs, strict=True):
        counts_add(total, pair_counts(tokenize(text), a, b))
    assert agreement_from_counts(total, labels) == pair_agreement(texts, a_docs, b_docs, labels=labels)


@pytest.mark.django_db
def test_project_agreement_reuses_unchanged_articles_and_never_serves_stale_figures(
        project, annotator, annotator2, django_assert_num_queries):
    from django.core.cache import cache

    from annotations.models import Span
    from annotations.selectors.review import project_agreement

    cache.clear()
    project.annotators_per_article = 2
    project.save()
    make_article(project, text=TEXT)
    slots = {}
    for user, spans in ((annotator, A), (annotator2, B)):
        slots[user] = assignment = assignment_next(user=user, project=project)
        for start, end, label in spans:
            mark(assignment, label, start, end)
        assignment_submit(assignment=assignment, user=user)
    with django_assert_num_queries(6):  # labels, assignments, spans, text hashes, links, texts of the misses
        first = project_agreement(project=project)
    with django_assert_num_queries(5):  # every article from the cache: no text is read
        again = project_agreement(project=project)
    assert again == first
    assert first["pairs"][0]["f1_exact"]["SOURCE"] == pytest.approx(2 / 3)
    # a finished layer changed behind the workspace's back (e.g. by an admin): new figures at once
    Span.objects.filter(assignment=slots[annotator2], start=23).delete()
    changed = project_agreement(project=project)
    assert changed["pairs"][0]["f1_exact"]["SOURCE"] == 1.0


def test_link_agreement_exact_and_overlap():
    from annotations.metrics.agreement import link_counts

    alice, bob = (0, 5, "SOURCE"), (23, 26, "SOURCE")
    a_links = [((11, 21, "CLAIM"), alice, "attributed_to")]
    b_links = [((11, 16, "CLAIM"), alice, "attributed_to"), ((27, 33, "CLAIM"), bob, "attributed_to")]
    # exact: nothing identical -> tp0 fp2 fn1 -> F1 0; overlap: the claims overlap, same source -> tp1 fp1 fn0
    assert link_counts(a_links, b_links, "exact") == (0, 2, 1)
    assert link_counts(a_links, b_links, "overlap") == (1, 1, 0)
    r = pair_agreement([TEXT], [A], [B], labels=["CLAIM", "SOURCE"])
    assert r["links_f1_exact"] is None and r["links_f1_overlap"] is None  # nobody drew a link
    from annotations.metrics.agreement import agreement_from_counts, pair_counts

    r = agreement_from_counts(pair_counts(tokenize(TEXT), A, B, a_links, b_links), ["CLAIM", "SOURCE"])
    assert r["links_f1_exact"] == 0.0 and r["links_f1_overlap"] == pytest.approx(2 / 3)
    # a different type or a different source label never matches
    assert link_counts(a_links, [((11, 21, "CLAIM"), alice, "denied_by")], "overlap") == (0, 1, 1)
    assert link_counts(a_links, [((11, 21, "CLAIM"), (0, 5, "CLAIM"), "attributed_to")], "overlap") == (0, 1, 1)


@pytest.mark.django_db
def test_project_agreement_counts_links_and_sees_a_changed_link(api_client, project, annotator, annotator2,
                                                                reviewer):
    from annotations.models import Relation
    from tests.review.helpers import annotate_and_submit

    project.annotators_per_article = 2
    project.save()
    annotate_and_submit(project, {annotator: [("CLAIM", 11, 21), ("SOURCE", 0, 5)],
                                  annotator2: [("CLAIM", 11, 21), ("SOURCE", 0, 5), ("SOURCE", 23, 26)]},
                        text=TEXT, links={annotator: [(0, 1)], annotator2: [(0, 2)]})
    api_client.force_authenticate(reviewer)
    (pair,) = api_client.get(f"/api/projects/{project.id}/agreement/").json()["pairs"]
    assert pair["links_f1_exact"] == 0.0 and pair["links_f1_overlap"] == 0.0  # Alice vs Bob
    # annotator2's link moved to Alice behind the page's back: the cached counts are not reused
    rel = Relation.objects.get(assignment__user=annotator2)
    alice = rel.assignment.spans.get(start=0)
    Relation.objects.filter(id=rel.id).update(to_span=alice)
    (pair,) = api_client.get(f"/api/projects/{project.id}/agreement/").json()["pairs"]
    assert pair["links_f1_exact"] == 1.0

"""The token cache (ArticleTokens) through the real export path: the first conll/spacy export
tokenises and fills it, later ones read it, and the bytes are the same either way; an edited text
or another tokenizer never gets the old tokens."""

import io

import pytest

from annotations.exporters.tokenize import nlp, text_digest, tokenizer_id
from annotations.models import ArticleTokens
from annotations.services.exports import export_format_and_filters, export_render, export_write

pytestmark = pytest.mark.django_db


def export_bytes(project, fmt_name: str) -> bytes:
    fmt, filters = export_format_and_filters(format_name=fmt_name, params={})
    if fmt_name == "spacy":
        out = io.BytesIO()
        export_write(project=project, fmt=fmt, filters=filters, out=out)
        return out.getvalue()
    return b"".join(export_render(project=project, fmt=fmt, filters=filters))


def count_tokenised(monkeypatch) -> list[int]:
    import annotations.exporters.tokenize as tokenize

    calls: list[int] = []
    real = tokenize.tokenise

    def counting(texts):
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(tokenize, "tokenise", counting)
    return calls


@pytest.mark.parametrize("fmt", ["conll", "spacy"])
def test_first_export_fills_the_cache_and_the_next_reads_it_byte_identical(project, dataset, fmt, monkeypatch):
    calls = count_tokenised(monkeypatch)
    cold = export_bytes(project, fmt)
    assert sum(calls) == 3
    rows = {t.article_id: t for t in ArticleTokens.objects.all()}
    assert set(rows) == {a.id for a in dataset}
    for a in dataset:
        assert rows[a.id].text_hash == text_digest(a.text) and rows[a.id].tokenizer == tokenizer_id()
    calls.clear()
    assert export_bytes(project, fmt) == cold  # warm: byte-identical
    assert calls == []  # and the tokenizer did not run


def test_conll_and_spacy_share_the_cache(project, dataset, monkeypatch):
    calls = count_tokenised(monkeypatch)
    conll_cold = export_bytes(project, "conll")
    spacy_warm = export_bytes(project, "spacy")
    assert sum(calls) == 3  # only the first export tokenised
    ArticleTokens.objects.all().delete()
    assert export_bytes(project, "spacy") == spacy_warm
    assert export_bytes(project, "conll") == conll_cold


def test_an_edited_text_is_tokenised_again(project, dataset, manager, monkeypatch):
    from annotations.services.articles import article_text_update

    export_bytes(project, "conll")
    article = dataset[0]
    old_hash = ArticleTokens.objects.get(article=article).text_hash
    article.refresh_from_db()
    article_text_update(article=article, text="The minister said 42 people died in the floods on Tuesday. "
                        "Officials disagreed.", user=manager, expected_version=article.version)
    article.refresh_from_db()
    calls = count_tokenised(monkeypatch)
    after_edit = export_bytes(project, "conll")
    assert calls == [1]  # only the edited article
    row = ArticleTokens.objects.get(article=article)
    assert row.text_hash == text_digest(article.text) != old_hash
    text = after_edit.decode()
    assert "Tuesday\tO" in text
    # the cache now holds the new tokens; a cold export gives the same bytes
    ArticleTokens.objects.all().delete()
    assert export_bytes(project, "conll") == after_edit


def test_a_stale_or_foreign_cache_row_is_not_used(project, dataset, monkeypatch):
    reference = export_bytes(project, "conll")
    a0, a1, a2 = dataset
    other = ArticleTokens.objects.get(article=a2).data
    # right hash but another tokenizer; a blob of another text under this text's hash
    ArticleTokens.objects.filter(article=a0).update(tokenizer="spacy-0.0-en/1")
    ArticleTokens.objects.filter(article=a1).update(data=other)
    calls = count_tokenised(monkeypatch)
    assert export_bytes(project, "conll") == reference
    assert sum(calls) == 2
    assert ArticleTokens.objects.get(article=a0).tokenizer == tokenizer_id()
    # what the export wrote for a1 is its own tokens again
    ArticleTokens.objects.filter(article=a1).update(text_hash="0" * 64)
    calls.clear()
    assert export_bytes(project, "conll") == reference
    assert calls == [1]


def test_exported_tokens_are_spacys(project, dataset):
    export_bytes(project, "conll")  # fills the cache
    warm = export_bytes(project, "conll").decode()
    tokens = [line.split("\t")[0] for line in warm.splitlines() if "\t" in line and not line.startswith("-DOCSTART-")]
    expected = [t.text for a in dataset for t in nlp().tokenizer(a.text) if not t.is_space]
    assert tokens == expected


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_tokens_are_stored_by_a_thread(project, dataset, monkeypatch):
    import threading

    import annotations.services.exports as exports

    stored_by = []
    real = exports.export_tokens_store

    def spy(fresh):
        stored_by.append(threading.current_thread().name)
        real(fresh)

    monkeypatch.setattr(exports, "export_tokens_store", spy)
    cold = export_bytes(project, "conll")
    assert stored_by == ["export-token-store"]
    assert ArticleTokens.objects.count() == 3  # written and committed before the export ended
    assert export_bytes(project, "conll") == cold
    assert export_bytes(project, "spacy") == export_bytes(project, "spacy")


def test_the_conll_stream_reads_no_links_but_a_counted_export_does(project, dataset):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.services.exports import ExportCounts

    fmt, filters = export_format_and_filters(format_name="conll", params={})
    with CaptureQueriesContext(connection) as streamed:
        body = b"".join(export_render(project=project, fmt=fmt, filters=filters))
    assert not any("annotations_relation" in q["sql"] for q in streamed.captured_queries)
    counts = ExportCounts()
    with CaptureQueriesContext(connection) as counted:
        assert b"".join(export_render(project=project, fmt=fmt, filters=filters, counts=counts)) == body
    assert any("annotations_relation" in q["sql"] for q in counted.captured_queries)
    assert counts.relations == 4


def test_approval_fills_the_cache_in_a_worker_so_the_first_export_needs_no_tokenizer(
        project, annotator, reviewer, monkeypatch, django_capture_on_commit_callbacks):
    """The broker is the edge of the world: the queued task runs here."""
    from annotations import tasks
    from annotations.services.workflow import review_approve, review_start
    from tests.review.helpers import annotate_and_submit

    monkeypatch.setattr(tasks.fill_token_cache, "delay", lambda ids: tasks.fill_token_cache.apply(args=(ids,)))
    article, _ = annotate_and_submit(project, {annotator: [("CLAIM", 0, 6)]},
                                     text="Police said 🇺🇦 aid arrived.\nThe mayor denied it.")
    review_start(article=article, user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(article=article, user=reviewer)
    cache = ArticleTokens.objects.get(article=article)
    assert cache.text_hash == text_digest(article.text) and cache.tokenizer == tokenizer_id()
    calls = count_tokenised(monkeypatch)
    warm = export_bytes(project, "conll")
    assert calls == []  # the export read the cache
    ArticleTokens.objects.all().delete()
    assert export_bytes(project, "conll") == warm and sum(calls) == 1  # same bytes when it tokenises itself


def test_refresh_fills_missing_and_foreign_rows_in_bounded_batches(project, dataset, monkeypatch):
    """After a spaCy upgrade (every row from another tokenizer) the beat task and the command fill
    the cache again, a bounded batch at a time, and leave good rows alone; exports then need no
    tokenizer. Articles that are not submitted or approved are left out."""
    from django.core.management import call_command

    from annotations.services.exports import article_tokens_refresh
    from annotations.tasks import refresh_token_cache
    from tests.support.factories import make_article

    draft = make_article(project, text="A draft nobody submitted.")
    a0, a1, a2 = dataset
    ArticleTokens.objects.all().delete()
    assert article_tokens_refresh(limit=2) == 2  # the lowest ids first
    assert set(ArticleTokens.objects.values_list("article_id", flat=True)) == {a0.id, a1.id}
    ArticleTokens.objects.filter(article=a0).update(tokenizer="spacy-0.0-en/1")  # an older spaCy's
    calls = count_tokenised(monkeypatch)
    assert refresh_token_cache.apply().get() == 2  # a0 again and a2; a1 is left alone
    assert calls == [2]
    assert set(ArticleTokens.objects.values_list("article_id", "tokenizer")) == {
        (a.id, tokenizer_id()) for a in dataset}
    assert not ArticleTokens.objects.filter(article=draft).exists()
    out = io.StringIO()
    call_command("fill_token_cache", "--project", project.slug, stdout=out)
    assert "0 articles tokenised" in out.getvalue()
    calls.clear()
    export_bytes(project, "spacy")
    assert calls == []


def test_fill_token_cache_command_names_a_missing_project(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="no project with the slug 'nope'"):
        call_command("fill_token_cache", "--project", "nope")

"""services.reader_process: outside a transaction on PostgreSQL, a token export reads its articles
in a child process (a forkserver's child with its own connection to the same database). The
files are the same as when they are read on a thread; errors reach the caller; leaving early ends
the child."""

import io
import multiprocessing

import pytest

from annotations.services import reader_process
from annotations.services.exports import export_format_and_filters, export_render, export_write

pytestmark = pytest.mark.django_db(transaction=True)


def export_bytes(project, fmt_name: str, **params) -> bytes:
    fmt, filters = export_format_and_filters(format_name=fmt_name, params=params)
    out = io.BytesIO()
    export_write(project=project, fmt=fmt, filters=filters, out=out)
    return out.getvalue()


def spy_reads(monkeypatch) -> list[dict]:
    calls = []
    real = reader_process.read_chunks

    def spy(**kwargs):
        stats = {}
        calls.append(stats)
        return real(**kwargs, stats=stats)

    monkeypatch.setattr(reader_process, "read_chunks", spy)
    return calls


@pytest.mark.parametrize("fmt_name,params", [("spacy", {}), ("conll", {}), ("spacy", {"label": "CLAIM"}),
                                             ("conll", {"include_suggestions": "true"})])
def test_the_child_reads_the_same_file_as_a_thread(project, dataset, settings, monkeypatch, fmt_name, params):
    calls = spy_reads(monkeypatch)
    in_child = export_bytes(project, fmt_name, **params)
    assert len(calls) == 1 and calls[0]["cpu"] > 0 and calls[0]["max_rss_kb"] > 0  # it ran, and finished
    settings.NEWSROOM = {**settings.NEWSROOM, "EXPORT_READER_PROCESS": False}
    assert export_bytes(project, fmt_name, **params) == in_child
    assert len(calls) == 1  # the setting turns it off


def test_job_progress_is_counted_per_chunk(project, dataset):
    fmt, filters = export_format_and_filters(format_name="conll", params={})
    seen = []
    data = b"".join(export_render(project=project, fmt=fmt, filters=filters, on_chunk=seen.append, chunk_size=2))
    assert seen == [2, 1] and data.count(b"-DOCSTART-") == 3


def test_an_error_in_the_child_is_raised_here(project, dataset):
    from annotations.selectors.exports import ExportFilters

    with pytest.raises(reader_process.ReaderProcessError, match="DoesNotExist"):
        list(reader_process.read_chunks(project_id=10**9, filters=ExportFilters().to_dict(), tokens=True,
                                        links=True, chunk_size=10))


def test_leaving_early_ends_the_child(project, dataset):
    from annotations.selectors.exports import ExportFilters

    chunks = reader_process.read_chunks(project_id=project.id, filters=ExportFilters().to_dict(), tokens=True,
                                        links=True, chunk_size=1)
    assert len(next(chunks)) == 1
    chunks.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "export-reader"]

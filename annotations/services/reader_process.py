"""Read a token export's articles in another process, so reading and formatting use both cores.

Why: a conll/spacy export is two Python loops, reading (rows -> article dicts) and formatting
(arrays, msgpack). On two threads of one process they share one GIL, and at N=10,000 each held it
for about 0.8 s. Here the reading runs in a child process (its own interpreter and database
connection) that sends each chunk of article dicts through a pipe; this process only unpickles
them.

The child comes from a multiprocessing *forkserver*: a small, clean, single-threaded process,
started at the first such export of a worker process and kept (Django and the selectors are
imported there once: `_reader_boot`; not spaCy). Forking the web process itself is not safe: a
child gets copies of every thread's database connection, and freeing them closes the sessions on
the server. The child is told which database to use (`settings_dict`), so it reads the same one as
the caller (tests use another name).

Errors in the child are raised here; leaving early kills it. Used only on PostgreSQL, outside a
transaction (whose snapshot another connection could not see), and with
NEWSROOM_EXPORT_READER_PROCESS on; otherwise the caller reads on a thread (services.exports).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Iterator
from functools import lru_cache


class ReaderProcessError(RuntimeError):
    """The reading process failed; the message carries its error."""


def usable() -> bool:
    from django.conf import settings
    from django.db import connection

    return (settings.NEWSROOM["EXPORT_READER_PROCESS"] and connection.vendor == "postgresql"
            and not connection.in_atomic_block and "forkserver" in multiprocessing.get_all_start_methods())


@lru_cache(maxsize=1)
def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["annotations.services._reader_boot"])
    return ctx


def _child(conn, settings_dict: dict, project_id: int, filters: dict, tokens: bool, links: bool,
           chunk_size: int) -> None:
    """In the child: every chunk of `export_articles`, sent as it is read, then ("done", usage)."""
    from django.db import connections

    try:
        import gc
        import resource

        import django

        django.setup()  # a no-op when the forkserver preloaded it
        gc.freeze()  # see _reader_boot
        connections["default"].settings_dict.update(settings_dict)
        from annotations.models import Project
        from annotations.selectors.exports import ExportFilters, export_articles

        chunk: list = []

        def send_chunk(n: int) -> None:  # export_articles calls it after a chunk's last article
            conn.send(("chunk", chunk))
            chunk.clear()

        project = Project.objects.get(pk=project_id)
        for article in export_articles(project=project, filters=ExportFilters.from_dict(filters),
                                       chunk_size=chunk_size, tokens=tokens, links=links, on_chunk=send_chunk):
            chunk.append(article)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("done", {"cpu": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss}))
    except BaseException:  # reported to the parent, which raises it
        with contextlib.suppress(OSError):  # the parent has gone: nobody to tell
            conn.send(("error", traceback.format_exc(limit=8)))
    finally:
        conn.close()
        connections.close_all()


def _database() -> dict:
    """What the child needs to connect to the database this thread uses."""
    from django.db import connection

    return {k: connection.settings_dict[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}


def read_chunks(*, project_id: int, filters: dict, tokens: bool, links: bool, chunk_size: int,
                stats: dict | None = None) -> Iterator[list]:
    """Yield the export's article dicts in chunks, read by a child process (see the module docstring).
    `stats`, if given, receives the child's CPU seconds and peak RSS (KB) once it has finished."""
    return _read(project_id, filters, tokens, links, chunk_size, _database(), stats)  # read in the caller's thread


def _read(project_id: int, filters: dict, tokens: bool, links: bool, chunk_size: int, settings_dict: dict,
          stats: dict | None) -> Iterator[list]:
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, name="export-reader", daemon=True,
                          args=(child, settings_dict, project_id, filters, tokens, links, chunk_size))
    process.start()
    child.close()
    finished = False
    try:
        while True:
            try:
                kind, value = parent.recv()
            except EOFError:
                raise ReaderProcessError("the export's reading process ended without finishing") from None
            if kind == "chunk":
                yield value
            elif kind == "done":
                finished = True
                if stats is not None:
                    stats.update(value)
                return
            else:
                raise ReaderProcessError(f"the export's reading process failed:\n{value}")
    finally:
        parent.close()
        if not finished and process.is_alive():
            process.kill()
        process.join(timeout=30)

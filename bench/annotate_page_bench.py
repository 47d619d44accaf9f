"""Annotate page speed: a 10,000-word article with 1,000 spans.

Prints:
  * server response time of the annotate page and of GET /api/assignments/{id}/ (median of N, Django
    test client in-process, real PostgreSQL), with their SQL query counts;
  * in headless Chromium (Playwright, Debian's /usr/bin/chromium) against a live server thread:
    page load to ready, hotkey-to-span latency (keydown -> new span element in the DOM -> the
    frame that shows it has been rendered: a task queued from the next animation frame runs after
    style, layout and paint) and the round trip until the server confirmed the save.

Runs in its own database (created and migrated first):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_bench_ws .venv/bin/python bench/annotate_page_bench.py
Options: --words 10000 --spans 1000 --suggestions 200 --runs 20 --presses 30 --no-browser
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nr_bench_ws")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Production-like settings (DEBUG off), served over plain http on the loopback interface.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

PASSWORD = "bench-pass-word-123"


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (PostgreSQL only)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_data(words: int, spans: int, suggestions: int):
    from django.contrib.auth import get_user_model

    from annotations.models import Membership, Project, Role, Span
    from annotations.services.articles import article_create
    from annotations.services.projects import project_create
    from annotations.services.workflow import assignment_next
    from tests.support.layers import big_text, bulk_spans

    Span.objects.filter(article__project__slug="bench-workspace").delete()  # labels are PROTECTed by spans
    Project.objects.filter(slug="bench-workspace").delete()
    user, _ = get_user_model().objects.get_or_create(username="bench-annotator")
    user.set_password(PASSWORD)
    user.save()
    project = project_create(name="Bench workspace", slug="bench-workspace", preannotator="fallback")
    Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
    article = article_create(project=project, text=big_text(words), title="Bench: 10,000 words",
                             preannotate=False)
    assignment = assignment_next(user=user, project=project)
    bulk_spans(article, assignment, spans, suggestions=suggestions)
    return user, assignment


def median_ms(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def server_figures(user, assignment, runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    page_url = reverse("web:annotate", args=[assignment.id])
    api_url = reverse("api:assignment-layer", args=[assignment.id])
    for url, label in ((page_url, "annotate page"), (api_url, "GET layer API")):
        resp = client.get(url)  # warm up
        assert resp.status_code == 200, resp.status_code
        queries = []
        with connection.execute_wrapper(lambda execute, sql, *a: (queries.append(sql), execute(sql, *a))[1]):
            client.get(url)
        med, worst = median_ms(lambda u=url: client.get(u), runs)
        print(f"server  {label:<16} median {med:7.1f} ms   max {worst:7.1f} ms   "
              f"{len(queries)} SQL queries   {len(resp.content) / 1024:.0f} KiB")


SELECT_AND_ARM = """
([start, end]) => {
  const root = document.getElementById('article-text');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let pos = 0, n, a, ao, b, bo;
  while ((n = walker.nextNode())) {
    const len = n.data.length;
    if (a === undefined && start < pos + len) { a = n; ao = start - pos; }
    if (b === undefined && end <= pos + len) { b = n; bo = end - pos; }
    pos += len;
  }
  window.getSelection().setBaseAndExtent(a, ao, b, bo);
  const m = window.__bench = {t0: null, dom: null, frame: null};
  const obs = new MutationObserver(() => {
    if (m.dom === null && m.t0 !== null) {
      m.dom = performance.now();
      requestAnimationFrame(() => setTimeout(() => { m.frame = performance.now(); }, 0));
      obs.disconnect();
    }
  });
  obs.observe(root, {childList: true, subtree: true});
  return window.NewsroomAnnotate.timings.length;
}
"""


def browser_figures(user, assignment, presses: int) -> None:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={}, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    text = assignment.article.text
    # word starts (UTF-16 == code points here only if no astral chars before; use the page's own index)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            loads = []
            for _ in range(3):
                t0 = time.perf_counter()
                page.goto(f"{base}/annotate/{assignment.id}/")
                page.wait_for_function("() => document.body.dataset.annotateReady === '1'")
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                loads.append((time.perf_counter() - t0) * 1000)
            render_ms = page.evaluate("() => window.NewsroomAnnotate.lastRenderMs")
            handles = page.locator(".nr-h").count()
            print(f"browser page load to interactive: median {statistics.median(loads):.0f} ms "
                  f"(first render of the text {render_ms:.1f} ms, {handles} span elements)")
            page.evaluate("() => window.addEventListener('keydown', () => { if (window.__bench) "
                          "window.__bench.t0 = performance.now(); }, true)")
            words = [i for i in range(1, len(text) - 1) if text[i - 1] == " " and text[i] != " "]
            dom, frame, saved, side = [], [], [], []
            step = max(1, len(words) // (presses + 1))
            for k in range(presses):
                # a 4-word selection, in UTF-16 units as the browser counts them
                w = words[(k + 1) * step]
                end_cp = w
                for _ in range(4):
                    end_cp = text.find(" ", end_cp + 1)
                s16, e16 = page.evaluate(
                    "([s, e]) => { const i = new NewsroomOffsets.Utf16Index("
                    "document.getElementById('article-text').textContent); return [i.toUtf16(s), i.toUtf16(e)]; }",
                    [w, end_cp])
                before = page.evaluate(SELECT_AND_ARM, [s16, e16])
                page.keyboard.press("1")
                page.wait_for_function("() => window.__bench.frame !== null")
                m = page.evaluate("() => window.__bench")
                dom.append(m["dom"] - m["t0"])
                frame.append(m["frame"] - m["t0"])
                page.wait_for_function(f"() => window.NewsroomAnnotate.timings.length > {before}")
                saved.append(page.evaluate("() => window.NewsroomAnnotate.timings.at(-1).saved"))
                page.wait_for_function("() => (window.NewsroomAnnotate.sideUpdatedAt || 0) > window.__bench.t0")
                side.append(page.evaluate("() => window.NewsroomAnnotate.sideUpdatedAt - window.__bench.t0"))
            print(f"browser hotkey -> side lists updated:  median {statistics.median(side):.1f} ms, "
                  f"max {max(side):.1f} ms (span list, links; done when the page is idle)")
            state = page.evaluate("() => document.getElementById('save-state').dataset.state")
            print(f"browser hotkey -> span element in DOM: median {statistics.median(dom):.1f} ms, "
                  f"max {max(dom):.1f} ms ({presses} presses)")
            print(f"browser hotkey -> frame rendered:       median {statistics.median(frame):.1f} ms, "
                  f"max {max(frame):.1f} ms")
            print(f"browser hotkey -> saved on the server:   median {statistics.median(saved):.1f} ms, "
                  f"max {max(saved):.1f} ms (save state now '{state}')")
            browser.close()
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=1_000)
    parser.add_argument("--suggestions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    user, assignment = setup_data(args.words, args.spans, args.suggestions)
    article = assignment.article
    print(f"article: {len(article.text.split())} words, {len(article.text)} code points; layer: "
          f"{assignment.spans.count()} spans + {args.suggestions} pending suggestions "
          f"(database {os.environ['DATABASE_URL'].rsplit('/', 1)[1]})")
    server_figures(user, assignment, args.runs)
    if not args.no_browser:
        browser_figures(user, assignment, args.presses)


if __name__ == "__main__":
    main()

"""Review area speed: project agreement, the review queue and the review page on a big project.

Builds (once, in its own database) a project of N articles with 3 annotators each (each layer ~12
spans, with deliberate disagreements), all submitted, then prints the median server time and the
SQL query count of:
  * project_agreement() (every pair, per label, exact/overlap F1 and token kappa), with an empty
    cache (every article's counts computed) and a warm one (only changed articles are recomputed)
  * GET /projects/<id>/ (agreement table + charts + progress)
  * GET /review/ (the queue with disagreement flags; at most 500 rows)
  * GET /review/<article>/ (compare page)
  * GET /projects/<id>/progress/?format=csv

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_bench_review .venv/bin/python bench/review_bench.py
Options: --articles 300 --runs 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nr_bench_review")

WORDS = str.split("the minister said that taxes rose sharply while police denied any wrongdoing and "
         "officials confirmed the report according to sources close to the talks")


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build(n_articles: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from annotations.models import (
        Article,
        ArticleStatus,
        Assignment,
        AssignmentStatus,
        LabelType,
        Membership,
        Project,
        Role,
        Span,
    )
    from annotations.services.articles import text_hash
    from annotations.services.projects import project_create

    slug = f"bench-review-{n_articles}"
    project = Project.objects.filter(slug=slug).first()
    User = get_user_model()
    reviewer, _ = User.objects.get_or_create(username="bench-reviewer", defaults={"is_staff": True})
    if project is not None:
        return project, reviewer
    rng = random.Random(7)
    project = project_create(name=f"Bench review {n_articles}", slug=slug, preannotator="fallback",
                             annotators_per_article=3)
    annotators = [User.objects.get_or_create(username=f"bench-ann{i}")[0] for i in range(3)]
    Membership.objects.bulk_create([Membership(project=project, user=u, role=Role.ANNOTATOR) for u in annotators]
                                   + [Membership(project=project, user=reviewer, role=Role.REVIEWER)])
    labels = list(LabelType.objects.filter(project=project))
    now = timezone.now()
    articles = []
    for i in range(n_articles):
        text = f"Story {i}. " + " ".join(rng.choice(WORDS) for _ in range(400)) + "."
        articles.append(Article(project=project, title=f"Story {i}", text=text, text_hash=text_hash(text),
                                status=ArticleStatus.SUBMITTED))
    Article.objects.bulk_create(articles)
    slots = [Assignment(article=a, user=u, status=AssignmentStatus.SUBMITTED,
                        submitted_at=now - timezone.timedelta(days=rng.randrange(60)))
             for a in articles for u in annotators]
    Assignment.objects.bulk_create(slots)
    spans = []
    for slot in slots:
        text = slot.article.text
        for k in range(12):
            start = (k * 170 + 10) % (len(text) - 40)
            if rng.random() < 0.2:
                start += rng.randrange(1, 6)  # boundary disagreement
            if rng.random() < 0.1:
                continue  # a missed span
            end = start + 25
            label = labels[k % 2]
            spans.append(Span(article_id=slot.article_id, assignment=slot, label=label, start=start, end=end,
                              text=text[start:end]))
    Span.objects.bulk_create(spans, batch_size=5000)
    return project, reviewer


def timed(fn, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        queries = len(ctx.captured_queries)
    return statistics.median(times) * 1000, queries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    from django.test import Client

    from annotations.selectors.review import project_agreement

    project, reviewer = build(args.articles)
    client = Client()
    client.force_login(reviewer)
    article_id = project.articles.order_by("id").values_list("id", flat=True).first()

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        return run

    print(f"project: {args.articles} articles x 3 annotators, ~{args.articles * 3 * 11} spans; median of {args.runs}")
    from django.core.cache import cache

    def cold_agreement():
        cache.clear()  # every article's counts computed again (after a deploy, or a new cache)
        project_agreement(project=project)

    for name, fn in [
        ("project_agreement(), cold cache", cold_agreement),
        ("project_agreement(), warm cache", lambda: project_agreement(project=project)),
        ("GET /projects/<id>/", get(f"/projects/{project.id}/")),
        ("GET /review/", get("/review/")),
        ("GET /review/<article>/", get(f"/review/{article_id}/")),
        ("GET /projects/<id>/progress/?format=csv", get(f"/projects/{project.id}/progress/?format=csv")),
    ]:
        ms, queries = timed(fn, args.runs)
        print(f"{name:42s} {ms:9.1f} ms  {queries:3d} queries")


if __name__ == "__main__":
    main()

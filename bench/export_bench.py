"""Dataset export through the API: N approved articles (~600 words, 20 spans, 10 links each).

Usage (from the repository root; PostgreSQL on 127.0.0.1):

    .venv/bin/python bench/export_bench.py [--n 1000 --n 10000] [--formats jsonl,doccano,...]
        [--db nr_bench_export] [--port 8766] [--workers 1] [--keep]

It recreates the database `--db` (migrate), generates one project per N with N approved articles
(bulk_create: articles, the reviewer's kind=review layer with 20 spans and 10 CLAIM->SOURCE links,
the approving Review), starts gunicorn (newsroom.wsgi, DEBUG off) on 127.0.0.1 and, for each N and
format, downloads `GET /api/projects/{id}/export/?format=F` with a Bearer token, timing the whole
download (first byte to last) and reading the gunicorn worker's peak RSS (VmHWM in
/proc/<pid>/status; the peak is reset before each download through /proc/<pid>/clear_refs).
conll and spacy are downloaded twice: "cold", after emptying the project's token cache
(ArticleTokens), so the export runs the tokenizer (and fills the cache), then "warm", reading the
cached tokens; both must give the same bytes (sha256 printed). It also times spaCy's own tokenizer
(`nlp.tokenizer.pipe`) and tokenizer + sentencizer (`nlp.pipe`, what conll/spacy compute) over the
same texts, in the same run, and prints a table with the ratios: each format against jsonl, and
conll/spacy (cold and warm) against the tokenizer. conll/spacy read their articles in a helper
process (services.reader_process): its CPU is sampled every 20 ms and added to the CPU column, and
its peak RSS is printed on the format's line.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))

FORMATS = ["jsonl", "doccano", "label-studio", "csv", "conll", "spacy"]
TOKEN_FORMATS = ("conll", "spacy")  # timed twice: cold (token cache emptied first) and warm
WORDS = [
    "the", "government", "said", "on", "monday", "that", "officials", "would", "review", "budget", "after",
    "reports", "showed", "a", "sharp", "rise", "in", "spending", "across", "regions", "while", "critics", "argued",
    "plan", "lacked", "detail", "and", "experts", "warned", "of", "delays", "hospitals", "schools", "transport",
    "networks", "according", "to", "documents", "seen", "by", "reporters", "capital", "where", "protesters",
    "gathered", "outside", "parliament"
]
NAMES = ["Minister Jane Roe", "Police spokesman Ali Hassan", "Mayor Ana López", "Dr. Chen Wei", "the ministry",
         "Senator O'Neil", "Kateryna Kovalenko", "an official", "the company", "União spokesperson"]


def article_text(i: int, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    """About 600 words in 10 paragraphs; in each a SOURCE and a CLAIM span."""
    parts = [f"Report {i}: budget review 📰\n\n"]
    spans = []
    pos = len(parts[0])
    for _ in range(10):
        source = rng.choice(NAMES)
        claim = " ".join(rng.choice(WORDS) for _ in range(12)) + f" by {rng.randint(2, 99)} percent"
        head = " ".join(rng.choice(WORDS) for _ in range(42)).capitalize() + ". "
        para = f"{head}{source} said {claim}, in a statement on day {i % 28 + 1}.\n\n"
        s0 = pos + len(head)
        c0 = s0 + len(source) + len(" said ")
        spans.append(("SOURCE", s0, s0 + len(source)))
        spans.append(("CLAIM", c0, c0 + len(claim)))
        parts.append(para)
        pos += len(para)
    return "".join(parts).rstrip("\n"), spans


def setup_db(db: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)


def generate(n: int, reviewer, scientist) -> int:
    """A project with n approved articles; returns its id."""
    from django.db import transaction

    from annotations.models import (
        Article,
        ArticleStatus,
        Assignment,
        AssignmentKind,
        AssignmentStatus,
        LabelType,
        Membership,
        Relation,
        RelationType,
        Review,
        ReviewDecision,
        Role,
        Span,
    )
    from annotations.services.projects import project_create

    rng = random.Random(n)
    with transaction.atomic():
        project = project_create(name=f"Bench export {n}", slug=f"bench-export-{n}", preannotator="fallback")
        Membership.objects.bulk_create([Membership(project=project, user=reviewer, role=Role.REVIEWER),
                                        Membership(project=project, user=scientist, role=Role.EDITOR)])
        labels = {lt.name: lt for lt in LabelType.objects.filter(project=project)}
        rtype = RelationType.objects.get(project=project, name="attributed_to")
    batch = 1000
    for b0 in range(0, n, batch):
        with transaction.atomic():
            texts = [article_text(i, rng) for i in range(b0, min(n, b0 + batch))]
            articles = Article.objects.bulk_create([
                Article(project=project, title=f"Budget review {b0 + k}", text=t,
                        text_hash=hashlib.sha256(t.encode()).hexdigest(), outlet="Wire",
                        url=f"https://news.example.org/{b0 + k}", meta={"desk": "economy"},
                        status=ArticleStatus.APPROVED)
                for k, (t, _) in enumerate(texts)
            ])
            layers = Assignment.objects.bulk_create([
                Assignment(article=a, user=reviewer, kind=AssignmentKind.REVIEW, status=AssignmentStatus.DONE)
                for a in articles
            ])
            spans = Span.objects.bulk_create([
                Span(article=a, assignment=lay, label=labels[lab], start=s, end=e, text=t[s:e], created_by=reviewer)
                for a, lay, (t, sp) in zip(articles, layers, texts, strict=True) for lab, s, e in sp
            ], batch_size=5000)
            Relation.objects.bulk_create([
                Relation(article=spans[j].article, assignment=spans[j].assignment, type=rtype,
                         from_span=spans[j + 1], to_span=spans[j], created_by=reviewer)
                for j in range(0, len(spans), 2)
            ], batch_size=5000)
            Review.objects.bulk_create([Review(article=a, reviewer=reviewer, decision=ReviewDecision.APPROVED)
                                        for a in articles])
    return project.id


def start_server(port: int, workers: int, env: dict):
    cmd = [PY, "-m", "gunicorn", "newsroom.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
           "--timeout", "600", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=2)
        except urllib.error.HTTPError:
            break  # 401/403: the app answers
        except OSError:
            time.sleep(0.3)
            continue
        break
    return proc


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pids: list[int]) -> list[int]:
    """Every process below `pids` (the export's reading helper: a forkserver and its children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class HelperSampler(threading.Thread):
    """Samples the worker's helper processes every 20 ms during a download: their CPU seconds (the
    last sample of each; a child's last 20 ms may be missed) and peak RSS (VmHWM), so the figures
    count the reading process too, not only the gunicorn worker."""

    def __init__(self, workers: list[int]):
        super().__init__(daemon=True)
        self.workers, self.stop = workers, threading.Event()
        self.base = {pid: self._cpu(pid) for pid in descendants(workers)}
        self.cpu: dict[int, float] = {}
        self.hwm: dict[int, int] = {}

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            return cpu_seconds(pid)
        except OSError:
            return 0.0

    def run(self) -> None:
        while not self.stop.wait(0.02):
            for pid in descendants(self.workers):
                try:
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
                    self.hwm[pid] = max(self.hwm.get(pid, 0), status_kb(pid, "VmHWM"))
                except OSError:
                    pass

    def finish(self) -> tuple[float, int]:
        """(CPU seconds of the helpers during the download, largest helper peak RSS in KB)"""
        self.stop.set()
        self.join()
        cpu = sum(c - self.base.get(pid, 0.0) for pid, c in self.cpu.items())
        return cpu, max(self.hwm.values(), default=0)


def download(port: int, project_id: int, fmt: str, token: str, query: str = "") -> tuple[float, int]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/projects/{project_id}/export/?format={fmt}{query}",
                                 headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    size = 0
    digest = hashlib.sha256()
    with urllib.request.urlopen(req, timeout=900) as r:
        assert r.status == 200, r.status
        while block := r.read(1 << 20):
            size += len(block)
            digest.update(block)
    return time.perf_counter() - t0, size, digest.hexdigest()


def tokenizer_times(project_id: int) -> tuple[float, float]:
    from annotations.exporters.tokenize import nlp
    from annotations.models import Article

    texts = list(Article.objects.filter(project_id=project_id).order_by("id").values_list("text", flat=True))
    import spacy

    tokenizer = nlp().tokenizer
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in tokenizer.pipe(texts, batch_size=256):
        pass
    tok = time.perf_counter() - t0
    tok_cpu = time.process_time() - c0
    with_sentencizer = spacy.blank("en")
    with_sentencizer.add_pipe("sentencizer")
    t0 = time.perf_counter()
    for _ in with_sentencizer.pipe(texts, batch_size=256):
        pass
    return tok, tok_cpu, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--db", default="nr_bench_export")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="downloads per format; the best time is kept")
    ap.add_argument("--reuse", action="store_true", help="keep the database of a previous run (same --n)")
    args = ap.parse_args()
    sizes = args.n or [1000, 10000]
    formats = args.formats.split(",")
    env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}", DEBUG="False",
               SECRET_KEY=secrets.token_urlsafe(48), SECURE_SSL_REDIRECT="False", AXES_ENABLED="False",
               DJANGO_SETTINGS_MODULE="newsroom.settings", LOG_LEVEL="WARNING")
    os.environ.update(env)
    if not args.reuse:
        setup_db(args.db)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from annotations.models import Project
    from annotations.services.tokens import token_create

    User = get_user_model()
    projects = {}
    if args.reuse:
        scientist = User.objects.get(username="bench-scientist")
        projects = {n: Project.objects.get(slug=f"bench-export-{n}").id for n in sizes}
    else:
        reviewer = User.objects.create_user("bench-reviewer", password=secrets.token_urlsafe(12))
        scientist = User.objects.create_user("bench-scientist", password=secrets.token_urlsafe(12))
        for n in sizes:
            t0 = time.perf_counter()
            projects[n] = generate(n, reviewer, scientist)
            print(f"generated {n} articles in {time.perf_counter() - t0:.1f} s", flush=True)
    _, token = token_create(user=scientist, name="bench")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # planner statistics, as autovacuum would have them on a live database
    from annotations.models import Article

    warm_ids = {n: Article.objects.filter(project_id=pid).order_by("id").values_list("id", flat=True).first()
                for n, pid in projects.items()}

    from annotations.models import ArticleTokens

    def clear_token_cache(project_id: int) -> int:
        deleted = ArticleTokens.objects.filter(article__project_id=project_id).delete()[0]
        connection.close()
        return deleted

    connection.close()
    results = {}
    rows = []  # (format, variant): "cold" tokenises (and fills the token cache), "warm" reads the cache
    # One fresh gunicorn per format, so each format's memory is measured in a clean worker.
    for fmt in formats:
        variants = ["cold", "warm"] if fmt in TOKEN_FORMATS else [""]
        rows += [(fmt, v) for v in variants]
        server = start_server(args.port, args.workers, env)
        try:
            pids = worker_pids(server.pid)
            # warm-up: load the format's code (spaCy for conll/spacy) with a one-article export
            download(args.port, projects[sizes[0]], fmt, token, f"&ids={warm_ids[sizes[0]]}")
            for n in sizes:
                for variant in variants:
                    best = None
                    for _ in range(args.repeat):
                        if variant == "cold":
                            clear_token_cache(projects[n])
                        for pid in pids:
                            reset_peak(pid)
                        before = max(status_kb(pid, "VmRSS") for pid in pids)
                        cpu0 = sum(cpu_seconds(pid) for pid in pids)
                        helpers = HelperSampler(pids)
                        helpers.start()
                        seconds, size, sha = download(args.port, projects[n], fmt, token)
                        helper_cpu, helper_peak = helpers.finish()
                        cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0 + helper_cpu
                        peak = max(status_kb(pid, "VmHWM") for pid in pids)
                        if best is None or seconds < best[0]:
                            best = (seconds, size, peak, before, cpu, sha, helper_cpu, helper_peak)
                    results[(n, fmt, variant)] = best
                    s, size, peak, before, cpu, sha, helper_cpu, helper_peak = best
                    helper = (f" reading process: CPU {helper_cpu:.2f} s, peak RSS {helper_peak / 1024:.0f} MB"
                              if helper_peak else "")
                    print(f"N={n:>6} {fmt:<13} {variant:<4} {s:7.2f} s (CPU {cpu:6.2f} s) {size / 1e6:9.1f} MB  "
                          f"worker peak RSS {peak / 1024:6.0f} MB (before {before / 1024:.0f} MB) "
                          f"sha256 {sha[:16]}{helper}", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    connection.connect()
    print()
    print(f"load average during the run: {os.getloadavg()}")
    print(f"{'N':>6} {'format':<18} {'seconds':>8} {'CPU s':>7} {'MB':>8} {'peak RSS MB':>12} {'x jsonl':>8} "
          f"x tokenizer (wall, CPU)")
    for n in sizes:
        tok, tok_cpu, tok_sent = tokenizer_times(projects[n])
        base = results.get((n, "jsonl", ""), (None,))[0]
        for fmt, variant in rows:
            s, size, peak, _, cpu, _sha, _hcpu, _hpeak = results[(n, fmt, variant)]
            vs_json = f"{s / base:8.2f}" if base else f"{'-':>8}"
            vs_tok = f"{s / tok:6.2f} ({cpu / tok_cpu:.2f} CPU)" if fmt in TOKEN_FORMATS else ""
            name = f"{fmt} {variant}".strip()
            print(f"{n:>6} {name:<18} {s:8.2f} {cpu:7.2f} {size / 1e6:8.1f} {peak / 1024:12.0f} {vs_json} {vs_tok}")
        for fmt in TOKEN_FORMATS:
            if (n, fmt, "cold") in results:
                same = results[(n, fmt, "cold")][5] == results[(n, fmt, "warm")][5]
                print(f"{n:>6} {fmt}: cold and warm downloads {'identical' if same else 'DIFFER'} (sha256)")
        print(f"{n:>6} spaCy nlp.tokenizer.pipe {tok:.2f} s (CPU {tok_cpu:.2f} s); with spaCy's sentencizer "
              f"(nlp.pipe) {tok_sent:.2f} s")
    print("targets: jsonl < 3 s at N=10000, peak RSS < 300 MB and flat in N; other formats < 3x jsonl; "
          "conll/spacy <= 1.5x the tokenizer")


if __name__ == "__main__":
    main()

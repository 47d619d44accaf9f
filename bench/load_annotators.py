"""Load: N concurrent annotators creating and deleting spans through the span API.

Set-up, all real: PostgreSQL (its own database, dropped and re-created), Redis as the Celery
broker, gunicorn with 2 workers on the loopback interface, DEBUG off. Each simulated annotator
logs in with its own API token and works in its own assignment (so version conflicts are not
expected; a 409 is handled by re-reading the layer and counted separately, not as an error).
Load comes from locust (FastHttpUser, headless, as a library). Afterwards every acknowledged
create and delete is checked against the database.

    .venv/bin/python bench/load_annotators.py                 # 50 users, 120 s
    .venv/bin/python bench/load_annotators.py --users 50 --duration 120 --think 0.5:1.5

Prints p50/p95/p99 save latency (create + delete), per-operation figures, errors, 409s, requests/s,
and the verification result. Exit status 1 if there were errors or a lost/phantom change.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/nr_bench_load"
WORDS = ["minister", "police", "said", "reported", "according", "officials", "statement", "agency", "claimed",
         "spokesman", "people", "hospital", "government", "figures", "announced", "warned", "council", "mayor",
         "court", "ruling"]


def django_env(db_url: str, broker: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "DEBUG": "false",
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
    })
    return env


# --- phases that run in a Django subprocess ---------------------------------------------------

def _django():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(users: int) -> dict:
    """A project, one article and one assignment per annotator, one API token each."""
    _django()
    from annotations.models import LabelType, Role
    from annotations.services.tokens import token_create
    from annotations.services.workflow import assignments_assign
    from tests.support.factories import UserFactory, make_article, make_project

    rng = random.Random(7)
    manager = UserFactory(username="bench-manager")
    annotators = [UserFactory(username=f"bench-annotator-{i:03d}") for i in range(users)]
    project = make_project(name="Load bench", slug="load-bench", annotators_per_article=1,
                           members=[(manager, Role.MANAGER)] + [(u, Role.ANNOTATOR) for u in annotators])
    labels = list(LabelType.objects.filter(project=project).values_list("id", flat=True))
    out = []
    for user in annotators:
        text = " ".join(rng.choice(WORDS) for _ in range(400)) + "."
        article = make_article(project, text=text, title=f"Article for {user.username}")
        [assignment] = assignments_assign(articles=[article], users=[user], actor=manager)
        _, key = token_create(user=user, name="load bench")
        out.append({"assignment": assignment.id, "key": key, "text": text, "labels": labels})
    return {"users": out}


def verify(state_path: str) -> dict:
    """Compare the acknowledged state of every layer with the database."""
    _django()
    from annotations.models import Origin, Span, SuggestionState

    state = json.loads(Path(state_path).read_text())
    missing, phantom, resurrected = [], [], []
    checked = 0
    for assignment_id, expected in state["present"].items():
        in_db = set(Span.objects.filter(assignment_id=int(assignment_id), origin=Origin.HUMAN,
                                        state=SuggestionState.ACCEPTED).values_list("id", flat=True))
        expected = set(expected)
        unknown = set(state["uncertain"].get(assignment_id, []))
        missing += sorted(expected - in_db - unknown)
        phantom += sorted(in_db - expected - unknown)
        checked += len(expected)
    deleted = [i for ids in state["deleted"].values() for i in ids]
    resurrected = sorted(Span.objects.filter(id__in=deleted).values_list("id", flat=True))
    return {"checked_present": checked, "checked_deleted": len(deleted), "missing": missing,
            "phantom": phantom, "resurrected": resurrected}


# --- the orchestration -------------------------------------------------------------------------

def recreate_database(db_url: str) -> None:
    import psycopg

    name = db_url.rsplit("/", 1)[1].split("?")[0]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def worker_cpu(master_pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each gunicorn worker (children of the master)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # field 4 (ppid), counted after the ")"
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def run_sub(args: list[str], env: dict) -> str:
    result = subprocess.run([PY, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return result.stdout


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def run_load(host: str, users_data: list[dict], duration: float, think: tuple[float, float], state_path: str):
    """Locust, in this process (it monkey-patches with gevent on import, so it comes last)."""
    import gevent
    from locust import FastHttpUser, events, task
    from locust.env import Environment
    from locust.exception import StopUser

    pool = list(users_data)
    present: dict[str, set] = {}
    deleted: dict[str, list] = {}
    uncertain: dict[str, list] = {}
    counters = {"conflicts": 0, "errors": 0, "error_samples": []}
    # Stopping waits for the requests in flight: killing a user mid-request would leave a change
    # the server made but the client never heard of (or the reverse), which is not a lost write.
    flags = {"stop": False, "inflight": 0}

    class Annotator(FastHttpUser):
        host_ = host

        def wait_time(self):
            return random.uniform(*think)

        def on_start(self):
            me = pool.pop()
            self.aid = str(me["assignment"])
            self.text = me["text"]
            self.labels = me["labels"]
            self.auth = {"Authorization": f"Bearer {me['key']}"}
            self.url = f"/api/assignments/{self.aid}/"
            self.mine: dict[int, tuple] = {}
            present[self.aid] = set()
            deleted[self.aid] = []
            uncertain[self.aid] = []
            self.boundaries = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == " "]
            self.refresh()

        def refresh(self, reconcile=False):
            """Re-read the layer; after an unanswered write, adopt the server's truth for this layer
            (the spans whose fate is unknown are then neither acknowledged nor counted as lost)."""
            with self.client.get(self.url, headers=self.auth, name="layer GET", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"layer {r.status_code}")
                    return
                data = r.json()
                self.version = data["version"]
            if reconcile:
                server = {s["id"]: (s["label"], s["start"], s["end"]) for s in data["spans"]
                          if s.get("origin") == "human"}
                for span_id in set(server) ^ set(self.mine):
                    uncertain[self.aid].append(span_id)
                    present[self.aid].discard(span_id)
                self.mine = {k: v for k, v in server.items() if k in self.mine}

        def _fail(self, r, what):
            counters["errors"] += 1
            if len(counters["error_samples"]) < 10:
                counters["error_samples"].append(f"{what}: {r.status_code} {(r.text or str(r.error))[:200]!r}")
            r.failure(f"{what} {r.status_code}")

        @task
        def edit(self):
            if flags["stop"]:
                raise StopUser()
            flags["inflight"] += 1
            try:
                if len(self.mine) < 4 or (len(self.mine) < 40 and random.random() < 0.5):
                    self.create()
                else:
                    self.delete()
            finally:
                flags["inflight"] -= 1

        def create(self):
            for _ in range(20):
                i = random.randrange(len(self.boundaries) - 4)
                start = self.boundaries[i]
                end = self.boundaries[i + random.randint(1, 3)] - 1
                label = random.choice(self.labels)
                if (label, start, end) not in self.mine.values():
                    break
            body = {"label": label, "start": start, "end": end, "text": self.text[start:end],
                    "expected_version": self.version}
            with self.client.post(f"{self.url}spans/", json=body, headers=self.auth, name="span create",
                                  catch_response=True) as r:
                if r.status_code == 201:
                    data = r.json()
                    self.version = data["version"]
                    self.mine[data["span"]["id"]] = (label, start, end)
                    present[self.aid].add(data["span"]["id"])
                elif r.status_code == 409:
                    counters["conflicts"] += 1
                    r.success()
                    self.refresh()
                else:
                    self._fail(r, "create")
                    if r.status_code == 0:  # no answer: the change may or may not have happened
                        self.refresh(reconcile=True)

        def delete(self):
            span_id = random.choice(list(self.mine))
            with self.client.request("DELETE", f"{self.url}spans/{span_id}/", json={"expected_version": self.version},
                                     headers=self.auth, name="span delete", catch_response=True) as r:
                if r.status_code == 200:
                    self.version = r.json()["version"]
                    del self.mine[span_id]
                    present[self.aid].discard(span_id)
                    deleted[self.aid].append(span_id)
                elif r.status_code == 409:
                    counters["conflicts"] += 1
                    r.success()
                    self.refresh()
                else:
                    self._fail(r, "delete")
                    if r.status_code == 0:
                        self.refresh(reconcile=True)

    Annotator.host = host
    env = Environment(user_classes=[Annotator], events=events)
    runner = env.create_local_runner()
    runner.start(len(users_data), spawn_rate=len(users_data))
    gevent.sleep(duration)
    flags["stop"] = True
    drain_deadline = time.monotonic() + 120
    while flags["inflight"] and time.monotonic() < drain_deadline:
        gevent.sleep(0.05)
    runner.quit()
    if flags["inflight"]:
        raise SystemExit(f"{flags['inflight']} requests still in flight after 120 s")

    state = {"present": {k: sorted(v) for k, v in present.items()}, "deleted": deleted,
             "uncertain": {k: sorted(set(v) | set()) for k, v in uncertain.items()}}
    Path(state_path).write_text(json.dumps(state))
    stats = env.stats
    out = {"duration": duration, "errors": counters["errors"] + stats.total.num_failures - 0,
           "locust_failures": stats.total.num_failures, "conflicts": counters["conflicts"],
           "error_samples": counters["error_samples"], "ops": {}}
    saves = []
    for (name, method), entry in stats.entries.items():
        out["ops"][f"{method} {name}"] = {
            "requests": entry.num_requests, "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5), "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99), "max": entry.max_response_time,
            "rps": entry.num_requests / duration,
        }
        if name in ("span create", "span delete"):
            saves.append(entry)
    from locust.stats import StatsEntry

    combined = StatsEntry(stats, "saves", "", use_response_times_cache=False)
    for entry in saves:
        combined.extend(entry)
    out["saves"] = {"requests": combined.num_requests, "p50": combined.get_response_time_percentile(0.5),
                    "p95": combined.get_response_time_percentile(0.95),
                    "p99": combined.get_response_time_percentile(0.99), "max": combined.max_response_time}
    out["total_requests"] = stats.total.num_requests
    out["rps"] = stats.total.num_requests / duration
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--think", default="0.5:1.5", help="pause between an annotator's edits, min:max seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--worker-connections", type=int, default=1000,
                        help="gunicorn's cap on open connections per worker (its default: 1000)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split(":"))
    env = django_env(args.db_url, args.broker)

    print(f"database {args.db_url} (re-created), broker {args.broker}")
    recreate_database(args.db_url)
    run_sub(["manage.py", "migrate", "--noinput"], env)
    seeded = json.loads(run_sub([__file__, "_seed", str(args.users)], env).strip().splitlines()[-1])
    if not args.port:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    host = f"http://127.0.0.1:{args.port}"
    gunicorn = subprocess.Popen(
        [PY, "-m", "gunicorn", "newsroom.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
         "--worker-connections", str(args.worker_connections),
         "--log-level", "warning", "--timeout", "60", "--keep-alive", "75"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_http(f"{host}/accounts/login/")
        print(f"gunicorn: {args.workers} workers x {args.threads} threads on {host}; "
              f"{args.users} annotators for {args.duration:.0f} s, think time {think[0]}-{think[1]} s")
        load_before = os.getloadavg()
        cpu_before = worker_cpu(gunicorn.pid)
        with tempfile.TemporaryDirectory() as tmp:
            state_path = str(Path(tmp) / "state.json")
            result = run_load(host, seeded["users"], args.duration, think, state_path)
            cpu_after = worker_cpu(gunicorn.pid)
            load_after = os.getloadavg()
            check = json.loads(run_sub([__file__, "_verify", state_path], env).strip().splitlines()[-1])
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)

    print()
    print(f"{'operation':<24}{'requests':>9}{'fail':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'max ms':>8}{'req/s':>8}")
    for name, o in sorted(result["ops"].items()):
        print(f"{name:<24}{o['requests']:>9}{o['failures']:>6}{o['p50']:>8.0f}{o['p95']:>8.0f}{o['p99']:>8.0f}"
              f"{o['max']:>8.0f}{o['rps']:>8.1f}")
    s = result["saves"]
    print(f"\nsaves (create+delete): {s['requests']} requests, p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, "
          f"p99 {s['p99']:.0f} ms, max {s['max']:.0f} ms")
    print(f"all requests: {result['total_requests']} in {result['duration']:.0f} s = {result['rps']:.1f} req/s")
    used = {pid: cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after}
    total_cpu = sum(used.values())
    print(f"gunicorn workers' CPU: {total_cpu:.1f} s in all ("
          + ", ".join(f"{v:.1f} s" for v in sorted(used.values(), reverse=True))
          + f"), {1000 * total_cpu / max(result['total_requests'], 1):.1f} ms per request")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"errors: {result['locust_failures']}   409 conflicts (re-read, not errors): {result['conflicts']}")
    for sample in result["error_samples"]:
        print("  ", sample)
    print(f"verification: {check['checked_present']} acknowledged spans present, "
          f"{check['checked_deleted']} acknowledged deletes; missing {len(check['missing'])}, "
          f"phantom {len(check['phantom'])}, resurrected {len(check['resurrected'])}")
    ok = (result["locust_failures"] == 0 and not check["missing"] and not check["phantom"]
          and not check["resurrected"])
    print(f"p95 save latency target < 100 ms: {'met' if s['p95'] < 100 else 'NOT met'}")
    print("RESULT:", "OK" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        print(json.dumps(seed(int(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_verify":
        print(json.dumps(verify(sys.argv[2])))
    else:
        main()

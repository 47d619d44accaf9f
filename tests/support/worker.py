"""A real Celery worker process against the real Redis and the test database."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from newsroom.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def xdist_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") else 0


def redis_test_url(base: str) -> str:
    """A Redis database of its own per pytest-xdist worker (TEST_REDIS_DB moves the range)."""
    db = int(os.environ.get("TEST_REDIS_DB", "1")) + xdist_index()
    return f"{base}/{db}"


def test_database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@contextlib.contextmanager
def broker(url: str):
    """Point this process's producer at `url` for the duration."""
    from kombu import pools

    def forget_connections():
        if celery_app._pool is not None:
            celery_app.pool.force_close_all()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None  # else the next test publishes through a closed pool
        pools.reset()

    old = celery_app.conf.broker_url
    forget_connections()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        forget_connections()
        celery_app.conf.broker_url = old


@contextlib.contextmanager
def running_worker(
    broker_url: str, *, pool: str = "solo", concurrency: int = 1, extra_env=None, log_path=None, extra_args=(),
):
    """Start `celery worker` as a subprocess sharing the test database; stop it afterwards.

    `extra_args` go on the command line (e.g. ["--beat", "--schedule", path] for the sweeper)."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": test_database_url(), "CELERY_BROKER_URL": broker_url, "CONN_MAX_AGE": "0"})
    env.update(extra_env or {})
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-P", pool, "--concurrency", str(concurrency),
           "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat", *extra_args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def wait_until(predicate, *, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")

#!/usr/bin/env python
"""Start the web server and a Celery worker (with its beat scheduler) together; stop both on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def main() -> int:
    env = dict(os.environ)
    # the same folder the settings use (NEWSROOM_VAR_DIR), so beat can write its schedule there
    var = Path(env.get("NEWSROOM_VAR_DIR") or ROOT / "var")
    var.mkdir(parents=True, exist_ok=True)
    commands = {
        "worker": [PY, "-m", "celery", "-A", "newsroom", "worker", "--beat", "-l", "info", "--concurrency", "2",
                   "--schedule", str(var / "celerybeat-schedule")],
        "web": [PY, "manage.py", "runserver", f"{HOST}:{PORT}"],
    }
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
    print(f"\nNewsroom is running at http://{HOST}:{PORT}/ (worker pid {procs['worker'].pid}). Ctrl-C stops both.\n",
          flush=True)

    def stop(*_):
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 15
        for p in procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"{', '.join(dead)} stopped; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())

"""How long `python3 dev.py up` takes until every service answers /health/ready.

    python3 bench/up_ready_bench.py [--runs 3] [--fresh]

Each run: a temporary home, free ports, a scratch database on DATABASE_URL's server (default
the local PostgreSQL), the embedded broker; the clock runs from launching `dev.py up` until its
"ready in" line, then Ctrl-C (the drain and stop are timed too). ``--fresh`` first clones this
repository into a temporary folder and measures the first run there (install included).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def psql(sql: str) -> None:
    base = SERVER.rsplit("/", 1)[0].replace("+asyncpg", "") + "/postgres"
    subprocess.run(["psql", base, "-qc", sql], check=True, capture_output=True)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and every process under it, alive now."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0))[1]
        todo += [child for child, (ppid, _) in stats.items() if ppid == p]
    return total / os.sysconf("SC_CLK_TCK")


def one_run(root: Path) -> tuple[float, float, str, float]:
    home = Path(tempfile.mkdtemp(prefix="up-bench-"))
    db = f"looptrace_upbench_{uuid.uuid4().hex[:8]}"
    psql(f'CREATE DATABASE "{db}"')
    names = ["orders", "production", "quality", "notifications", "predictions"]
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST")}
    env.update(
        DATABASE_URL=SERVER.rsplit("/", 1)[0] + f"/{db}",
        LOOPTRACE_HOME=str(home),
        LOOPTRACE_PORTS=",".join(f"{n}={free_port()}" for n in names),
        LOOPTRACE_BROKER_PORT=str(free_port()),
        LOOPTRACE_SMTP_PORT=str(free_port()),
    )
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(root / "dev.py"), "up"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    said, ready, cpu = "", 0.0, 0.0
    assert proc.stdout is not None
    for line in proc.stdout:
        said += line
        if "Ctrl-C stops everything" in line:
            ready = time.monotonic() - t0
            cpu = cpu_seconds(proc.pid)
            break
    os.killpg(proc.pid, signal.SIGINT)
    t1 = time.monotonic()
    proc.communicate(timeout=120)
    stopped = time.monotonic() - t1
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    shutil.rmtree(home, ignore_errors=True)
    if not ready:
        raise SystemExit(f"up never became ready:\n{said}")
    own = re.search(r"^ready in ([0-9.]+)s", said, re.M)
    return ready, stopped, own.group(1) if own else "?", cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="first run of a fresh clone")
    args = parser.parse_args()
    root = ROOT
    if args.fresh:
        root = Path(tempfile.mkdtemp(prefix="looptrace-clone-")) / "looptrace"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(root)], check=True)
        args.runs = 1
    load = os.getloadavg()[0]
    for n in range(1, args.runs + 1):
        ready, stopped, own, cpu = one_run(root)
        print(
            f"run {n}{' (fresh clone, install included)' if args.fresh else ''}: "
            f"ready {ready:.1f}s after launch (up's own clock: {own}s; CPU of up and its "
            f"services until then {cpu:.1f}s); "
            f"Ctrl-C to all stopped {stopped:.1f}s; load average {load:.1f}"
        )
        load = os.getloadavg()[0]
    if args.fresh:
        shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

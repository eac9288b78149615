"""Process tests: ``python3 dev.py up`` and ``looptrace serve`` as real processes, stopped by
signals, pipes and ``kill -9`` the way users and orchestrators stop them.

Every run gets its own home folder, database, broker and free ports (never 8101–8105, 9092 or
2525), and every process a test starts is checked gone, by PID, when it ends."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from looptrace_shared.embedded import free_port, port_open
from looptrace_shared.runrecord import Entry, started_ticks
from looptrace_shared.testing import Infra, scratch_database

from ..conftest import envelope as outside_envelope

ROOT = Path(__file__).resolve().parents[2]
PYTHON = getattr(sys, "_base_executable", sys.executable)  # dev.py runs on a plain python3
GONE_WITHIN_S = 10.0
READY_WITHIN_S = 150.0  # generous: the machine may be shared


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Run:
    """One ``python3 dev.py up`` with its own home, database and ports."""

    home: Path
    env: dict[str, str]
    ports: dict[str, int]
    proc: subprocess.Popen[bytes] | None = None
    seen: dict[int, Entry] = field(default_factory=dict)  # every process of the run, by PID

    def start(self, pipe_to: str | None = None, **popen: Any) -> subprocess.Popen[bytes]:
        """``pipe_to``: run ``python3 dev.py up | <pipe_to>`` in a shell (one job)."""
        popen.setdefault("stdout", (self.home / "stdout.txt").open("ab"))
        popen.setdefault("stderr", subprocess.STDOUT)
        cmd = [PYTHON, str(ROOT / "dev.py"), "up"]
        if pipe_to:
            cmd = ["bash", "-c", f"'{PYTHON}' '{ROOT / 'dev.py'}' up 2>&1 | {pipe_to}"]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            start_new_session=True,  # its own terminal-like group: killpg = Ctrl-C
            **popen,
        )
        return self.proc

    def log(self) -> str:
        path = self.home / "logs" / "up.log"
        return path.read_text() if path.exists() else ""

    def wait_log(self, text: str, timeout: float = READY_WITHIN_S, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                self.note_processes()
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"{text!r} not in up's log after {timeout:.0f}s:\n{self.log()}")

    def record(self) -> dict[str, Entry]:
        body = json.loads((self.home / "run.json").read_text())
        return {e["name"]: Entry(**e) for e in body["processes"]}

    def note_processes(self) -> None:
        """Remember every process of the run now alive: the record's and dev.py's tree."""
        pids = list(descendants(self.proc.pid)) if self.proc else []
        with_record = [e.pid for e in self.record().values()] if self.record_exists() else []
        for pid in {*pids, *with_record, *([self.proc.pid] if self.proc else [])}:
            ticks = started_ticks(pid)
            if ticks is not None:
                self.seen.setdefault(pid, Entry("?", pid, ticks))

    def find(self, program: str) -> int:
        """The PID of the run's process running ``program`` (its first word)."""
        assert self.proc is not None
        for pid in descendants(self.proc.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if Path(argv[0].decode()).name == program:
                return pid
        raise AssertionError(f"no {program} among the run's processes")

    def record_exists(self) -> bool:
        return (self.home / "run.json").exists()

    def pid_of(self, name: str) -> int:
        return self.record()[name].pid

    def signal_group(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def assert_all_gone(self, within: float = GONE_WITHIN_S) -> None:
        deadline = time.monotonic() + within
        alive: list[Entry] = []
        while time.monotonic() < deadline:
            alive = [e for e in self.seen.values() if e.alive()]
            busy = [p for p in self.ports.values() if port_open("127.0.0.1", p)]
            if not alive and not busy:
                return
            time.sleep(0.2)
        raise AssertionError(
            f"still alive after {within:.0f}s: {[e.pid for e in alive]}; ports in use: "
            f"{[p for p in self.ports.values() if port_open('127.0.0.1', p)]}\n{self.log()}"
        )

    def kill_everything(self) -> None:
        """Clean-up after a failed test: nothing may be left behind."""
        self.note_processes()
        for e in self.seen.values():
            if e.alive():
                os.kill(e.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)


def up_env(home: Path, database_url: str, services: list[str]) -> tuple[dict[str, str], dict]:
    ports = {name: free_port() for name in services}
    infra_ports = {"broker": free_port(), "smtp": free_port()}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST", "SMTP_PORT", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DATABASE_URL=database_url,
        LOOPTRACE_HOME=str(home),
        LOOPTRACE_SERVICES=",".join(services),
        LOOPTRACE_PORTS=",".join(f"{n}={p}" for n, p in ports.items()),
        LOOPTRACE_BROKER_PORT=str(infra_ports["broker"]),
        LOOPTRACE_SMTP_PORT=str(infra_ports["smtp"]),
        PYTHONUNBUFFERED="1",
    )
    return env, {**ports, **infra_ports}


class Runs:
    """Makes runs; :meth:`close` kills whatever they left and says so."""

    def __init__(self, infra: Infra, folder: Path, stack: contextlib.ExitStack) -> None:
        self.infra, self.folder, self.stack = infra, folder, stack
        self.runs: list[Run] = []

    def __call__(self, services: list[str], database: str | None = None) -> Run:
        home = self.folder / f"home-{len(self.runs)}"
        home.mkdir(parents=True, exist_ok=True)
        prefix = "looptrace_proc"
        url = database or self.stack.enter_context(scratch_database(self.infra.server_url, prefix))
        env, ports = up_env(home, url, services)
        run = Run(home, env, ports)
        self.runs.append(run)
        return run

    def close(self) -> None:
        leftovers = []
        for run in self.runs:
            run.note_processes()
            leftovers += [e.pid for e in run.seen.values() if e.alive()]
            run.kill_everything()
        assert not leftovers, f"processes left running by the test (killed now): {leftovers}"


@pytest.fixture
def new_run(infra: Infra, tmp_path: Path) -> Iterator[Runs]:
    with contextlib.ExitStack() as stack:
        runs = Runs(infra, tmp_path, stack)
        yield runs
        runs.close()


@pytest.fixture(scope="module")
def module_runs(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    with contextlib.ExitStack() as stack:
        runs = Runs(infra, tmp_path_factory.mktemp("runs"), stack)
        yield runs
        runs.close()


def envelope(type_: str, subject: str, data: dict[str, Any]) -> bytes:
    return outside_envelope(type_, subject, data, source="process-test")


def order_placed(order_id: str) -> bytes:
    return envelope(
        "OrderPlaced",
        order_id,
        {
            "order_id": order_id,
            "order_number": f"PO-{order_id[:12]}",
            "buyer": {"id": "buyer-1", "name": "Ada Buyer", "email": "ada@buyer.example"},
            "product_type": "sweater",
            "product_category": "knitwear",
            "quantity": 500,
            "currency": "EUR",
            "unit_price": "12.50",
            "target_date": str(date.today() + timedelta(days=90)),
        },
    )


def supplier_assigned(order_id: str) -> bytes:
    return envelope(
        "SupplierAssigned",
        order_id,
        {"order_id": order_id, "supplier": {"id": "sup-7", "name": "Knit Co"}},
    )

"""What a run of ``up`` started, kept in ``<home>/run.json`` while it runs.

Each process is recorded with its PID and its start time (the kernel's, from /proc), so a PID
the system has since given to another program is never mistaken for ours. ``up`` reads the
record at start (a run still alive is reported, never reused); ``down`` stops what it lists.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RECORD = "run.json"


def started_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when there is no such PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has ended; only its parent has not collected it yet
        return None
    return int(fields[19])


@dataclass
class Entry:
    name: str
    pid: int
    ticks: int | None
    port: int | None = None

    @classmethod
    def of(cls, name: str, pid: int, port: int | None = None) -> Entry:
        return cls(name, pid, started_ticks(pid), port)

    def alive(self) -> bool:
        now = started_ticks(self.pid)
        return now is not None and now == self.ticks


@dataclass
class RunRecord:
    home: Path
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    processes: list[Entry] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.home / RECORD

    def save(self) -> None:
        body = {
            "started_at": self.started_at,
            "processes": [asdict(e) for e in self.processes],
            "addresses": self.addresses,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(self.path)

    def put(self, entry: Entry) -> None:
        self.processes = [e for e in self.processes if e.name != entry.name] + [entry]
        self.save()

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def alive(self) -> list[Entry]:
        return [e for e in self.processes if e.alive()]

    def describe(self, entries: Iterable[Entry]) -> str:
        return ", ".join(
            f"{e.name} PID {e.pid}" + (f" :{e.port}" if e.port else "") for e in entries
        )

    @classmethod
    def load(cls, home: Path) -> RunRecord | None:
        try:
            body = json.loads((home / RECORD).read_text())
        except (OSError, ValueError):
            return None
        entries = [Entry(**e) for e in body.get("processes", [])]
        return cls(home, body.get("started_at", "?"), entries, body.get("addresses", {}))


def _signal(entries: Iterable[Entry], sig: int) -> None:
    for e in entries:
        if e.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(e.pid, sig)


def _wait_gone(entries: list[Entry], timeout: float) -> list[Entry]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [e for e in entries if e.alive()]
        if not left:
            return []
        time.sleep(0.2)
    return [e for e in entries if e.alive()]


def stop_run(record: RunRecord, timeout: float, say: Callable[[str], None]) -> bool:
    """Stop a recorded run: ``up`` itself first (it drains and stops what it started), then
    anything left, SIGTERM, and SIGKILL after ``timeout``. True when nothing is left."""
    alive = record.alive()
    if not alive:
        return True
    ups = [e for e in alive if e.name == "up"]
    if ups:
        say(f"asking up (PID {ups[0].pid}) to drain and stop everything it started…")
        _signal(ups, signal.SIGTERM)
        alive = _wait_gone(alive, timeout)
    if alive:
        say(f"stopping {record.describe(alive)}…")
        _signal(alive, signal.SIGTERM)
        alive = _wait_gone(alive, 15)
    if alive:
        say(f"still running after the grace period, killing: {record.describe(alive)}")
        _signal(alive, signal.SIGKILL)
        alive = _wait_gone(alive, 5)
    return not alive

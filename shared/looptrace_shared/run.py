"""``up``: start the system, supervise it, and on stop drain it before anything ends.

- Every child watches this process (:mod:`looptrace_shared.lifeline`): however ``up`` ends,
  nothing it started outlives it.
- SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the run: HTTP intake stops, then (embedded broker)
  up to ``drain_timeout`` seconds pass until every outbox is empty and no consumer group lags,
  then the services stop (each finishes its batch), then the broker and PostgreSQL. A second
  signal skips the drain.
- A service that exits on its own is restarted with backoff; after ``max_restarts`` restarts
  in a row that did not last, everything is stopped and ``up`` says why (exit 1).
- Output goes to ``<home>/logs/up.log`` and, while it can be written, to stdout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from looptrace_shared import lifeline
from looptrace_shared.runrecord import Entry, RunRecord
from looptrace_shared.system import PROCESSES, System, claim

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STABLE_S = 60.0  # a restarted service that has run this long counts as recovered
READY_TIMEOUT_S = 120.0


class Say:
    """Messages to the log file, and to stdout until stdout is gone (a closed pipe)."""

    def __init__(self, log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("a", encoding="utf-8")
        self._stdout = True

    def __call__(self, msg: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log.write(f"{stamp} {msg}\n")
        self._log.flush()
        if self._stdout:
            try:
                print(msg, flush=True)
            except OSError:  # BrokenPipeError and friends: the reader went away
                self.stdout_gone()

    def stdout_gone(self) -> None:
        self._stdout = False
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                os.dup2(devnull, stream.fileno())
        self._log.write("stdout closed: messages go to this file only\n")


class GiveUp(RuntimeError):
    pass


@dataclass
class Restarts:
    """Restart with backoff (1, 2, 4 … 30 s); give up after ``limit`` that did not last."""

    limit: int
    failures: dict[str, int] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)
    since: dict[str, float] = field(default_factory=dict)

    def exited(self, name: str, code: int | None) -> float:
        n = self.failures.get(name, 0) + 1
        self.failures[name] = n
        if n > self.limit:
            raise GiveUp(
                f"{name} exited (code {code}) after {self.limit} restarts in a row; "
                "stopping everything"
            )
        delay = min(30.0, 2.0 ** (n - 1))
        self.due[name] = time.monotonic() + delay
        return delay

    def running(self, name: str) -> None:
        if name in self.failures and time.monotonic() - self.since.get(name, 0) > STABLE_S:
            del self.failures[name]


@dataclass
class Up:
    system: System
    say: Say
    record: RunRecord
    drain_timeout: float = 30.0
    restarts: Restarts = field(default_factory=lambda: Restarts(5))
    stop_requested: threading.Event = field(default_factory=threading.Event)
    hurry: bool = False
    signals: int = 0
    interruptible: bool = False  # while starting or in the demo, a stop signal interrupts
    stopping: bool = False

    # ---- signals ---------------------------------------------------------------------

    def install_signals(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.on_signal)
        lifeline.watch()  # started by dev.py: its end is a SIGTERM to us

    def on_signal(self, sig: int, _: object) -> None:
        self.signals += 1
        if self.signals == 1:
            self.stop_requested.set()
            if self.interruptible:
                self.interruptible = False
                raise KeyboardInterrupt
        else:  # a second signal: no drain, and services still finishing are told to exit now
            self.hurry = True
            if self.stopping:
                self.system.signal_services(signal.SIGTERM)

    # ---- supervision -----------------------------------------------------------------

    def remember(self, name: str, port: int | None = None) -> None:
        proc = self.system.services.get(name)
        if proc is not None:
            self.record.put(Entry.of(name, proc.pid, port))

    def supervise(self) -> None:
        """One round: restart what exited on its own, when its backoff is over."""
        for name, proc in list(self.system.services.items()):
            if proc.poll() is None:
                self.restarts.running(name)
                continue
            if name not in self.restarts.due:
                delay = self.restarts.exited(name, proc.returncode)
                n = self.restarts.failures[name]
                self.say(
                    f"{name} exited with code {proc.returncode}; restarting in {delay:.0f}s "
                    f"({n}/{self.restarts.limit}, log: {self.system.home / 'logs' / name}.log)"
                )
            elif time.monotonic() >= self.restarts.due[name]:
                del self.restarts.due[name]
                self.system.start_service(name, self.system.home / "logs")
                self.restarts.since[name] = time.monotonic()
                self.remember(name, self.system.ports[name])
                self.say(f"{name} restarted (PID {self.system.services[name].pid})")

    def wait_ready(self, names: list[str]) -> dict[str, float]:
        started = time.monotonic()
        ready: dict[str, float] = {}
        while len(ready) < len(names):
            if self.stop_requested.is_set():
                raise KeyboardInterrupt
            if time.monotonic() - started > READY_TIMEOUT_S:
                waiting = ", ".join(n for n in names if n not in ready)
                raise GiveUp(f"not ready after {READY_TIMEOUT_S:.0f}s: {waiting}; see their logs")
            self.supervise()
            for name in names:
                if name not in ready and _answers(self.system.url(name) + "/health/ready"):
                    ready[name] = time.monotonic() - started
            self.stop_requested.wait(0.2)
        return ready

    # ---- stop --------------------------------------------------------------------------

    def drain(self) -> None:
        """No new HTTP requests; then wait until nothing is in flight (two rounds in a row)."""
        self.system.stop_intake()
        if not self.system.embedded_broker or not self.system.services:
            return
        self.say(f"draining (at most {self.drain_timeout:.0f}s; Ctrl-C again to skip)…")
        deadline, calm, state = time.monotonic() + self.drain_timeout, 0, {}
        while time.monotonic() < deadline and not self.hurry:
            alive = [n for n, p in self.system.services.items() if p.poll() is None]
            state = {n: _drain_state(self.system.url(n)) for n in alive}
            calm = calm + 1 if all(s.get("drained") for s in state.values()) else 0
            if calm >= 2:
                self.say("drained: every outbox is empty and no consumer group lags")
                return
            time.sleep(0.5)
        left = {n: s for n, s in state.items() if not s.get("drained")}
        self.say(f"not drained, stopping anyway; still in flight: {left}")

    def stop(self) -> None:
        self.stopping = True
        self.say("stopping…")
        with contextlib.suppress(Exception):
            self.drain()
        self.system.stop()
        self.record.remove()
        self.say("stopped")


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False


def _drain_state(url: str) -> dict[str, object]:
    try:
        body: dict[str, object] = httpx.get(url + "/health/drain", timeout=5).json()
    except (httpx.HTTPError, ValueError) as err:
        return {"drained": False, "error": str(err)}
    return body


# ---- the command ---------------------------------------------------------------------------


@dataclass
class UpOptions:
    home: Path
    ports: dict[str, int]
    broker_port: int
    smtp_port: int
    services: list[str]
    drain_timeout: float
    max_restarts: int


def refuse_stale_run(home: Path, say: Callable[[str], None]) -> bool:
    """True when a previous run in ``home`` is still alive (and say so)."""
    previous = RunRecord.load(home)
    if previous is None:
        return False
    alive = previous.alive()
    if not alive:
        say(
            f"a previous run (started {previous.started_at}) ended without cleaning up; "
            "starting afresh"
        )
        previous.remove()
        return False
    say(
        f"a run started {previous.started_at} from {home} is still running: "
        f"{previous.describe(alive)}.\n"
        f"Stop it with `python3 dev.py down` (add --home {home} if not the default), "
        "or use another --home and other ports."
    )
    return True


def claim_ports(o: UpOptions) -> None:
    for name in o.services:
        claim(o.ports[name], name, f"--ports {name}=<port> (or LOOPTRACE_PORTS)")
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        claim(o.broker_port, "broker", "--broker-port (or LOOPTRACE_BROKER_PORT)")
    if not os.environ.get("SMTP_HOST"):
        claim(o.smtp_port, "SMTP sink", "--smtp-port (or LOOPTRACE_SMTP_PORT)")


def start(up: Up, o: UpOptions, t0: float) -> None:
    system, say = up.system, up.say
    system.start_infra()
    for p in system.infra:
        up.record.put(Entry.of(p.name, p.proc.pid, int(p.address.rsplit(":", 1)[1])))
    up.record.addresses = {"broker": system.env["KAFKA_BOOTSTRAP_SERVERS"]}
    say(f"broker        {system.env['KAFKA_BOOTSTRAP_SERVERS']}")
    say(f"database      {system.env['DATABASE_URL']}")
    if system.smtp is not None:
        say(f"smtp sink     127.0.0.1:{system.env['SMTP_PORT']} → mails in {o.home / 'mail'}")
    say(f"infrastructure ready in {time.monotonic() - t0:.1f}s; starting services…")
    system.start_services(o.services, migrate=False)
    for name in o.services:
        up.remember(name, system.ports[name])
    up.wait_ready(o.services)
    for name in o.services:
        if name == "web":
            say(f"{'console':<14}{system.url(name)}  (sign in: {system.url(name)}/signin)")
        else:
            say(f"{name:<14}{system.url(name)}  (docs: {system.url(name)}/docs)")
    say(
        f"ready in {time.monotonic() - t0:.1f}s — Ctrl-C stops everything "
        f"(record: {up.record.path}, logs: {o.home / 'logs'})"
    )


def run_up(o: UpOptions, demo_orders: int | None) -> int:
    t0 = time.monotonic()
    o.home.mkdir(parents=True, exist_ok=True)
    say = Say(o.home / "logs" / "up.log")
    if refuse_stale_run(o.home, say):
        return 1
    system = System(o.home, ports=dict(o.ports), broker_port=o.broker_port, smtp_port=o.smtp_port)
    record = RunRecord(o.home, processes=[Entry.of("up", os.getpid())])
    up = Up(system, say, record, o.drain_timeout, Restarts(o.max_restarts))
    up.install_signals()
    try:
        claim_ports(o)
        record.save()
        up.interruptible = True
        start(up, o, t0)
        if demo_orders is not None:
            _demo(up, demo_orders)
        up.interruptible = False
        while not up.stop_requested.wait(0.5):
            up.supervise()
        return 0
    except KeyboardInterrupt:
        return 0
    except GiveUp as err:
        say(str(err))
        return 1
    except Exception as err:  # noqa: BLE001 - said, then everything is stopped
        say(f"up failed: {err}")
        return 1
    finally:
        up.interruptible = False
        up.stop()


def _demo(up: Up, orders: int) -> None:
    from looptrace_shared.demo import run_demo

    try:
        run_demo(up.system, orders)
    except OSError:
        up.say.stdout_gone()
    up.say("demo season done; the system keeps running")


def service_list(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()] if value else list(PROCESSES)
    unknown = [n for n in names if n not in PROCESSES]
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; choose from {', '.join(PROCESSES)}")
    return names


def port_map(value: str) -> dict[str, int]:
    ports = dict(PROCESSES)
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, port = part.partition("=")
        if name not in PROCESSES or not port.isdigit():
            raise ValueError(f"bad port setting {part!r}: use name=port, e.g. orders=8101")
        ports[name] = int(port)
    return ports

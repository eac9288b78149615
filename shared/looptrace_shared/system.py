"""Running the whole system on one machine: infrastructure, migrations, five service processes."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from looptrace_shared.embedded import (
    Process,
    ensure_database,
    port_open,
    start_postgres,
    start_tansu,
)
from looptrace_shared.lifeline import Lifeline
from looptrace_shared.ports import CONSOLE as CONSOLE
from looptrace_shared.ports import PROCESSES as PROCESSES
from looptrace_shared.ports import SERVICES as SERVICES

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

# tansu: a consumer-group join takes about half the session timeout
EMBEDDED_KAFKA_ENV = {"KAFKA_SESSION_TIMEOUT_MS": "2000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"}
BROKER_PORT, SMTP_PORT, PRIVATE_PG_PORT = 9092, 2525, 54329


class PortTaken(RuntimeError):
    """A port this run was told to use answers already: we never share or steal one."""


def claim(port: int, what: str, how: str) -> int:
    if port_open("127.0.0.1", port):
        raise PortTaken(
            f"port {port} ({what}) is already in use by another program; stop it, "
            f"or choose another port with {how}"
        )
    return port


def migrations_dir(service: str) -> Path:
    module = importlib.import_module(f"looptrace_{service}")
    return Path(module.__file__).parent / "migrations"  # type: ignore[arg-type]


def migrate_all(database_url: str) -> None:
    """Every service's migrations, one after the other (Alembic's context is process-global)."""
    from looptrace_shared.migrations import migrate

    for name in SERVICES:
        migrate(database_url, migrations_dir(name))


@dataclass
class System:
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    infra: list[Process] = field(default_factory=list)
    services: dict[str, subprocess.Popen] = field(default_factory=dict)  # type: ignore[type-arg]
    ports: dict[str, int] = field(default_factory=dict)
    smtp: Controller | None = None
    broker_port: int | None = None  # None: any free port
    smtp_port: int | None = None
    embedded_broker: bool = False
    lifeline: Lifeline | None = None

    def _lifeline(self) -> Lifeline:
        if self.lifeline is None:
            self.lifeline = Lifeline()
        return self.lifeline

    # ---- infrastructure -----------------------------------------------------------

    def start_infra(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._kafka()
        self._database()
        self._smtp()

    def _kafka(self) -> None:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            self.env["KAFKA_BOOTSTRAP_SERVERS"] = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
            return
        proc = start_tansu(self.broker_port, self.home / "tansu.log", die_with_parent=True)
        self.infra.append(proc)
        self.embedded_broker = True
        self.env.update(
            EMBEDDED_KAFKA_ENV, KAFKA_BOOTSTRAP_SERVERS=proc.address, KAFKA_IDEMPOTENCE="false"
        )

    def _database(self) -> None:
        url = os.environ.get("DATABASE_URL")
        if not url:
            if port_open("127.0.0.1", 5432):
                url = "postgresql+asyncpg://postgres@127.0.0.1:5432/looptrace"
            else:
                proc = start_postgres(
                    self.home / "pgdata",
                    claim(PRIVATE_PG_PORT, "private PostgreSQL", "DATABASE_URL"),
                    die_with_parent=True,
                )
                self.infra.append(proc)
                url = f"postgresql+asyncpg://postgres@{proc.address}/looptrace"
            asyncio.run(ensure_database(url))
        self.env["DATABASE_URL"] = url

    def _smtp(self) -> None:
        if os.environ.get("SMTP_HOST"):
            return
        from looptrace_shared.embedded import free_port
        from looptrace_shared.smtp_sink import start_sink

        port = self.smtp_port or free_port()
        self.smtp = start_sink(self.home / "mail", port)
        self.env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")

    # ---- services -----------------------------------------------------------------

    def start_services(
        self, names: list[str] | None = None, log_dir: Path | None = None, migrate: bool = True
    ) -> None:
        """``migrate=False``: each service migrates its own schema as it starts (in parallel)."""
        if migrate:
            migrate_all(self.env["DATABASE_URL"])
        for name in names or list(SERVICES):
            self.start_service(name, log_dir or self.home / "logs")

    def start_service(self, name: str, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        port = self.ports.get(name) or PROCESSES[name]
        self.ports[name] = port
        env = {
            **os.environ,
            **self.env,
            "HTTP_PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
        if name == "notifications":  # the links in its e-mails open production's timeline
            production = self.ports.get("production") or SERVICES["production"]
            env.setdefault("TIMELINE_BASE_URL", f"http://127.0.0.1:{production}")
            if "web" in self.ports:  # … or, with the console running, its order page
                env.setdefault("CONSOLE_BASE_URL", f"http://127.0.0.1:{self.ports['web']}")
        if name == "web":  # the console calls the five services where this run started them
            for service, default in SERVICES.items():
                env[f"{service.upper()}_URL"] = (
                    f"http://127.0.0.1:{self.ports.get(service) or default}"
                )
        lifeline = self._lifeline()
        env.update(lifeline.child_env())  # the service stops when this process ends
        with open(log_dir / f"{name}.log", "ab") as log:
            self.services[name] = subprocess.Popen(
                [sys.executable, "-m", "looptrace_shared.cli", "serve", name],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=lifeline.pass_fds,
            )

    def kill_service(self, name: str, sig: int = 9) -> None:
        proc = self.services.pop(name)
        proc.send_signal(sig)
        proc.wait(10)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_healthy(
        self, timeout: float = 60.0, names: list[str] | None = None, path: str = "/health/ready"
    ) -> dict[str, float]:
        started = time.monotonic()
        ready: dict[str, float] = {}
        pending = list(names or self.services)
        while pending and time.monotonic() - started < timeout:
            for name in list(pending):
                proc = self.services[name]
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"service {name} exited with code {proc.returncode}; see its log"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url(name) + path, timeout=1).status_code == 200:
                        ready[name] = time.monotonic() - started
                        pending.remove(name)
            time.sleep(0.2)
        if pending:
            raise TimeoutError(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
        return ready

    def stop_intake(self) -> None:
        """Every service stops taking HTTP requests but keeps consuming (SIGUSR1)."""
        self.signal_services(signal.SIGUSR1)

    def signal_services(self, sig: int) -> None:
        for proc in list(self.services.values()):
            if proc.poll() is None:
                proc.send_signal(sig)

    def stop(self, timeout: float = 40.0) -> None:
        """Services first (SIGTERM: each finishes its work in flight; killed after
        ``timeout``), then the SMTP sink, then the broker and PostgreSQL."""
        for proc in self.services.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.services.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.services.clear()
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        for p in reversed(self.infra):
            p.stop()
        self.infra.clear()
        if self.lifeline is not None:
            self.lifeline.cut()
            self.lifeline = None

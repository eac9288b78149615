"""The system under faults: a private PostgreSQL cluster (restartable), the embedded broker,
a real SMTP server, the five services as processes reaching the broker and the database
through the test's own TCP proxy, and the faults themselves."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from looptrace_shared.embedded import (
    Process,
    ensure_database,
    free_port,
    start_postgres,
    start_tansu,
)
from looptrace_shared.settings import DEV_JWT_SECRET
from looptrace_shared.system import SERVICES, System

from .proxy import FaultProxy


class MailSink:
    """A real SMTP server keeping every mail's recipients and headers."""

    def __init__(self) -> None:
        self.mails: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content)
        self.mails.append({"to": list(envelope.rcpt_tos), "headers": dict(msg.items())})
        return "250 OK"


def service_env(db_url: str, kafka: str, smtp_port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "KAFKA_IDEMPOTENCE": "false",
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_STARTTLS": "false",
        "MAILER_POLL_S": "0.2",
        "MAILER_LEASE_S": "8",  # longer than a stall; a kill leaves at most one row sending
        "PARKING_TIMEOUT_S": "3600",  # faults delay things; nothing may expire into the DLQ
        "PARKING_RETRY_S": "0.5",
        "RETRY_BACKOFF_CAP_S": "2",
        "JWT_SECRET": DEV_JWT_SECRET,
        "LOG_LEVEL": "INFO",
        "DB_POOL_SIZE": "5",
    }


@dataclass
class Faults:
    kills: Counter[str] = field(default_factory=Counter)
    kill_times: list[float] = field(default_factory=list)  # time.monotonic()
    start_failures: Counter[str] = field(default_factory=Counter)
    pg_restarts: list[str] = field(default_factory=list)
    cuts: Counter[str] = field(default_factory=Counter)
    connections_reset: int = 0


class FaultySystem:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.faults = Faults()
        self.pg: Process | None = None
        self.pg_port = free_port()
        self.kafka: Process | None = None
        self.proxies: dict[str, FaultProxy] = {}
        self.mail = MailSink()
        self.smtp: Controller | None = None
        self.system: System | None = None
        self.log_dir = home / "logs"

    # ---- start and stop -------------------------------------------------------------

    def start(self) -> None:
        """Blocking (run it in a thread from async code)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.pg = start_postgres(self.home / "pgdata", self.pg_port)
        self.proxies["postgres"] = FaultProxy("postgres", self.pg_port).start()
        kafka_port, kafka_proxy = free_port(), free_port()
        self.kafka = start_tansu(kafka_port, self.home / "tansu.log", advertised_port=kafka_proxy)
        self.proxies["kafka"] = FaultProxy("kafka", kafka_port, kafka_proxy).start()
        smtp_port = free_port()
        self.smtp = Controller(self.mail, hostname="127.0.0.1", port=smtp_port)
        self.smtp.start()
        self._create_database()
        env = service_env(self.db_url(proxied=True), self.bootstrap, smtp_port)
        self.system = System(self.home, env=env, ports={n: free_port() for n in SERVICES})
        for name in SERVICES:  # each migrates its own schema as it starts
            self.system.start_service(name, self.log_dir)
        self.system.wait_healthy(180)

    def _create_database(self) -> None:
        asyncio.run(ensure_database(self.db_url()))

    def stop(self) -> None:
        if self.system is not None:
            self.system.stop()
        for proxy in self.proxies.values():
            proxy.stop()
        if self.smtp is not None:
            self.smtp.stop()
        for p in (self.kafka, self.pg):
            if p is not None:
                _stop_postgres(p) if p is self.pg else p.stop()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxies['kafka'].port}"

    def db_url(self, proxied: bool = False) -> str:
        port = self.proxies["postgres"].port if proxied else self.pg_port
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/looptrace"

    def url(self, service: str) -> str:
        assert self.system is not None
        return self.system.url(service)

    # ---- faults ---------------------------------------------------------------------

    async def kill_and_restart(self, name: str, down_s: float) -> None:
        """kill -9 the service (whatever it is doing), then start it again and wait for it."""
        assert self.system is not None
        await asyncio.to_thread(self.system.kill_service, name, signal.SIGKILL)
        self.faults.kills[name] += 1
        self.faults.kill_times.append(time.monotonic())
        await asyncio.sleep(down_s)
        await self.start_and_wait(name)

    async def start_and_wait(self, name: str, timeout: float = 180) -> None:
        """Start ``name`` and wait for /health; a start that dies (the database or the broker
        was cut while it migrated) is started again."""
        assert self.system is not None
        deadline = time.monotonic() + timeout
        self.system.start_service(name, self.log_dir)
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                proc = self.system.services[name]
                if proc.poll() is not None:
                    self.faults.start_failures[name] += 1
                    self.system.services.pop(name)
                    await asyncio.sleep(1)
                    self.system.start_service(name, self.log_dir)
                    continue
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url(name) + "/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise TimeoutError(f"{name} not healthy {timeout:.0f}s after its restart")

    async def restart_postgres(self, mode: str, down_s: float) -> None:
        """Stop the private cluster (``fast``: SIGINT, sessions terminated; ``immediate``:
        SIGQUIT, crash recovery on start) and start it again on the same port."""
        assert self.pg is not None
        pg = self.pg
        await asyncio.to_thread(_stop_postgres, pg, mode)
        await asyncio.sleep(down_s)
        self.pg = await asyncio.to_thread(start_postgres, self.home / "pgdata", self.pg_port)
        self.faults.pg_restarts.append(mode)

    async def cut(self, target: str, kind: str, stall_s: float = 5.0) -> None:
        proxy = self.proxies[target]
        if kind == "reset":
            self.faults.connections_reset += await asyncio.to_thread(proxy.reset_all)
        else:
            await asyncio.to_thread(proxy.stall, stall_s)
        self.faults.cuts[f"{target} {kind}"] += 1

    def service_logs(self) -> str:
        return str(self.log_dir)


def _stop_postgres(p: Process, mode: str = "fast") -> None:
    if p.proc.poll() is not None:
        return
    p.proc.send_signal(signal.SIGQUIT if mode == "immediate" else signal.SIGINT)
    try:
        p.proc.wait(30)
    except subprocess.TimeoutExpired:
        p.proc.kill()
        p.proc.wait()

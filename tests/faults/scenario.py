"""One fault run: start the system, drive the orders while the faults happen, wait until the
system is quiet, check the invariants and say what happened."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from looptrace_shared.system import SERVICES

from . import checks
from .driver import Driver
from .harness import FaultySystem


@dataclass(frozen=True)
class Scenario:
    orders: int = 40
    kills: int = 1  # kill -9 per service
    pg_restarts: int = 1
    cuts: int = 4  # proxy cuts: broker and database, resets and 5-second stalls
    seed: int = 1
    dup_share: float = 0.1  # share of upstream messages sent twice
    spread_s: float = 0.0  # over how long the orders start (0: from the number of faults)

    @property
    def window_s(self) -> float:
        return self.spread_s or max(30.0, 25.0 * self.kills)  # a restart takes ~10-20 s


@dataclass
class Outcome:
    text: str
    failures: list[str] = field(default_factory=list)


async def _service_faults(fs: FaultySystem, name: str, sc: Scenario, rng: random.Random) -> None:
    for _ in range(sc.kills):
        await asyncio.sleep(rng.uniform(0.1, 0.6) * sc.window_s / (sc.kills + 1))
        await fs.kill_and_restart(name, down_s=rng.uniform(0.0, 1.0))


async def _infra_faults(fs: FaultySystem, sc: Scenario, rng: random.Random) -> None:
    plan = [("pg", "fast" if i % 2 == 0 else "immediate") for i in range(sc.pg_restarts)]
    plan += [
        ("kafka" if i % 2 == 0 else "postgres", "reset" if (i // 2) % 2 == 0 else "stall")
        for i in range(sc.cuts)
    ]
    rng.shuffle(plan)
    for target, kind in plan:
        await asyncio.sleep(rng.uniform(0.6, 1.4) * sc.window_s / (len(plan) + 1))
        if target == "pg":
            await fs.restart_postgres(kind, down_s=rng.uniform(0.5, 2.0))
        else:
            await fs.cut(target, kind)


async def run_faults(fs: FaultySystem, sc: Scenario) -> None:
    rngs = {name: random.Random(f"{sc.seed}:{name}") for name in [*SERVICES, "infra"]}
    await asyncio.gather(
        *(_service_faults(fs, n, sc, rngs[n]) for n in SERVICES),
        _infra_faults(fs, sc, rngs["infra"]),
    )


async def _quiet(db_url: str, timeout_s: float) -> str:
    """Wait until no service has anything left to do (outboxes empty, nothing parked,
    no e-mail waiting); returns what is still left if the timeout passes."""
    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            left = []
            for s in SERVICES:
                n = await conn.fetchval(
                    f"SELECT (SELECT count(*) FROM {s}.outbox) + (SELECT count(*) FROM {s}.parked_messages)"
                )
                if n:
                    left.append(f"{s}: {n} outbox/parked rows")
            mails = await conn.fetchval(
                "SELECT count(*) FROM notifications.email_deliveries WHERE state IN ('pending', 'sending')"
            )
            if mails:
                left.append(f"{mails} e-mails not sent")
            if not left or time.monotonic() > deadline:
                return "; ".join(left)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def run(sc: Scenario, home: Path) -> Outcome:
    started = time.monotonic()
    fs = FaultySystem(home)
    try:
        await asyncio.to_thread(fs.start)
        ready = time.monotonic() - started
        driver = Driver(fs.bootstrap, {n: fs.url(n) for n in SERVICES}, sc.seed, sc.dup_share)
        await driver.start()
        try:
            await driver.send_poison()
            faults = asyncio.create_task(run_faults(fs, sc))
            await driver.run(sc.orders, sc.window_s, settle_s=300, busy=faults)
            await faults
            driving = time.monotonic() - started - ready
            left = await _quiet(fs.db_url(), 90)
            quiet = time.monotonic() - started - ready - driving
            rep = await _check(fs, driver)
        finally:
            await driver.stop()
    finally:
        await asyncio.to_thread(fs.stop)
    if driver.stuck():
        rep.check(False, "every order driven to the end", str(_sample(driver.stuck())))
    rep.check(not left, "the system went quiet", left)
    text = _summary(sc, fs, driver, rep, (ready, driving, quiet), time.monotonic() - started)
    return Outcome(text, rep.failures)


async def _check(fs: FaultySystem, driver: Driver) -> checks.Report:
    rep = checks.Report()
    orders = [o for o in driver.orders if o.step == "done"]
    ids = [o.id for o in orders]
    topics = await checks.check_lag(fs.bootstrap, rep)
    alerts = checks.published_alerts(topics)
    conn = await asyncpg.connect(fs.db_url().replace("+asyncpg", ""))
    try:
        await checks.check_orders(conn, ids, rep)
        await checks.check_production(conn, orders, {n: fs.url(n) for n in SERVICES}, rep)
        await checks.check_quality(conn, ids, rep)
        await checks.check_predictions(conn, ids, alerts, rep)
        rep.mail = await checks.check_notifications(
            conn, ids, fs.mail.mails, rep, window=fs.faults.kills["notifications"]
        )
        await checks.check_plumbing(conn, rep)
    finally:
        await conn.close()
    checks.check_dead_letters(topics, driver.traffic.poison, rep)
    return rep


def _sample(stuck: dict[str, list[str]]) -> dict[str, str]:
    return {step: f"{len(ids)} e.g. {ids[0]}" for step, ids in stuck.items()}


def _summary(sc, fs, driver, rep, phases, total) -> str:  # type: ignore[no-untyped-def]
    f, t = fs.faults, driver.traffic
    ready, driving, quiet = phases
    in_flight = sum(driver.first_sent <= k <= driver.last_done for k in f.kill_times)
    mail = rep.mail
    lines = [
        f"fault run (seed {sc.seed}): {len(driver.orders)} orders, wall time {total:.0f} s"
        f" (system ready {ready:.0f} s, orders under faults {driving:.0f} s,"
        f" quiet after {quiet:.0f} s, checks {total - ready - driving - quiet:.0f} s)",
        "faults:",
        "  kill -9: "
        + ", ".join(f"{n} {f.kills[n]}" for n in SERVICES)
        + f" (total {sum(f.kills.values())}, {in_flight} while orders were in flight;"
        f" starts that died and were retried: {sum(f.start_failures.values())})",
        f"  PostgreSQL restarts: {len(f.pg_restarts)} ({', '.join(f.pg_restarts)})",
        f"  proxy cuts: {sum(f.cuts.values())} ({', '.join(f'{k} {v}' for k, v in sorted(f.cuts.items()))};"
        f" {f.connections_reset} connections reset)",
        "traffic:",
        f"  published: {dict(t.sent)}; resent after an error {t.resent_after_error},"
        f" sent twice on purpose {t.sent_twice}; poison {len(t.poison)}",
        f"  HTTP retries: {dict(t.http_retries)}; e-mails received {mail.get('mails', '?')}"
        f" for {mail.get('deliveries', '?')} deliveries",
        "invariants:",
        *rep.lines,
    ]
    return "\n".join(lines)

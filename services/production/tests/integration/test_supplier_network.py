"""Suppliers, capacity and utilisation through the real broker, PostgreSQL and HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from looptrace_production.utilisation import FOLD_LOCK
from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_SUPPLIERS, dlq

pytestmark = pytest.mark.integration

OVER, BACK = b"production.capacity_overloaded", b"production.capacity_recovered"


def profile(name: str = "Knit Works", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "country": "PT",
        "contacts": [{"name": "Ana", "email": "ana@example.com"}],
        "categories": [{"category": "knitwear", "moq": 100, "lead_time_days": 30}],
        "processes": ["knitting", "linking"],
        "certifications": [{"name": "OEKO-TEX", "expires_on": "2030-01-01"}],
        **extra,
    }


async def create(running, supplier: str, **extra: Any) -> Any:  # type: ignore[no-untyped-def]
    body = {"supplier_id": supplier, **profile(**extra)}
    return await running.http.post(
        "/v1/suppliers", json=body, headers=running.token("admin", "ops")
    )


@pytest.fixture
def supplier() -> str:
    return f"s-net-{uuid.uuid4().hex[:12]}"


async def test_admins_keep_suppliers_and_a_supplier_sees_only_itself(running, supplier) -> None:  # type: ignore[no-untyped-def]
    http, admin = running.http, running.token("admin", "ops")
    r = await create(running, supplier)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active" and r.json()["categories"][0]["category"] == "knitwear"
    assert (await create(running, supplier)).status_code == 409

    own = await http.get(f"/v1/suppliers/{supplier}", headers=running.token("supplier", supplier))
    assert own.status_code == 200 and own.json()["name"] == "Knit Works"
    for role, who in (("supplier", "someone-else"), ("buyer", "b-1")):
        other = await http.get(f"/v1/suppliers/{supplier}", headers=running.token(role, who))
        assert other.status_code == 404, other.text
    denied = await http.post(
        "/v1/suppliers",
        json={"supplier_id": "x1", **profile()},
        headers=running.token("supplier", supplier),
    )
    assert denied.status_code == 403

    changed = await http.put(
        f"/v1/suppliers/{supplier}",
        json=profile("Knit Works 2"),
        headers={**admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = await http.put(
        f"/v1/suppliers/{supplier}", json=profile(), headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    r = await http.post(f"/v1/suppliers/{supplier}/suspend", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "suspended"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"categories": [{"category": "spacesuits", "lead_time_days": 5}]}, "unknown_category"),
        ({"processes": ["welding"]}, "unknown_process"),
        ({"country": ""}, None),
        ({"certifications": [{"name": "GOTS", "expires_on": "soon"}]}, None),
    ],
)
async def test_bad_supplier_data_is_a_problem_naming_it(running, supplier, change, rule) -> None:  # type: ignore[no-untyped-def]
    r = await create(running, supplier, **change)
    assert r.status_code == 422, r.text
    if rule:
        assert r.json()["rule"] == rule
    missing = await running.http.get(
        f"/v1/suppliers/{supplier}", headers=running.token("admin", "o")
    )
    assert missing.status_code == 404, "nothing stored"


async def test_capacity_is_reported_by_the_supplier_itself(running, supplier) -> None:  # type: ignore[no-untyped-def]
    await create(running, supplier)
    http, url = running.http, f"/v1/suppliers/{supplier}/capacity"
    entry = {"category": "knitwear", "units_per_week": 300, "effective_from": "2026-01-05"}
    r = await http.put(url, json={"entries": [entry]}, headers=running.token("supplier", supplier))
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "bucket": "category:knitwear",
            "units_per_week": 300,
            "effective_from": "2026-01-05",
            "effective_to": None,
        }
    ]
    other = await http.put(url, json={"entries": [entry]}, headers=running.token("supplier", "x"))
    assert other.status_code == 404
    both = {**entry, "process": "knitting"}
    backwards = {**entry, "effective_to": "2025-01-01"}
    for bad, rule in ((both, "bad_capacity"), (backwards, "bad_capacity")):
        r = await http.put(url, json={"entries": [bad]}, headers=running.token("admin", "ops"))
        assert r.status_code == 422 and r.json()["rule"] == rule, r.text


async def test_master_data_arrives_as_an_event_and_bad_records_go_to_the_dlq(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    good = {"supplier_id": supplier, **profile("From ERP")}
    await kit.send("SupplierMasterData", supplier, good, PRODUCTION_SUPPLIERS)
    bad_id = f"{supplier}-bad"
    bad = {"supplier_id": bad_id, **profile(processes=["welding"])}
    env = await kit.send("SupplierMasterData", bad_id, bad, PRODUCTION_SUPPLIERS)
    admin = running.token("admin", "ops")

    async def probe() -> Any:
        r = await running.http.get(f"/v1/suppliers/{supplier}", headers=admin)
        return r.json() if r.status_code == 200 else None

    found = await kit.until(probe, lambda s: s is not None, what="supplier stored")
    assert found["name"] == "From ERP"
    letters = await kit.read(dlq(PRODUCTION_SUPPLIERS), {bad_id}, lambda rs: len(rs) >= 1)
    assert kit.headers(letters[0])["rule"] == "unknown_process"
    assert str(env.id).encode() in letters[0].value


async def utilisation(running, supplier: str) -> dict[tuple[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await running.http.get(
        f"/v1/suppliers/{supplier}/utilisation?weeks=20", headers=running.token("admin", "ops")
    )
    assert r.status_code == 200, r.text
    return {(w["week"], w["bucket"]): w for w in r.json()}


def knitting(weeks: dict[tuple[str, str], dict[str, Any]]) -> dict[str, float]:
    return {k[0]: w["load_units"] for k, w in weeks.items() if k[1] == "category:knitwear"}


@contextlib.asynccontextmanager
async def fold_held_off(database_url: str) -> AsyncIterator[None]:
    """The utilisation folder's advisory lock, held by another connection meanwhile."""
    engine = create_async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": FOLD_LOCK})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": FOLD_LOCK})
    finally:
        await engine.dispose()


async def test_assignment_and_reforecast_move_utilisation_with_one_event_per_change(
    running, kit, supplier, database_url
) -> None:  # type: ignore[no-untyped-def]
    await create(running, supplier)
    this_week = date.today() - timedelta(days=date.today().weekday())
    entry = {"category": "knitwear", "units_per_week": 300, "effective_from": str(this_week)}
    r = await running.http.put(
        f"/v1/suppliers/{supplier}/capacity",
        json={"entries": [entry]},
        headers=running.token("supplier", supplier),
    )
    assert r.status_code == 200, r.text
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await kit.assign(kit.assignment(a, "knitwear", supplier=supplier, days=70))
    one = await kit.until(
        lambda: utilisation(running, supplier),
        lambda w: bool(knitting(w)),
        what="load of the first order",
    )
    assert sum(knitting(one).values()) == pytest.approx(500, abs=0.5)
    assert not any(w["overloaded"] for w in one.values())

    # The folder is held off (as a busy machine may hold it) until the second order's load
    # and the re-forecast that moves it away are both written: the overload then lasted
    # between two folds only, and must still be reported once each way.
    async with fold_held_off(database_url):
        await kit.assign(kit.assignment(b, "knitwear", supplier=supplier, days=70))
        two = await kit.until(
            lambda: utilisation(running, supplier),
            lambda w: sum(knitting(w).values()) > 999,
            what="load of both",
        )
        overloaded = {k[0] for k, w in two.items() if w["overloaded"]}
        assert overloaded, two
        assert all(two[(wk, "category:knitwear")]["utilisation_pct"] > 100 for wk in overloaded)

        # order b starts early: yarn in today, knitting started today (re-forecast)
        at = kit.an_hour_ago()
        for n, (stage, pct) in enumerate([(1, 10), (1, 100), (2, 10)]):
            await kit.report(kit.progress(b, stage, pct, kit.stamp(at, n)))
        moved = await kit.until(
            lambda: utilisation(running, supplier),
            lambda w: not any(x["overloaded"] for x in w.values()),
            what="no week overloaded after the re-forecast",
        )
    assert knitting(moved) != knitting(two)
    assert sum(knitting(moved).values()) == pytest.approx(1000, abs=0.5)
    assert knitting(moved).get(str(this_week), 0) > 0, "knitting moved into this week"

    await kit.report(kit.progress(b, 2, 50, kit.stamp(at, 10)))  # moves no date
    records = await kit.read(
        PRODUCTION_EVENTS,
        {supplier},
        lambda rs: sum(BACK in r.value for r in rs) >= len(overloaded),
    )
    events = [kit.envelopes([r])[0] for r in records]
    over = Counter(e.data["week"] for e in events if e.type.endswith("overloaded"))
    back = Counter(e.data["week"] for e in events if e.type.endswith("recovered"))
    assert set(over) == overloaded and set(back) == overloaded
    assert set(over.values()) == {1} and set(back.values()) == {1}, (over, back)


async def test_candidates_rank_capable_active_suppliers_with_reasons(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    free, busy, suspended, other = (f"{supplier}-{n}" for n in ("free", "busy", "susp", "sew"))
    for s in (free, busy, suspended):
        assert (await create(running, s)).status_code == 201
    sew = [{"category": "cut-and-sew", "lead_time_days": 20}]
    assert (await create(running, other, categories=sew)).status_code == 201
    admin = running.token("admin", "ops")
    await running.http.post(f"/v1/suppliers/{suspended}/suspend", headers=admin)
    this_week = date.today() - timedelta(days=date.today().weekday())
    for s, units in ((free, 1000), (busy, 300)):
        entry = {"category": "knitwear", "units_per_week": units, "effective_from": str(this_week)}
        r = await running.http.put(
            f"/v1/suppliers/{s}/capacity", json={"entries": [entry]}, headers=admin
        )
        assert r.status_code == 200, r.text
    await kit.assign(kit.assignment(str(uuid.uuid4()), "knitwear", supplier=busy, days=70))
    await kit.until(lambda: utilisation(running, busy), lambda w: bool(knitting(w)), what="load")

    target = date.today() + timedelta(days=70)
    q = f"/v1/suppliers/candidates?category=knitwear&quantity=500&target_date={target}"
    r = await running.http.get(q, headers=admin)
    assert r.status_code == 200, r.text
    mine = [c for c in r.json() if c["supplier_id"].startswith(supplier)]
    assert [c["supplier_id"] for c in mine] == [free, busy]
    first, second = mine
    assert first["feasible"] and not second["feasible"]
    assert first["rank"] < second["rank"]
    assert any(
        "would be at" in reason and "% of its capacity" in reason for reason in second["reasons"]
    )
    assert any(w["planned_units"] > 0 for w in second["weeks"])
    assert first["stages"][1]["stage_name"] == "Knitting"
    assert (
        "QC first-pass rate: kept by the quality service, not known to production"
        in first["reasons"]
    )

    bad = await running.http.get(q.replace("knitwear", "spacesuits"), headers=admin)
    assert bad.status_code == 422 and bad.json()["rule"] == "unknown_category"
    denied = await running.http.get(q, headers=running.token("supplier", free))
    assert denied.status_code == 403


async def test_an_assignment_beyond_capability_and_capacity_is_warned_not_refused(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    expired = [{"name": "GOTS", "expires_on": "2020-01-01"}]
    assert (await create(running, supplier, certifications=expired)).status_code == 201
    this_week = date.today() - timedelta(days=date.today().weekday())
    entry = {"category": "knitwear", "units_per_week": 100, "effective_from": str(this_week)}
    admin = running.token("admin", "ops")
    await running.http.put(f"/v1/suppliers/{supplier}/capacity", json={"entries": [entry]},
                           headers=admin)  # fmt: skip
    oid = str(uuid.uuid4())
    await kit.assign(kit.assignment(oid, "knitwear", supplier=supplier, days=70))
    sew = str(uuid.uuid4())
    await kit.assign(kit.assignment(sew, "cut-and-sew", supplier=supplier, days=90))
    records = await kit.read(PRODUCTION_EVENTS, {oid, sew},
                             lambda rs: sum(b"assignment_warned" in r.value for r in rs) >= 2)  # fmt: skip
    warned = {e.subject: e.data for e in kit.envelopes(records) if e.type.endswith("warned")}
    knit, cut = warned[oid]["warnings"], warned[sew]["warnings"]
    assert "its GOTS certification expired on 2020-01-01" in knit
    assert any("category:knitwear would be at" in w for w in knit)
    assert f"supplier {supplier} has no recorded capability for cut-and-sew" in cut
    assert warned[oid]["assigned_by"] == "ops"
    assert (await running.timeline(oid)) is not None, "planned all the same"
    r = await running.http.get(f"/v1/orders/{oid}/assignment-warnings", headers=admin)
    assert r.status_code == 200 and r.json()[0]["warnings"] == knit


async def test_decoded_profiles_are_bounded_and_a_dropped_one_reads_the_same(
    running, supplier, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from looptrace_production import suppliers

    for n in range(3):
        assert (await create(running, f"{supplier}-{n}")).status_code == 201
    target = date.today() + timedelta(days=70)
    q = f"/v1/suppliers/candidates?category=knitwear&quantity=500&target_date={target}"
    admin = running.token("admin", "ops")

    async def mine() -> list[Any]:
        r = await running.http.get(q, headers=admin)
        assert r.status_code == 200, r.text
        return [c for c in r.json() if c["supplier_id"].startswith(supplier)]

    kept = await mine()
    assert len(kept) == 3 and len(suppliers._DECODED) >= 3
    monkeypatch.setattr(suppliers, "SUPPLIERS_KEPT", 2)
    monkeypatch.setattr(suppliers, "_DECODED", {})
    for _ in range(2):  # at most 2 kept: the others are read from the database each time
        assert await mine() == kept
        assert 1 <= len(suppliers._DECODED) <= 2

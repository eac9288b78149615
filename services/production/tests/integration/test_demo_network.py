"""``up --demo``'s supplier network (looptrace_shared.demo_network) seeded through production's
real HTTP API, a demo knitwear order overloading sup-0 through the real broker, and the
demo printout naming that week."""

from __future__ import annotations

import json
import uuid

import pytest

from looptrace_shared.demo_network import NETWORK, Overloads, seed_network
from looptrace_shared.topics import PRODUCTION_EVENTS

pytestmark = pytest.mark.integration

OVER = b"production.capacity_overloaded"


async def test_the_demo_network_is_seeded_and_its_overloaded_week_is_named(running, kit) -> None:  # type: ignore[no-untyped-def]
    secret = running.settings.jwt_secret
    assert await seed_network(running.http, secret) == len(NETWORK)
    assert await seed_network(running.http, secret) == 0  # a second demo run keeps them
    admin = running.token("admin", "ops")
    listed = {
        s["supplier_id"]: s for s in (await running.http.get("/v1/suppliers", headers=admin)).json()
    }
    for s in NETWORK:
        assert [c["category"] for c in listed[s.supplier_id]["categories"]] == list(s.categories)
        caps = (
            await running.http.get(f"/v1/suppliers/{s.supplier_id}/capacity", headers=admin)
        ).json()
        assert {(c["bucket"], c["units_per_week"]) for c in caps} == {
            (f"{kind}:{key}", units) for kind, key, units in s.capacity
        }

    for _ in range(3):  # 3 × 500 units knitted over the same 12 working days > 400 a week
        await kit.assign(kit.assignment(str(uuid.uuid4()), "knitwear", supplier="sup-0", days=70))
    records = await kit.read(
        PRODUCTION_EVENTS, {"sup-0"}, lambda rs: any(OVER in r.value for r in rs)
    )
    overloads = Overloads()
    for r in records:
        overloads.observe(json.loads(r.value))
    over = [json.loads(r.value)["data"] for r in records if OVER in r.value]
    top = min(over, key=lambda d: (-d["utilisation_pct"], d["week"]))  # ties: the earliest
    lines = overloads.lines()
    assert len(lines) == len({(d["week"], d["bucket"]) for d in over})
    assert lines[0].startswith("sup-0: ")
    assert f"at {top['utilisation_pct']:.0f} % of capacity in the week of {top['week']}" in lines[0]

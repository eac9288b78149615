"""The demo's supplier network: three factories with different capabilities and capacities,
seeded through production's HTTP API the way an admin (master data) and each supplier (its
own capacity) would, and the overloaded supplier-weeks the season causes, for the printout.

``sup-0`` (the demo's knitwear factory) reports a knitwear capacity below what the demo's
knitwear orders need (their knitting, planned or, as the demo runs them, all this week), so
production announces at least one overloaded week
(``production.capacity_overloaded``); ``sup-1`` has room for all its cut-and-sew work;
``sup-2`` takes no demo orders (it shows up in ``GET /v1/suppliers/candidates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from looptrace_shared.auth import mint_token

OVERLOADED = "production.capacity_overloaded"


@dataclass(frozen=True)
class DemoSupplier:
    supplier_id: str
    name: str
    country: str
    categories: tuple[str, ...]
    processes: tuple[str, ...]
    capacity: tuple[tuple[str, str, int], ...]  # ("category" | "process", key, units/week)

    def profile(self) -> dict[str, Any]:
        return {
            "supplier_id": self.supplier_id,
            "name": self.name,
            "country": self.country,
            "contacts": [{"name": "Planner", "email": f"{self.supplier_id}@demo.example"}],
            "categories": [
                {"category": c, "moq": 100, "lead_time_days": 30} for c in self.categories
            ],
            "processes": list(self.processes),
            "certifications": [{"name": "OEKO-TEX", "expires_on": "2030-12-31"}],
        }


NETWORK = (
    DemoSupplier("sup-0", "Factory 0", "PT", ("knitwear",), ("knitting", "linking"),
                 (("category", "knitwear", 400), ("process", "linking", 1_500))),
    DemoSupplier("sup-1", "Factory 1", "BD", ("cut-and-sew",),
                 ("cutting", "sewing", "printing", "embroidery"),
                 (("category", "cut-and-sew", 20_000), ("process", "printing", 20_000))),
    DemoSupplier("sup-2", "Factory 2", "VN", ("knitwear", "cut-and-sew"),
                 ("knitting", "sewing", "washing"),
                 (("category", "knitwear", 4_000), ("category", "cut-and-sew", 6_000))),
)  # fmt: skip


def bearer(secret: str, role: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret, role, subject)}"}


async def seed_network(http: httpx.AsyncClient, secret: str, today: date | None = None) -> int:
    """Create the demo's suppliers (an existing one is kept: 409) and have each report its
    capacity from this week on. Returns how many suppliers were created now."""
    monday = (today or date.today()) - timedelta(days=(today or date.today()).weekday())
    created = 0
    for s in NETWORK:
        r = await http.post(
            "/v1/suppliers", json=s.profile(), headers=bearer(secret, "admin", "demo")
        )
        if r.status_code not in (201, 409):
            raise RuntimeError(f"demo supplier {s.supplier_id}: {r.status_code} {r.text[:300]}")
        created += r.status_code == 201
        entries = [
            {kind: key, "units_per_week": units, "effective_from": str(monday)}
            for kind, key, units in s.capacity
        ]
        r = await http.put(
            f"/v1/suppliers/{s.supplier_id}/capacity",
            json={"entries": entries},
            headers=bearer(secret, "supplier", s.supplier_id),
        )
        if r.status_code != 200:
            raise RuntimeError(f"demo capacity {s.supplier_id}: {r.status_code} {r.text[:300]}")
    return created


class Overloads:
    """The overloaded supplier-weeks production announced during the season (the peak kept)."""

    def __init__(self) -> None:
        self.weeks: dict[tuple[str, str, str], float] = {}

    def observe(self, event: dict[str, Any]) -> None:
        if event.get("type") != OVERLOADED:
            return
        d = event["data"]
        key = (d["supplier_id"], d["week"], d["bucket"])
        self.weeks[key] = max(self.weeks.get(key, 0.0), float(d["utilisation_pct"]))

    def lines(self) -> list[str]:
        """One line per overloaded supplier-week, the most loaded first."""
        ranked = sorted(self.weeks.items(), key=lambda kv: (-kv[1], kv[0]))
        return [
            f"{supplier}: {bucket.split(':', 1)[-1]} at {pct:.0f} % of capacity in the week "
            f"of {week} (ISO week {date.fromisoformat(week).isocalendar().week})"
            for (supplier, week, bucket), pct in ranked
        ]

"""``looptrace retention run``: each service moves its own data to cold storage.

Services contribute their part through the ``looptrace.retention`` entry points: an
``async (dry_run: bool) -> list[str]`` that reads its own settings from the environment and
returns the lines to print. The command runs them one after the other (plumbing only: what is
kept, moved or purged is each service's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

Part = Callable[[bool], Coroutine[Any, Any, list[str]]]


@dataclass
class Report:
    """What one service's run moved (or, dry, would move): orders and rows per table."""

    service: str
    dry_run: bool
    cutoff: datetime
    orders: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, rows: dict[str, int]) -> None:
        for name, n in rows.items():
            self.rows[name] = self.rows.get(name, 0) + n

    def lines(self) -> list[str]:
        verb = "would move" if self.dry_run else "moved"
        per_table = ", ".join(f"{t} {n}" for t, n in self.rows.items()) or "nothing"
        return [
            f"{self.service}: {verb} the records of {self.orders} completed orders finished "
            f"before {self.cutoff:%Y-%m-%d} to cold storage ({per_table})"
        ]


def cutoff_for(years: int, now: datetime | None = None) -> datetime:
    """``years`` before ``now`` (28 February for a 29 February)."""
    now = now or datetime.now(UTC)
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def parts(only: tuple[str, ...] = ()) -> dict[str, Part]:
    found = {ep.name: ep for ep in entry_points(group="looptrace.retention")}
    return {name: ep.load() for name, ep in sorted(found.items()) if not only or name in only}

"""The pre-production (PP) sample loop as delay-risk features.

Bulk production may not start before the PP sample is approved (production's gate), so a
sample that is late, or rejected round after round, delays the order. Per order predictions
keeps the loop's dates (from production's ``production.sample_*`` events live, from the
history's ``pp_*_date`` columns in training):

* ``requested``: the buyer's request (round 1); ``due``: round 1's due date (the T&A's);
* ``rejected``: the day of each rejection (each one starts the next round);
* ``approved``: the approval (the gate opens).

Features as of day t use only what happened on or before t:

* ``pp_sample_rounds`` = rounds requested so far (1 + rejections so far; 0 before the request)
* ``pp_sample_days_late`` = days past round 1's due date the sample is still unapproved on t,
  or was approved (≥ 0; 0 before the request)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

PP_KIND = "pre_production"
MAX_REJECTIONS = 3  # rejections the history keeps (columns pp_rejected_1_date …)
SAMPLE_FEATURES = ["pp_sample_rounds", "pp_sample_days_late"]
REJECTED_COLUMNS = [f"pp_rejected_{k}_date" for k in range(1, MAX_REJECTIONS + 1)]
HISTORY_SAMPLE_COLUMNS = ["pp_requested_date", "pp_due_date", *REJECTED_COLUMNS, "pp_approved_date"]
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class SampleTable:
    """Each order's PP sample loop as epoch days (NaN: not (yet) happened / unknown)."""

    requested: np.ndarray
    due: np.ndarray
    rejected: np.ndarray  # orders × MAX_REJECTIONS
    approved: np.ndarray

    @classmethod
    def empty(cls, n: int) -> SampleTable:
        def nan() -> np.ndarray:
            return np.full(n, np.nan)

        return cls(nan(), nan(), np.full((n, MAX_REJECTIONS), np.nan), nan())


def sample_features(table: SampleTable, rows: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The two features of order ``rows[i]`` as of epoch day ``t[i]``."""
    requested, due = table.requested[rows], table.due[rows]
    approved = table.approved[rows]
    asked = requested <= t  # NaN compares False: no request yet, or none known
    rejections = (table.rejected[rows] <= t[:, None]).sum(axis=1)
    rounds = np.where(asked, 1.0 + rejections, 0.0)
    until = np.where(approved <= t, approved, t)
    late = np.where(asked & ~np.isnan(due), np.maximum(until - due, 0.0), 0.0)
    return {"pp_sample_rounds": rounds, "pp_sample_days_late": late}


def table_from_history(history: pd.DataFrame, order_ids: pd.Index) -> SampleTable:
    """The loop of each order from its history's ``pp_*_date`` columns (all NaN without)."""
    if "pp_requested_date" not in history:
        return SampleTable.empty(len(order_ids))
    first = history.groupby("order_id", sort=False)[HISTORY_SAMPLE_COLUMNS].first()
    first = first.reindex(order_ids)

    def days(column: str) -> np.ndarray:
        as_dates = pd.to_datetime(first[column]).to_numpy(dtype="datetime64[D]")
        out = (as_dates - np.datetime64("1970-01-01", "D")).astype("timedelta64[D]")
        values = out.astype("float64")
        values[np.isnat(as_dates)] = np.nan
        return values

    rejected = np.column_stack([days(c) for c in REJECTED_COLUMNS])
    return SampleTable(
        days("pp_requested_date"), days("pp_due_date"), rejected, days("pp_approved_date")
    )


@dataclass
class PpSample:
    """A live order's PP sample loop, from production's sample events."""

    requested: date | None = None
    due: date | None = None
    rejected: list[date] = field(default_factory=list)
    approved: date | None = None

    def heard(self, event_type: str, data: Any) -> None:
        """Take a ``production.sample_*`` event of the PP sample."""
        if event_type == "production.sample_requested":
            self.requested = self.requested or data.requested_at.date()
            self.due = self.due or data.due_date
        elif event_type == "production.sample_rejected":
            day = data.rejected_at.date()
            if day not in self.rejected:
                self.rejected = sorted([*self.rejected, day])
        elif event_type == "production.sample_approved":
            self.approved = data.approved_at.date()

    def to_json(self) -> dict[str, Any]:
        return {
            "requested": _iso(self.requested),
            "due": _iso(self.due),
            "rejected": [d.isoformat() for d in self.rejected],
            "approved": _iso(self.approved),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PpSample:
        return cls(
            _day(data.get("requested")),
            _day(data.get("due")),
            [date.fromisoformat(d) for d in data.get("rejected", [])],
            _day(data.get("approved")),
        )


def table_from_live(samples: Sequence[PpSample | None]) -> SampleTable:
    """One row per live order (None: no PP sample heard of)."""
    table = SampleTable.empty(len(samples))
    for i, s in enumerate(samples):
        if s is None:
            continue
        table.requested[i], table.due[i] = _epoch(s.requested), _epoch(s.due)
        table.approved[i] = _epoch(s.approved)
        for k, day in enumerate(s.rejected[:MAX_REJECTIONS]):
            table.rejected[i, k] = _epoch(day)
    return table


def _epoch(day: date | None) -> float:
    return np.nan if day is None else float((day - _EPOCH).days)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)

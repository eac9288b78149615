"""An open order as the worker sees it: built from events, scored with the training features.

``LiveOrder`` is plain data (stored as JSON in ``order_features.state``). Events change it
through small methods; ``to_order_state`` turns it into the ``OrderState`` that
``features_from_state`` scores, once it knows enough (category, dates and a plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

from looptrace_predictions.samples import PpSample
from looptrace_predictions.state import (
    OrderOutcome,
    OrderState,
    StageState,
    SupplierRecord,
    order_outcome,
)

UNKNOWN_SUPPLIER = "unassigned"


class StageUnknown(LookupError):
    """A stage event names a stage that is not in the order's plan."""


@dataclass
class LiveStage:
    stage_number: int
    stage_name: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None = None
    actual_end: date | None = None
    qc_failures: int = 0

    @property
    def planned(self) -> bool:
        return self.planned_start is not None and self.planned_end is not None


@dataclass
class LiveOrder:
    order_id: str
    order_number: str | None = None
    buyer_id: str | None = None
    supplier_id: str | None = None
    product_category: str | None = None
    quantity: int | None = None
    order_date: date | None = None
    target_date: date | None = None
    projected_completion: date | None = None
    stages: list[LiveStage] = field(default_factory=list)
    qc_failures: int = 0
    has_print: bool | None = None  # print or embroidery (the quality-risk model's feature)
    pp_sample: PpSample | None = None  # the pre-production sample loop (``samples.py``)

    # ---- facts ------------------------------------------------------------------

    def learn(self, **facts: Any) -> None:
        """Take the facts an event carries; a missing (None) fact keeps what is known."""
        for name, value in facts.items():
            if value is not None:
                setattr(self, name, value)

    def plan(self, stages: list[LiveStage]) -> None:
        self.stages = sorted(stages, key=lambda s: s.stage_number)

    @property
    def has_plan(self) -> bool:
        return any(s.planned for s in self.stages)

    def stage(self, number: int) -> LiveStage:
        for stage in self.stages:
            if stage.stage_number == number:
                return stage
        known = ", ".join(str(s.stage_number) for s in self.stages) or "none"
        raise StageUnknown(
            f"order {self.order_id} has no stage {number} in its plan (stages: {known})"
        )

    def stage_started(self, number: int, on: date) -> None:
        self.stage(number).actual_start = on

    def stage_completed(self, number: int, on: date) -> None:
        stage = self.stage(number)
        stage.actual_start = stage.actual_start or on
        stage.actual_end = on

    def stage_reopened(self, number: int) -> None:
        """Rework: the stage is not done until it completes again."""
        self.stage(number).actual_end = None

    def inspection_failed(self, stage_number: int | None) -> None:
        """Count a failed inspection on its stage (else on the last finished stage)."""
        self.qc_failures += 1
        stage = self._inspected_stage(stage_number)
        if stage is not None:
            stage.qc_failures += 1

    def _inspected_stage(self, number: int | None) -> LiveStage | None:
        if number is not None and any(s.stage_number == number for s in self.stages):
            return self.stage(number)
        done = [s for s in self.stages if s.actual_end is not None]
        return done[-1] if done else None

    # ---- scoring ------------------------------------------------------------------

    @property
    def scorable(self) -> bool:
        known = (self.product_category, self.order_date, self.target_date)
        return all(v is not None for v in known) and self.has_plan

    def to_order_state(self, supplier: SupplierRecord, open_orders: int) -> OrderState:
        if not self.scorable:
            raise ValueError(f"order {self.order_id} lacks a category, dates or a plan to score")
        assert self.product_category and self.order_date and self.target_date
        stages = [
            StageState(
                s.stage_number, s.stage_name, s.planned_start, s.planned_end,  # type: ignore[arg-type]
                s.actual_start, s.actual_end, s.qc_failures,
            )
            for s in self.stages
            if s.planned
        ]  # fmt: skip
        return OrderState(
            order_id=self.order_id,
            supplier_id=self.supplier_id or UNKNOWN_SUPPLIER,
            product_category=self.product_category,
            quantity=self.quantity if self.quantity is not None else float("nan"),  # type: ignore[arg-type]
            order_date=self.order_date,
            target_date=self.target_date,
            stages=stages,
            supplier=supplier,
            supplier_open_orders=max(open_orders, 1),
            pp_sample=self.pp_sample,
        )

    def outcome(self, ended_on: date) -> OrderOutcome | None:
        """How the order ended (None without a target date to measure against)."""
        if self.target_date is None:
            return None
        if self.scorable:
            state = self.to_order_state(SupplierRecord(), 1)
            last = max(state.stages, key=lambda s: s.stage_number)
            finished = order_outcome(replace(state, stages=_ended(state.stages, last, ended_on)))
            if finished is not None:
                return finished
        delay = max(0, (ended_on - self.target_date).days)
        return OrderOutcome(ended_on, float(delay), 0.0)

    def projected(self, expected_delay_days: float) -> date | None:
        """The completion date an alert shows: target + expected delay, else production's."""
        if self.target_date is not None and expected_delay_days >= 0.5:
            return self.target_date + timedelta(days=round(expected_delay_days))
        return self.projected_completion or self.target_date

    def completion_range(
        self, lateness_p10: float | None, lateness_p90: float | None
    ) -> tuple[date | None, date | None]:
        """(earliest, latest) completion of the interval: target + P10 / P90 of the lateness."""
        if self.target_date is None or lateness_p10 is None or lateness_p90 is None:
            return None, None
        return (
            self.target_date + timedelta(days=round(lateness_p10)),
            self.target_date + timedelta(days=round(lateness_p90)),
        )

    # ---- storage ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = {name: _iso(getattr(self, name)) for name in _ORDER_FIELDS}
        data["stages"] = [{n: _iso(getattr(s, n)) for n in _STAGE_FIELDS} for s in self.stages]
        if self.pp_sample is not None:
            data["pp_sample"] = self.pp_sample.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveOrder:
        values = {k: _date_or(v) if k in _DATE_FIELDS else v for k, v in data.items()}
        if data.get("pp_sample") is not None:
            values["pp_sample"] = PpSample.from_json(data["pp_sample"])
        values["stages"] = [
            LiveStage(**{k: _date_or(v) if k in _STAGE_DATES else v for k, v in s.items()})
            for s in data.get("stages", [])
        ]
        return cls(**values)


def _ended(stages: Any, last: StageState, ended_on: date) -> list[StageState]:
    """The stages with the last one ended on ``ended_on`` if no stage event said so."""
    if last.actual_end is not None:
        return list(stages)
    closed = replace(last, actual_start=last.actual_start or ended_on, actual_end=ended_on)
    return [closed if s is last else s for s in stages]


_DATE_FIELDS = {"order_date", "target_date", "projected_completion"}
_STAGE_DATES = {"planned_start", "planned_end", "actual_start", "actual_end"}


def _date_or(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_ORDER_FIELDS = [f.name for f in fields(LiveOrder) if f.name not in ("stages", "pp_sample")]
_STAGE_FIELDS = [f.name for f in fields(LiveStage)]

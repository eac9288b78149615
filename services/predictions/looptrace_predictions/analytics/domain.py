"""An order as the analytics read model knows it, and the facts the figures count.

``OrderRecord`` is plain data built from order, production, quality and message events (stored
as JSON in ``analytics_orders.state``). A completed stage becomes a ``StageFact``: how long it
took, how far it overran its planned duration, and how much lateness it *created* — its
lateness at completion minus the lateness it inherited from the stage before it. Summed over
an order's stages, created lateness is the order's lateness, so each day late is attributed to
the stage that caused it, not the stage where it was noticed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, NamedTuple

OPEN_STATUSES_ENDED = frozenset({"completed", "cancelled", "delivered"})


@functools.lru_cache(maxsize=1024)
def season_of(target: date | None) -> str | None:
    """Apparel seasons by delivery: spring/summer (SS) January–June, autumn/winter (AW) July–December."""
    if target is None:
        return None
    return f"{'SS' if target.month <= 6 else 'AW'}{target.year % 100:02d}"


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(slots=True)
class StageRecord:
    number: int
    name: str
    planned_start: date | None
    planned_end: date | None
    qc: bool = False
    started_on: date | None = None
    completed_on: date | None = None
    done_by: str | None = None  # the supplier who completed it


new_fact = tuple.__new__  # a StageFact without the generated __new__'s Python call


class StageFact(NamedTuple):
    """One completed stage with the dimensions the figures filter and group by.

    A tuple (not a dataclass): a batch builds one per completed stage of every order it
    touches, twice (before and after), and compares them.
    """

    order_id: str
    stage_number: int
    stage_name: str
    supplier_id: str | None
    buyer_id: str | None
    category: str | None
    season: str | None
    completed_on: date
    days_in_stage: int
    overrun_days: int  # actual minus planned duration (negative: quicker than planned)
    late_days: int  # days after the planned end (0 when on time)
    created_days: int  # lateness this stage added to what it inherited

    @property
    def slipped(self) -> bool:
        return self.created_days > 0


@dataclass(frozen=True, slots=True)
class Reply:
    """A supplier's answer to a buyer's message: how long the buyer waited."""

    order_id: str
    supplier_id: str | None
    asked_at: datetime
    answered_at: datetime

    @property
    def hours(self) -> float:
        return (self.answered_at - self.asked_at).total_seconds() / 3600


@dataclass
class OrderRecord:
    order_id: str
    order_number: str | None = None
    buyer_id: str | None = None
    supplier_id: str | None = None
    category: str | None = None
    quantity: int | None = None
    target_date: date | None = None
    placed_on: date | None = None
    assigned_at: datetime | None = None
    first_report_at: datetime | None = None
    workflow_status: str | None = None
    production_status: str | None = None
    projected_completion: date | None = None
    completed_on: date | None = None
    shipped_on: date | None = None
    ended: bool = False
    question_at: datetime | None = None
    stages: list[StageRecord] = field(default_factory=list)

    # ---- facts from events --------------------------------------------------------

    def learn(self, **facts: Any) -> None:
        """Take the facts an event carries; a missing (None) fact keeps what is known."""
        for name, value in facts.items():
            if value is not None:
                setattr(self, name, value)

    def assigned(self, supplier_id: str, at: datetime) -> None:
        if supplier_id != self.supplier_id:
            self.assigned_at, self.first_report_at = at, None
        self.supplier_id = supplier_id

    def plan(self, stages: list[StageRecord]) -> None:
        done = {s.number: s for s in self.stages}
        for s in stages:  # a re-plan keeps what already happened
            if s.number in done:
                s.started_on, s.completed_on = (
                    done[s.number].started_on,
                    done[s.number].completed_on,
                )
                s.done_by = done[s.number].done_by
        self.stages = sorted(stages, key=lambda s: s.number)

    def stage(self, number: int) -> StageRecord | None:
        return next((s for s in self.stages if s.number == number), None)

    def reported(self, at: datetime) -> None:
        """The supplier reported progress: the first report after assignment is kept."""
        if self.first_report_at is None or at < self.first_report_at:
            self.first_report_at = at

    def stage_started(self, number: int, at: datetime) -> None:
        s = self.stage(number)
        if s is not None and s.started_on is None:
            s.started_on = at.date()
        self.reported(at)

    def stage_completed(self, number: int, at: datetime) -> None:
        s = self.stage(number)
        if s is not None:
            s.started_on = s.started_on or at.date()
            s.completed_on, s.done_by = at.date(), self.supplier_id
        self.reported(at)

    def stage_reopened(self, number: int) -> None:
        s = self.stage(number)
        if s is not None:
            s.completed_on, s.done_by = None, None

    def status_changed(self, workflow: str, production: str, at: datetime) -> None:
        self.workflow_status, self.production_status = workflow, production
        if workflow == "shipped" and self.shipped_on is None:
            self.shipped_on = at.date()
        if workflow in OPEN_STATUSES_ENDED:
            self.ended = True

    def message(self, role: str, at: datetime) -> Reply | None:
        """A buyer's message waits for an answer; the supplier's next message answers it."""
        if role == "buyer":
            self.question_at = self.question_at or at
            return None
        if role == "supplier" and self.question_at is not None:
            reply = Reply(self.order_id, self.supplier_id, self.question_at, at)
            self.question_at = None
            return reply
        return None

    # ---- what the figures read -----------------------------------------------------

    @property
    def season(self) -> str | None:
        return season_of(self.target_date)

    @property
    def is_open(self) -> bool:
        return not self.ended and self.completed_on is None

    @property
    def finished_on(self) -> date | None:
        """When the goods left: shipped if known, else production completed."""
        return self.shipped_on or self.completed_on

    @property
    def on_time(self) -> bool | None:
        if self.finished_on is None or self.target_date is None:
            return None
        return self.finished_on <= self.target_date

    @property
    def delayed(self) -> bool:
        if not self.is_open:
            return False
        late_forecast = (
            self.projected_completion is not None
            and self.target_date is not None
            and self.projected_completion > self.target_date
        )
        return self.workflow_status == "delayed" or late_forecast

    @property
    def current_stage(self) -> str | None:
        """Work in progress: the first stage under way, else the next one waiting to start."""
        if not self.is_open:
            return None
        running = [s for s in self.stages if s.started_on and not s.completed_on]
        waiting = [s for s in self.stages if not s.completed_on]
        pick = running or waiting
        return pick[0].name if pick else None

    @property
    def first_report_hours(self) -> float | None:
        if self.assigned_at is None or self.first_report_at is None:
            return None
        return max(0.0, (self.first_report_at - self.assigned_at).total_seconds() / 3600)

    def last_qc_stage(self) -> int | None:
        qc = [s.number for s in self.stages if s.qc]
        return max(qc) if qc else None

    def is_inline(self, stage_number: int | None) -> bool:
        """An inspection at a QC stage before the last one is an inline check; the last is final."""
        last = self.last_qc_stage()
        return stage_number is not None and last is not None and stage_number < last

    def stage_facts(self) -> list[StageFact]:
        facts: list[StageFact] = []
        inherited, season = 0, self.season
        oid, buyer, category = self.order_id, self.buyer_id, self.category
        for s in self.stages:
            done = s.completed_on
            if done is None:
                continue
            end, start = s.planned_end, s.planned_start
            late = (done - end).days if end is not None and done > end else 0
            days = (done - s.started_on).days if s.started_on is not None else 0
            over = days - (end - start).days if end is not None and start is not None else 0
            created = late - inherited if late > inherited else 0
            facts.append(new_fact(StageFact, (oid, s.number, s.name, s.done_by, buyer, category,
                                              season, done, days, over, late, created)))  # fmt: skip
            inherited = late
        return facts

    # ---- storage form ---------------------------------------------------------------

    def to_state(self) -> list[Any]:
        """The storage form: a JSON array in field order (stages as arrays too), about half
        the bytes of an object and read back positionally (``from_state``)."""
        return [
            self.order_id, self.order_number, self.buyer_id, self.supplier_id, self.category,
            self.quantity, self.target_date, self.placed_on, self.assigned_at,
            self.first_report_at, self.workflow_status, self.production_status,
            self.projected_completion, self.completed_on, self.shipped_on, self.ended,
            self.question_at,
            [[s.number, s.name, s.planned_start, s.planned_end, s.qc, s.started_on,
              s.completed_on, s.done_by] for s in self.stages],
        ]  # fmt: skip

    @classmethod
    def from_state(cls, raw: list[Any] | dict[str, Any]) -> OrderRecord:
        """Read back ``to_state`` (dates as ISO text), or the object form rows written before
        it (the dataclass's fields by name)."""
        if isinstance(raw, dict):
            stages = [[s[k] for k in STAGE_FIELDS] for s in raw["stages"]]
            raw = [raw[k] for k in ORDER_FIELDS] + [stages]
        day, instant = date.fromisoformat, datetime.fromisoformat
        return cls(
            raw[0], raw[1], raw[2], raw[3], raw[4], raw[5],
            day(raw[6]) if raw[6] else None, day(raw[7]) if raw[7] else None,
            instant(raw[8]) if raw[8] else None, instant(raw[9]) if raw[9] else None,
            raw[10], raw[11], day(raw[12]) if raw[12] else None,
            day(raw[13]) if raw[13] else None, day(raw[14]) if raw[14] else None, raw[15],
            instant(raw[16]) if raw[16] else None,
            [StageRecord(n, name, day(ps) if ps else None, day(pe) if pe else None, qc,
                         day(so) if so else None, day(co) if co else None, by)
             for n, name, ps, pe, qc, so, co, by in raw[17]],
        )  # fmt: skip


STAGE_FIELDS = [f.name for f in fields(StageRecord)]
ORDER_FIELDS = [f.name for f in fields(OrderRecord) if f.name != "stages"]

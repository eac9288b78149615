"""Switching rules (ISO 2859-1 clause 9): a supplier's inspection severity over its lots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from looptrace_quality.aql import Severity, parse_severity
from looptrace_quality.domain import whole_number


class TransitionKind(StrEnum):
    SWITCHED = "switched"
    DISCONTINUED = "discontinued"
    RESUMED = "resumed"


class InspectionDiscontinued(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "acceptance inspection of this supplier is discontinued (ISO 2859-1 clause 9.4); "
            "record the supplier's corrective action and resume before inspecting more lots"
        )


@dataclass(frozen=True)
class SeverityTransition:
    kind: TransitionKind
    from_severity: Severity
    to_severity: Severity
    reason: str


@dataclass
class SupplierSeverity:
    """A supplier's inspection severity and the counters the switching rules need.

    * normal -> tightened: 2 lots not accepted within 5 or fewer consecutive lots (9.3.2);
    * tightened -> normal: 5 consecutive lots accepted (9.3.3);
    * normal -> reduced: ``reduced_after`` consecutive lots accepted on normal and production
      steady at the time of the switch (9.3.4, counted in lots as ANSI Z1.4 does);
    * reduced -> normal: a lot not accepted, accepted with Ac < d < Re, or production not
      steady (9.3.5);
    * discontinuation (9.4): the cumulative number of lots not accepted while on tightened
      inspection reaches 5 (counted since tightened started; accepted lots in between do not
      reset it). ``resume()`` after corrective action restarts on tightened inspection.
    """

    severity: Severity = Severity.NORMAL
    recent_normal: list[bool] = field(default_factory=list)
    consecutive_accepted: int = 0
    tightened_rejections: int = 0
    discontinued: bool = False
    reduced_after: int = 10

    def record(
        self, lot_accepted: bool, production_steady: bool = True, *, reinstate_normal: bool = False
    ) -> list[SeverityTransition]:
        """Record one lot's outcome on original inspection; return the switches it caused."""
        if self.discontinued:
            raise InspectionDiscontinued()
        self.consecutive_accepted = self.consecutive_accepted + 1 if lot_accepted else 0
        if self.severity is Severity.TIGHTENED:
            return self._after_tightened_lot(lot_accepted)
        if self.severity is Severity.REDUCED:
            return self._after_reduced_lot(lot_accepted, production_steady, reinstate_normal)
        return self._after_normal_lot(lot_accepted, production_steady)

    def resume(self) -> list[SeverityTransition]:
        """Corrective action taken: inspection resumes on tightened (clause 9.4)."""
        if not self.discontinued:
            return []
        self.discontinued = False
        self._reset(Severity.TIGHTENED)
        return [self._transition(TransitionKind.RESUMED, Severity.TIGHTENED, "corrective action")]

    def _after_normal_lot(self, accepted: bool, steady: bool) -> list[SeverityTransition]:
        self.recent_normal = [*self.recent_normal, accepted][-5:]
        if self.recent_normal.count(False) >= 2:
            return [self._switch(Severity.TIGHTENED, "2 of 5 or fewer consecutive lots rejected")]
        if steady and self.consecutive_accepted >= self.reduced_after:
            reason = f"{self.consecutive_accepted} consecutive lots accepted, production steady"
            return [self._switch(Severity.REDUCED, reason)]
        return []

    def _after_tightened_lot(self, accepted: bool) -> list[SeverityTransition]:
        if accepted and self.consecutive_accepted >= 5:
            return [self._switch(Severity.NORMAL, "5 consecutive lots accepted on tightened")]
        if accepted:
            return []
        self.tightened_rejections += 1
        if self.tightened_rejections < 5:
            return []
        self.discontinued = True
        reason = "5 lots rejected while on tightened inspection"
        return [self._transition(TransitionKind.DISCONTINUED, Severity.TIGHTENED, reason)]

    def _after_reduced_lot(
        self, accepted: bool, steady: bool, reinstate_normal: bool
    ) -> list[SeverityTransition]:
        reasons = [
            (not accepted, "lot rejected on reduced inspection"),
            (reinstate_normal, "defects between Ac and Re on reduced inspection"),
            (not steady, "production not steady"),
        ]
        reason = next((text for applies, text in reasons if applies), None)
        return [self._switch(Severity.NORMAL, reason)] if reason else []

    def _switch(self, to: Severity, reason: str) -> SeverityTransition:
        transition = self._transition(TransitionKind.SWITCHED, to, reason)
        self._reset(to)
        return transition

    def _transition(self, kind: TransitionKind, to: Severity, reason: str) -> SeverityTransition:
        return SeverityTransition(kind, self.severity, to, reason)

    def _reset(self, to: Severity) -> None:
        self.severity, self.recent_normal = to, []
        self.consecutive_accepted = self.tightened_rejections = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SupplierSeverity:
        return cls(
            severity=parse_severity(data.get("severity", Severity.NORMAL)),
            recent_normal=[bool(x) for x in data.get("recent_normal", [])][-5:],
            consecutive_accepted=whole_number(
                "consecutive_accepted", data.get("consecutive_accepted", 0)
            ),
            tightened_rejections=whole_number(
                "tightened_rejections", data.get("tightened_rejections", 0)
            ),
            discontinued=bool(data.get("discontinued", False)),
            reduced_after=whole_number("reduced_after", data.get("reduced_after", 10)),
        )

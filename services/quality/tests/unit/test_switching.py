import json

import pytest

from looptrace_quality.aql import Severity
from looptrace_quality.switching import InspectionDiscontinued, SupplierSeverity, TransitionKind


def _run(state: SupplierSeverity, outcomes: str) -> list[str]:
    """Feed lots (A = accepted, R = rejected); return the severity after each lot."""
    severities = []
    for lot in outcomes:
        state.record(lot == "A")
        severities.append(state.severity.value)
    return severities


def test_two_rejections_within_five_lots_tighten() -> None:
    state = SupplierSeverity()
    assert _run(state, "ARAR")[-2:] == ["normal", "tightened"]
    spread = SupplierSeverity()
    assert _run(spread, "RAAAAR") == ["normal"] * 6  # 6 lots apart: not within 5


def test_switch_returns_the_transition() -> None:
    state = SupplierSeverity()
    state.record(False)
    (transition,) = state.record(False)
    assert (transition.kind, transition.from_severity, transition.to_severity) == (
        TransitionKind.SWITCHED, Severity.NORMAL, Severity.TIGHTENED,
    )  # fmt: skip
    assert "2 of 5" in transition.reason


def test_five_accepted_on_tightened_return_to_normal() -> None:
    state = SupplierSeverity(severity=Severity.TIGHTENED)
    assert _run(state, "AAAARAAAA")[-1] == "tightened"  # the rejection restarts the count
    assert _run(state, "A") == ["normal"]


def test_ten_accepted_with_steady_production_reduce() -> None:
    state = SupplierSeverity()
    assert _run(state, "A" * 9) == ["normal"] * 9
    assert state.record(True, production_steady=False) == []
    (transition,) = state.record(True)
    assert transition.to_severity is Severity.REDUCED
    assert state.severity is Severity.REDUCED


def test_reduce_threshold_is_configurable() -> None:
    assert _run(SupplierSeverity(reduced_after=3), "AAA")[-1] == "reduced"


@pytest.mark.parametrize(
    ("accepted", "steady", "between"),
    [(False, True, False), (True, False, False), (True, True, True)],
)
def test_reduced_returns_to_normal(accepted: bool, steady: bool, between: bool) -> None:
    state = SupplierSeverity(severity=Severity.REDUCED)
    (transition,) = state.record(accepted, steady, reinstate_normal=between)
    assert (transition.from_severity, state.severity) == (Severity.REDUCED, Severity.NORMAL)
    assert state.record(True) == []


def test_five_rejections_on_tightened_discontinue_inspection() -> None:
    state = SupplierSeverity()
    _run(state, "RR")  # tightened now
    transitions = [state.record(lot == "A") for lot in "RARARARAAR"]
    assert transitions[-1][0].kind is TransitionKind.DISCONTINUED
    assert state.discontinued and all(t == [] for t in transitions[:-1])
    with pytest.raises(InspectionDiscontinued, match="clause 9.4"):
        state.record(True)
    (resumed,) = state.resume()
    assert resumed.kind is TransitionKind.RESUMED
    assert (state.severity, state.tightened_rejections, state.discontinued) == (
        Severity.TIGHTENED, 0, False,
    )  # fmt: skip


def test_state_round_trips_through_a_plain_dict() -> None:
    state = SupplierSeverity(reduced_after=12)
    _run(state, "ARAA")
    stored = json.loads(json.dumps(state.to_dict()))
    assert stored == {
        "severity": "normal", "recent_normal": [True, False, True, True],
        "consecutive_accepted": 2, "tightened_rejections": 0, "discontinued": False,
        "reduced_after": 12,
    }  # fmt: skip
    restored = SupplierSeverity.from_dict(stored)
    assert restored == state
    assert _run(restored, "R") == ["tightened"]

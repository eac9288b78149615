import json
from decimal import Decimal

import pytest

from looptrace_quality.aql import Severity, UnknownAQL
from looptrace_quality.catalogue import (
    DefectClass,
    InvalidCatalogue,
    UnknownDefectClass,
    UnknownDefectType,
    catalogue_from_data,
    default_catalogue,
)
from looptrace_quality.domain import (
    ConcessionNeedsAdmin,
    ConcessionNeedsReason,
    ConcessionNotNeeded,
    DefectFinding,
    Disposition,
    InspectionPlan,
    InspectionResult,
    InvalidQuantity,
    NoUnitsInspected,
    ReinspectionNotNeeded,
    SampleTooSmall,
    decide,
    defects_per_hundred_units,
    dispose,
    grant_concession,
    order_reinspection,
    plan_inspection,
    record_finding,
)

CRITICAL, MAJOR, MINOR = DefectClass.CRITICAL, DefectClass.MAJOR, DefectClass.MINOR


def _found(sample: int, critical: int = 0, major: int = 0, minor: int = 0) -> InspectionResult:
    counts = {CRITICAL: critical, MAJOR: major, MINOR: minor}
    findings = tuple(DefectFinding(c, n) for c, n in counts.items() if n)
    return InspectionResult(sample, findings)


# --- plan_inspection -----------------------------------------------------------------


def test_default_plan_is_level_ii_normal_with_aql_0_25_40() -> None:
    plan = plan_inspection(1000)
    assert (plan.standard, plan.level, plan.severity, plan.sample_size) == (
        "ISO 2859-1", "II", Severity.NORMAL, 80,
    )  # fmt: skip
    rows = {c.defect_class: (c.aql, c.code_letter, c.sample_size, c.accept, c.reject)
            for c in plan.classes}  # fmt: skip
    assert rows == {
        CRITICAL: ("0", "J", 80, 0, 1),
        MAJOR: ("2.5", "J", 80, 5, 6),
        MINOR: ("4.0", "J", 80, 7, 8),
    }


def test_snapshot_is_json_serialisable_and_names_each_class() -> None:
    snapshot = json.loads(json.dumps(plan_inspection(500).to_dict()))
    assert snapshot["standard"] == "ISO 2859-1" and snapshot["sample_size"] == 50
    major = next(c for c in snapshot["classes"] if c["defect_class"] == "major")
    assert major == {
        "defect_class": "major", "aql": "2.5", "original_code_letter": "H", "code_letter": "H",
        "sample_size": 50, "accept": 3, "reject": 4, "full_inspection": False,
    }  # fmt: skip


def test_aqls_can_be_overridden_per_class() -> None:
    plan = plan_inspection(500, {"major": "1.0", "Minor": 2.5}, severity="tightened")
    assert (plan.for_class(MAJOR).accept, plan.for_class(MAJOR).reject) == (1, 2)
    assert plan.for_class(MINOR).aql == "2.5"
    assert plan.severity is Severity.TIGHTENED


def test_inspection_sample_is_the_largest_class_sample() -> None:
    plan = plan_inspection(1000, {"major": "0.40", "minor": "0.25"})
    assert plan.for_class(MAJOR).sample_size == 125  # arrow down to K
    assert plan.for_class(MINOR).sample_size == 50  # arrow up to H
    assert plan.sample_size == 125


def test_zero_tolerance_uses_the_general_sample_and_accepts_nothing() -> None:
    critical = plan_inspection(3000, {"critical": 0}).for_class(CRITICAL)
    assert (critical.code_letter, critical.sample_size, critical.accept, critical.reject) == (
        "K", 125, 0, 1,
    )  # fmt: skip
    reduced = plan_inspection(3000, severity="reduced").for_class(CRITICAL)
    assert reduced.sample_size == 50
    tiny = plan_inspection(5).for_class(CRITICAL)
    assert (tiny.sample_size, tiny.full_inspection) == (2, False)


def test_critical_class_may_also_take_a_table_aql() -> None:
    assert plan_inspection(1000, {"critical": "0.065"}).for_class(CRITICAL).code_letter == "L"


def test_unknown_defect_class_lists_the_classes() -> None:
    with pytest.raises(UnknownDefectClass, match="'cosmetic'.*critical, major, minor"):
        plan_inspection(1000, {"cosmetic": "4.0"})


def test_unknown_aql_override_is_refused() -> None:
    with pytest.raises(UnknownAQL, match="'3'"):
        plan_inspection(1000, {"major": "3"})


# --- decide ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("critical", "major", "minor", "accepted"),
    [
        (0, 0, 0, True),
        (0, 5, 7, True),  # at Ac in both classes
        (0, 6, 0, False),  # major at Re
        (0, 0, 8, False),  # minor at Re
        (1, 0, 0, False),  # any critical rejects
    ],
)
def test_decide_per_class_and_overall(
    critical: int, major: int, minor: int, accepted: bool
) -> None:
    decision = decide(plan_inspection(1000), _found(80, critical, major, minor))
    assert decision.accepted is accepted
    assert decision.outcome == ("accepted" if accepted else "rejected")
    verdicts = {v.defect_class: v.accepted for v in decision.verdicts}
    assert verdicts == {CRITICAL: critical < 1, MAJOR: major < 6, MINOR: minor < 8}


def test_decision_counts_findings_by_class_and_reports_dhu() -> None:
    result = InspectionResult(80, (record_finding("STAIN", 2), record_finding("OPEN_SEAM"),
                                   record_finding("LOOSE_THREAD", 3)))  # fmt: skip
    decision = decide(plan_inspection(1000), result)
    found = {v.defect_class: v.found for v in decision.verdicts}
    assert found == {CRITICAL: 0, MAJOR: 3, MINOR: 3}
    assert decision.defects_found == 6 and decision.dhu == Decimal("7.50")


def test_sample_too_small_names_both_numbers() -> None:
    with pytest.raises(SampleTooSmall, match="79 units were inspected.*sample of 80"):
        decide(plan_inspection(1000), _found(79))


def test_more_than_the_sample_may_be_inspected() -> None:
    assert decide(plan_inspection(1000), _found(100, major=5)).accepted


def test_reduced_plan_between_ac_and_re_accepts_but_reinstates_normal() -> None:
    plan = plan_inspection(1000, severity="reduced")  # major 2/5 on 32 units
    between = decide(plan, _found(32, major=3))
    assert between.accepted and between.reinstate_normal
    assert not decide(plan, _found(32, major=2)).reinstate_normal
    assert not decide(plan, _found(32, major=5)).accepted


def test_negative_counts_are_refused() -> None:
    with pytest.raises(InvalidQuantity, match="quantity.*-1"):
        decide(plan_inspection(1000), InspectionResult(80, (DefectFinding(MAJOR, -1),)))


# --- catalogue ------------------------------------------------------------------------


def test_catalogue_has_the_common_garment_defects() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.types) >= 15
    for code in ["BROKEN_STITCH", "OPEN_SEAM", "SKIPPED_STITCH", "STAIN", "SHADE_VARIATION",
                 "MEASUREMENT_OUT_OF_TOLERANCE", "MISSING_LABEL", "WRONG_LABEL", "HOLE",
                 "PUCKERING", "LOOSE_THREAD", "MISALIGNED_PRINT", "BROKEN_ZIPPER",
                 "MISSING_BUTTON", "NEEDLE_DAMAGE"]:  # fmt: skip
        assert catalogue.get(code).name
    assert catalogue.get("needle_left").default_class is CRITICAL


def test_finding_takes_the_catalogue_class_unless_overridden() -> None:
    assert record_finding("STAIN") == DefectFinding(MAJOR, 1, "STAIN")
    assert record_finding("stain", 2, defect_class="minor") == DefectFinding(MINOR, 2, "STAIN")


def test_unknown_defect_type_lists_the_catalogue() -> None:
    with pytest.raises(UnknownDefectType, match="'GHOST'.*BROKEN_STITCH.*STAIN"):
        record_finding("GHOST")


def test_malformed_catalogue_is_refused() -> None:
    entry = {"code": "X", "name": "x", "default_class": "major"}
    with pytest.raises(InvalidCatalogue, match="'X' appears twice"):
        catalogue_from_data({"defects": [entry, entry]})
    with pytest.raises(UnknownDefectClass, match="'severe'"):
        catalogue_from_data({"defects": [{**entry, "default_class": "severe"}]})
    with pytest.raises(InvalidCatalogue, match="non-empty 'defects'"):
        catalogue_from_data({"defects": []})


# --- disposition ----------------------------------------------------------------------


def test_accepted_and_rejected_dispositions() -> None:
    plan = plan_inspection(1000)
    assert dispose(decide(plan, _found(80))).disposition is Disposition.ACCEPTED
    rejected = dispose(decide(plan, _found(80, major=6)))
    assert (rejected.disposition, rejected.rework_required) == (Disposition.REJECTED, True)


def test_concession_needs_an_admin_and_a_reason() -> None:
    rejected = decide(plan_inspection(1000), _found(80, minor=9))
    record = grant_concession(rejected, reason=" buyer accepts ", approved_by="ana",
                              approver_role="admin")  # fmt: skip
    assert record.disposition is Disposition.ACCEPTED_WITH_CONCESSION
    assert (record.reason, record.approved_by) == ("buyer accepts", "ana")
    with pytest.raises(ConcessionNeedsAdmin, match="'inspector'"):
        grant_concession(rejected, reason="ok", approved_by="bo", approver_role="inspector")
    with pytest.raises(ConcessionNeedsReason):
        grant_concession(rejected, reason="  ", approved_by="ana", approver_role="admin")
    accepted = decide(plan_inspection(1000), _found(80))
    with pytest.raises(ConcessionNotNeeded):
        grant_concession(accepted, reason="x", approved_by="ana", approver_role="admin")


def test_reinspection_is_linked_to_the_rejected_inspection() -> None:
    plan = plan_inspection(1000)
    order = order_reinspection("insp-1", decide(plan, _found(80, critical=1)), plan)
    assert (order.reinspection_of, order.plan) == ("insp-1", plan)
    with pytest.raises(ReinspectionNotNeeded):
        order_reinspection("insp-2", decide(plan, _found(80)), plan)


# --- DHU ------------------------------------------------------------------------------


def test_defects_per_hundred_units() -> None:
    assert defects_per_hundred_units(5, 80) == Decimal("6.25")
    assert defects_per_hundred_units(1, 3) == Decimal("33.33")
    assert defects_per_hundred_units(0, 50) == Decimal("0.00")
    with pytest.raises(NoUnitsInspected, match="at least 1 inspected unit"):
        defects_per_hundred_units(3, 0)


def test_plan_snapshot_round_trips_through_json() -> None:
    plan = plan_inspection(500, {"major": "1.5"}, severity="tightened")
    restored = InspectionPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert restored == plan
    assert restored.for_class(MAJOR).aql == "1.5"

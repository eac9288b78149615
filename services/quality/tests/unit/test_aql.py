from decimal import Decimal

import pytest

from looptrace_quality.aql import (
    LotTooSmall,
    SamplingPlan,
    Severity,
    UnknownAQL,
    UnknownInspectionLevel,
    UnknownSeverity,
    code_letter,
    parse_aql,
    resolve_arrows,
    sample_size_for,
    sampling_plan,
)
from looptrace_quality.aql_tables import (
    AQL_SERIES,
    CODE_LETTERS,
    TABLE_II_A,
    TABLE_II_B,
    TABLE_II_C,
)

# Table I read column by column: the letter for each of the 15 lot size ranges.
TABLE_I_BY_LEVEL = {
    "S-1": "AAAABBBBCCCCDDD",
    "S-2": "AAABBBCCCDDDEEE",
    "S-3": "AABBCCDDEEFFGGH",
    "S-4": "AABCCDEEFGGHJJK",
    "I": "AABCCDEFGHJKLMN",
    "II": "ABCDEFGHJKLMNPQ",
    "III": "BCDEFGHJKLMNPQR",
}
LOT_RANGES = [
    (2, 8), (9, 15), (16, 25), (26, 50), (51, 90), (91, 150), (151, 280), (281, 500),
    (501, 1200), (1201, 3200), (3201, 10000), (10001, 35000), (35001, 150000),
    (150001, 500000), (500001, 10_000_000),
]  # fmt: skip


@pytest.mark.parametrize("level", TABLE_I_BY_LEVEL)
@pytest.mark.parametrize("row", range(15))
def test_table_i_code_letter_at_both_ends_of_each_lot_range(level: str, row: int) -> None:
    lowest, highest = LOT_RANGES[row]
    expected = TABLE_I_BY_LEVEL[level][row]
    assert code_letter(lowest, level) == expected
    assert code_letter(highest, level) == expected


def test_sample_sizes_per_code_letter() -> None:
    normal = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]
    reduced = [2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800]
    for letter, n, n_reduced in zip(CODE_LETTERS, normal, reduced, strict=True):
        assert sample_size_for(Severity.NORMAL, letter) == n
        assert sample_size_for(Severity.TIGHTENED, letter) == n
        assert sample_size_for(Severity.REDUCED, letter) == n_reduced
    assert sample_size_for(Severity.TIGHTENED, "S") == 3150


# --- the master tables as transcribed ------------------------------------------------


def _cells(table: dict[str, str]) -> dict[str, list[str]]:
    return {letter: row.split() for letter, row in table.items()}


@pytest.mark.parametrize("table", [TABLE_II_A, TABLE_II_B, TABLE_II_C])
def test_every_row_has_one_cell_per_aql(table: dict[str, str]) -> None:
    assert all(len(cells) == len(AQL_SERIES) for cells in _cells(table).values())


@pytest.mark.parametrize("table", [TABLE_II_A, TABLE_II_B])
def test_normal_and_tightened_plans_reject_at_one_above_accept(table: dict[str, str]) -> None:
    plans = [c for row in _cells(table).values() for c in row if "/" in c]
    assert plans and all(int(c.split("/")[1]) == int(c.split("/")[0]) + 1 for c in plans)


def test_reduced_table_has_gaps_between_accept_and_reject_as_published() -> None:
    cells = _cells(TABLE_II_C)
    assert cells["K"][AQL_SERIES.index("1.0")] == "1/4"
    assert cells["K"][AQL_SERIES.index("2.5")] == "3/6"
    assert cells["C"][AQL_SERIES.index("650")] == "21/24"
    assert cells["B"][AQL_SERIES.index("40")] == "2/4"


@pytest.mark.parametrize("table", [TABLE_II_A, TABLE_II_B, TABLE_II_C])
def test_cells_are_constant_along_each_diagonal_up_to_aql_10(table: dict[str, str]) -> None:
    """One letter down and one AQL step left holds the same plan or arrow."""
    cells = _cells(table)
    for row in range(2, 14):  # C..P: rows A, B, Q and R hold the edge cases tested below
        letter, below = CODE_LETTERS[row], CODE_LETTERS[row + 1]
        for column in range(1, AQL_SERIES.index("10") + 1):
            assert cells[below][column - 1] == cells[letter][column], (letter, AQL_SERIES[column])


@pytest.mark.parametrize(
    ("severity", "letter", "aql", "expected"),
    [
        ("tightened", "A", "10", ("D", 8, 1, 2)),  # no 0/1 plan on row A of II-B
        ("tightened", "B", "6.5", ("B", 3, 0, 1)),
        ("tightened", "R", "0.015", ("Q", 1250, 0, 1)),  # bottom row can only point up
        ("tightened", "B", "1000", ("B", 3, 41, 42)),
        ("tightened", "F", "100", ("E", 13, 18, 19)),
        ("reduced", "A", "10", ("C", 2, 0, 2)),
        ("reduced", "B", "65", ("B", 2, 3, 5)),
        ("reduced", "C", "1000", ("B", 2, 30, 31)),
        ("reduced", "R", "0.015", ("P", 315, 0, 1)),
        ("reduced", "E", "250", ("E", 5, 21, 24)),
        ("normal", "F", "100", ("E", 13, 21, 22)),
        ("normal", "E", "1.5", ("D", 8, 0, 1)),
    ],
)
def test_edge_cells_of_the_master_tables(
    severity: str, letter: str, aql: str, expected: tuple[str, int, int, int]
) -> None:
    used, accept, reject = resolve_arrows(Severity(severity), letter, aql)
    assert (used, sample_size_for(Severity(severity), used), accept, reject) == expected


@pytest.mark.parametrize("severity", list(Severity))
def test_every_cell_of_every_table_leads_to_a_plan(severity: Severity) -> None:
    for letter in CODE_LETTERS:
        for aql in AQL_SERIES:
            used, accept, reject = resolve_arrows(severity, letter, aql)
            assert 0 <= accept < reject


# --- full rows of Table II-A, arrows followed (letter used, n, Ac, Re) -----------------

ROW_J = (
    "Q 1250 0 1|P 800 0 1|N 500 0 1|M 315 0 1|L 200 0 1|K 125 0 1|J 80 0 1|H 50 0 1|"
    "K 125 1 2|J 80 1 2|J 80 2 3|J 80 3 4|J 80 5 6|J 80 7 8|J 80 10 11|J 80 14 15|"
    "J 80 21 22|H 50 21 22|G 32 21 22|F 20 21 22|E 13 21 22|E 13 30 31|E 13 44 45|"
    "D 8 44 45|C 5 44 45|B 3 44 45"
)
ROW_A = (
    "Q 1250 0 1|P 800 0 1|N 500 0 1|M 315 0 1|L 200 0 1|K 125 0 1|J 80 0 1|H 50 0 1|"
    "G 32 0 1|F 20 0 1|E 13 0 1|D 8 0 1|C 5 0 1|B 3 0 1|A 2 0 1|C 5 1 2|B 3 1 2|"
    "A 2 1 2|A 2 2 3|A 2 3 4|A 2 5 6|A 2 7 8|A 2 10 11|A 2 14 15|A 2 21 22|A 2 30 31"
)
ROW_R = (
    "Q 1250 0 1|P 800 0 1|R 2000 1 2|R 2000 2 3|R 2000 3 4|R 2000 5 6|R 2000 7 8|"
    "R 2000 10 11|R 2000 14 15|R 2000 21 22|Q 1250 21 22|P 800 21 22|N 500 21 22|"
    "M 315 21 22|L 200 21 22|K 125 21 22|J 80 21 22|H 50 21 22|G 32 21 22|F 20 21 22|"
    "E 13 21 22|E 13 30 31|E 13 44 45|D 8 44 45|C 5 44 45|B 3 44 45"
)


@pytest.mark.parametrize(("letter", "row"), [("A", ROW_A), ("J", ROW_J), ("R", ROW_R)])
def test_full_row_of_table_ii_a(letter: str, row: str) -> None:
    for aql, expected in zip(AQL_SERIES, row.split("|"), strict=True):
        used, n, accept, reject = expected.split()
        got = resolve_arrows(Severity.NORMAL, letter, aql)
        assert got == (used, int(accept), int(reject)), aql
        assert sample_size_for(Severity.NORMAL, used) == int(n)


# --- sampling_plan: published checks, arrows, 100 %, severities -------------------------


def _plan(lot: int, aql: str, level: str = "II", severity: str = "normal") -> tuple[object, ...]:
    p = sampling_plan(lot, aql, level, severity)
    return (p.original_code_letter, p.code_letter, p.sample_size, p.accept, p.reject,
            p.full_inspection)  # fmt: skip


@pytest.mark.parametrize(
    ("lot", "aql", "expected"),
    [
        (1000, "2.5", ("J", "J", 80, 5, 6, False)),
        (1000, "4.0", ("J", "J", 80, 7, 8, False)),
        (500, "1.0", ("H", "H", 50, 1, 2, False)),
        (3000, "2.5", ("K", "K", 125, 7, 8, False)),
        (3000, "4.0", ("K", "K", 125, 10, 11, False)),
        # arrow up: J at 0.25 uses H's plan and H's sample size
        (1000, "0.25", ("J", "H", 50, 0, 1, False)),
        # arrow down past the up-arrow gap: J at 0.40 uses K (n 125)
        (1000, "0.40", ("J", "K", 125, 1, 2, False)),
        # arrow up from the 21/22 edge: N at 4.0 uses M (n 315)
        (100_000, "4.0", ("N", "M", 315, 21, 22, False)),
        # arrow up from the 21/22 edge: P at 2.5 uses N (n 500)
        (200_000, "2.5", ("P", "N", 500, 21, 22, False)),
    ],
)
def test_normal_plans(lot: int, aql: str, expected: tuple[object, ...]) -> None:
    assert _plan(lot, aql) == expected


def test_letter_a_arrows_down_to_the_first_plan_in_the_column() -> None:
    assert _plan(8, "2.5", "S-1") == ("A", "C", 5, 0, 1, False)
    assert _plan(100, "1.5", "S-1") == ("B", "D", 8, 0, 1, False)
    assert _plan(100, "6.5", "S-1") == ("B", "A", 2, 0, 1, False)  # B at 6.5 is an up arrow


def test_sample_size_reaching_the_lot_size_means_100_percent_inspection() -> None:
    # B at 0.65 points down to F (n 20) but the lot holds only 10 units
    assert _plan(10, "0.65") == ("B", "F", 10, 0, 1, True)
    assert _plan(5, "2.5") == ("A", "C", 5, 0, 1, True)  # n == lot size counts too
    assert _plan(6, "2.5")[-1] is False


def test_tightened_plans() -> None:
    assert _plan(1000, "2.5", severity="tightened") == ("J", "J", 80, 3, 4, False)
    assert _plan(1000, "4.0", severity="tightened") == ("J", "J", 80, 5, 6, False)
    assert _plan(1000, "6.5", severity="tightened") == ("J", "J", 80, 8, 9, False)
    assert _plan(1000, "0.40", severity="tightened") == ("J", "L", 200, 1, 2, False)
    assert _plan(600_000, "0.025", "III", "tightened") == ("R", "S", 3150, 1, 2, False)


def test_reduced_plans_use_the_reduced_sample_sizes() -> None:
    assert _plan(1000, "2.5", severity="reduced") == ("J", "J", 32, 2, 5, False)
    assert _plan(1000, "4.0", severity="reduced") == ("J", "J", 32, 3, 6, False)
    assert _plan(1000, "0.15", severity="reduced") == ("J", "J", 32, 0, 1, False)
    assert _plan(1000, "0.25", severity="reduced") == ("J", "H", 20, 0, 1, False)
    assert _plan(8, "25", severity="reduced") == ("A", "A", 2, 1, 2, False)


def test_plan_snapshot_and_to_dict() -> None:
    plan = sampling_plan(1000, 2.5)
    assert isinstance(plan, SamplingPlan)
    assert (plan.lot_size, plan.aql, plan.level, plan.severity) == (1000, "2.5", "II", "normal")
    assert plan.to_dict() == {
        "original_code_letter": "J",
        "code_letter": "J",
        "sample_size": 80,
        "accept": 5,
        "reject": 6,
        "full_inspection": False,
    }


@pytest.mark.parametrize(
    ("given", "label"),
    [(2.5, "2.5"), ("2.5", "2.5"), ("2.50", "2.5"), (Decimal("2.5"), "2.5"), ("0.65", "0.65"),
     (0.1, "0.10"), (0.01, "0.010"), (10, "10"), ("10.0", "10"), (" 4 ", "4.0")],
)  # fmt: skip
def test_aql_may_be_given_in_any_numeric_spelling(given: object, label: str) -> None:
    assert parse_aql(given) == label  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["3", 3.0, "abc", "", "nan", True, None, "0"])
def test_unknown_aql_lists_the_series(bad: object) -> None:
    with pytest.raises(UnknownAQL) as raised:
        sampling_plan(1000, bad)  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)
    assert repr(bad) in str(raised.value)
    assert "0.010" in str(raised.value) and "2.5" in str(raised.value)


@pytest.mark.parametrize("bad", [1, 0, -5, "10", 10.0, True])
def test_lot_too_small_or_not_a_whole_number(bad: object) -> None:
    with pytest.raises(LotTooSmall, match="at least 2") as raised:
        sampling_plan(bad, "2.5")  # type: ignore[arg-type]
    assert repr(bad) in str(raised.value)


def test_unknown_level_lists_the_levels() -> None:
    with pytest.raises(UnknownInspectionLevel, match="'IV'.*S-1, S-2, S-3, S-4, I, II, III"):
        sampling_plan(1000, "2.5", level="IV")


def test_level_and_severity_are_case_insensitive() -> None:
    plan = sampling_plan(1000, "2.5", level="s-3", severity="Tightened")
    assert (plan.level, plan.severity, plan.original_code_letter) == ("S-3", "tightened", "E")
    assert (plan.code_letter, plan.sample_size, plan.accept) == ("G", 32, 1)  # E, F are arrows


def test_unknown_severity_lists_the_severities() -> None:
    with pytest.raises(UnknownSeverity, match="'strict'.*normal, tightened, reduced"):
        sampling_plan(1000, "2.5", severity="strict")

"""Order history: one CSV row per stage of each past order.

``load_history`` keeps every valid row and reports each broken one as
``line N: <what is wrong and what is expected>``. ``summarise_orders`` turns the
rows into one row per order with the lateness label: an order is late when its
last stage's ``actual_end`` is after ``target_date``; ``delay_days`` is that gap
(0 when on time).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from looptrace_predictions.samples import HISTORY_SAMPLE_COLUMNS

HISTORY_COLUMNS = (
    "order_id",
    "supplier_id",
    "product_category",
    "quantity",
    "order_date",
    "target_date",
    "stage_number",
    "stage_name",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
)
REQUIRED_DATES = ("order_date", "target_date", "planned_start", "planned_end")
OPTIONAL_DATES = ("actual_start", "actual_end")
TEXT_COLUMNS = ("order_id", "supplier_id", "product_category", "stage_name")
ORDER_LEVEL = ("supplier_id", "product_category", "quantity", "order_date", "target_date")
# has_print: the order has print/embroidery; supplier_capacity_units: its supplier's units/week
# pp_*_date: the order's pre-production sample loop (``samples.py``), empty where it did not happen
OPTIONAL_COLUMNS = ("qc_failures", "has_print", "supplier_capacity_units", *HISTORY_SAMPLE_COLUMNS)
_TRUTH = {"true": 1.0, "1": 1.0, "yes": 1.0, "false": 0.0, "0": 0.0, "no": 0.0}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_history(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Read a history CSV; return (valid rows, one message per broken row)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [c for c in HISTORY_COLUMNS if c not in header]
        if missing:
            return _empty_history(), [f"line 1: missing column(s) {', '.join(missing)}"]
        errors: list[str] = []
        rows, lines = [], []
        for record in reader:
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(header):
                errors.append(
                    f"line {reader.line_num}: expected {len(header)} fields, found {len(record)}"
                )
                continue
            rows.append(record)
            lines.append(reader.line_num)
    raw = pd.DataFrame(rows, columns=header, dtype=object)
    keep = [c for c in (*HISTORY_COLUMNS, *OPTIONAL_COLUMNS) if c in header]
    raw = raw[keep].apply(lambda column: column.str.strip())
    raw["line"] = lines
    frame, row_errors = _validate(raw)
    return frame, _by_line(errors + row_errors)


def write_history(frame: pd.DataFrame, path: str | Path) -> None:
    out = frame.copy()
    for column in (*REQUIRED_DATES, *OPTIONAL_DATES, *HISTORY_SAMPLE_COLUMNS):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d").fillna("")
    out = out.drop(columns=["line"], errors="ignore")
    out.to_csv(path, index=False)


def summarise_orders(history: pd.DataFrame) -> pd.DataFrame:
    """One row per order: plan, last stage's actual end, late / delay_days labels."""
    ordered = history.sort_values(["order_id", "stage_number"], kind="stable")
    grouped = ordered.groupby("order_id", sort=False)
    orders = grouped[list(ORDER_LEVEL)].first()
    orders["plan_end"] = grouped["planned_end"].max()
    last_stage = ordered.drop_duplicates("order_id", keep="last").set_index("order_id")
    orders["end"] = last_stage["actual_end"]
    slip = (ordered["actual_end"] - ordered["actual_start"]) - (
        ordered["planned_end"] - ordered["planned_start"]
    )
    orders["mean_stage_slip"] = (slip.dt.days).groupby(ordered["order_id"]).mean().fillna(0.0)
    orders["labelled"] = orders["end"].notna()
    gap = (orders["end"] - orders["target_date"]).dt.days
    orders["late"] = (gap > 0) & orders["labelled"]
    orders["delay_days"] = gap.clip(lower=0).fillna(0.0).astype(float)
    return orders


def _empty_history() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    return _typed(frame.assign(qc_failures=0, line=0))


def _validate(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    problems: list[tuple[pd.Series, pd.Series]] = []
    for column in TEXT_COLUMNS:
        problems.append((raw[column] == "", _const(raw, f"{column} is empty")))
    problems.append(_positive_int(raw, "quantity"))
    problems.append(_positive_int(raw, "stage_number"))
    if "qc_failures" in raw:
        raw["qc_failures"] = raw["qc_failures"].replace("", "0")
        problems.append(_positive_int(raw, "qc_failures", allow_zero=True))
    for column in (*REQUIRED_DATES, *OPTIONAL_DATES):
        problems.append(_bad_date(raw, column, required=column in REQUIRED_DATES))
    bad = pd.Series(False, index=raw.index)
    messages: list[str] = []
    for mask, text in problems:
        messages += _messages(raw, mask, text)
        bad |= mask
    frame = _typed(raw[~bad].copy())
    ordering, ordering_bad = _ordering_problems(frame)
    return frame[~ordering_bad], messages + ordering


def _const(raw: pd.DataFrame, text: str) -> pd.Series:
    return pd.Series(text, index=raw.index)


def _positive_int(raw: pd.DataFrame, column: str, allow_zero: bool = False) -> tuple:
    values = pd.to_numeric(raw[column].where(raw[column].str.fullmatch(r"\d+")), errors="coerce")
    bad = values.isna() | ((values < 1) if not allow_zero else False)
    kind = "a whole number ≥ 0" if allow_zero else "a whole number ≥ 1"
    return bad, "'" + raw[column] + f"' in {column} is not {kind}"


def _bad_date(raw: pd.DataFrame, column: str, required: bool) -> tuple:
    text = raw[column]
    parsed = pd.to_datetime(text.where(text.str.fullmatch(_ISO_DATE)), errors="coerce")
    empty = text == ""
    bad = parsed.isna() & (~empty | required)
    message = np.where(empty, f"{column} is empty (expected YYYY-MM-DD)", "") + np.where(
        empty, "", f"{column} '" + text + "' is not a date (YYYY-MM-DD)"
    )
    return bad, pd.Series(message, index=raw.index)


def _messages(raw: pd.DataFrame, mask: pd.Series, text: pd.Series) -> list[str]:
    lines = raw.loc[mask, "line"]
    return [f"line {line}: {msg}" for line, msg in zip(lines, text[mask], strict=True)]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column in (*REQUIRED_DATES, *OPTIONAL_DATES):
        frame[column] = pd.to_datetime(frame[column].replace("", None), format="%Y-%m-%d")
    for column in HISTORY_SAMPLE_COLUMNS:  # an unreadable one counts as unknown
        if column in frame:
            text = frame[column].replace("", None)
            frame[column] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    for column in ("quantity", "stage_number"):
        frame[column] = frame[column].astype("int64")
    if "qc_failures" not in frame:
        frame["qc_failures"] = 0
    frame["qc_failures"] = frame["qc_failures"].astype("int64")
    if "has_print" in frame:  # unknown (empty or unreadable) = NaN
        frame["has_print"] = frame["has_print"].astype(str).str.lower().map(_TRUTH)
    else:
        frame["has_print"] = np.nan
    if "supplier_capacity_units" in frame:  # unknown (empty or unreadable) = NaN
        frame["supplier_capacity_units"] = pd.to_numeric(
            frame["supplier_capacity_units"], errors="coerce"
        )
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)


def _ordering_problems(frame: pd.DataFrame) -> tuple[list[str], pd.Series]:
    checks = [
        (
            frame["planned_end"] < frame["planned_start"],
            "planned_end is before planned_start",
        ),
        (
            frame["actual_end"] < frame["actual_start"],
            "actual_end is before actual_start",
        ),
        (
            frame["actual_end"].notna() & frame["actual_start"].isna(),
            "actual_end is given but actual_start is empty",
        ),
        (
            frame.duplicated(["order_id", "stage_number"]),
            "stage_number repeats an earlier row of the same order",
        ),
    ]
    first = frame.groupby("order_id")[list(ORDER_LEVEL)].transform("first")
    for column in ORDER_LEVEL:
        checks.append(
            (frame[column] != first[column], f"{column} differs from the order's first row")
        )
    bad = pd.Series(False, index=frame.index)
    messages: list[str] = []
    for mask, text in checks:
        mask = mask & ~bad
        messages += [f"line {line}: {text}" for line in frame.loc[mask, "line"]]
        bad |= mask
    return messages, bad


def _by_line(messages: list[str]) -> list[str]:
    return sorted(messages, key=lambda m: int(m.split(":", 1)[0].removeprefix("line ")))

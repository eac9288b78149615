"""Inspection history: one CSV row per inspection of each past order.

Columns ``INSPECTION_COLUMNS``: ``inspection_stage`` is the stage inspected (its name in the
plan), ``inspected_on`` the day, ``sample_size`` the units inspected and ``critical`` /
``major`` / ``minor`` the defects found by class. ``result`` is ``accepted`` or ``rejected``
for a lot inspection (ISO 2859-1, the lot decision) and ``inline`` for an inline check (units
checked on the line, no lot decision; its DHU = 100 × defects / units).

``load_inspections`` keeps every valid row and reports each broken one as
``line N: <what is wrong>``, like ``history.load_history``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from looptrace_predictions.training.history import _bad_date, _by_line, _messages, _positive_int

INSPECTION_COLUMNS = (
    "order_id",
    "inspection_stage",
    "inspected_on",
    "sample_size",
    "critical",
    "major",
    "minor",
    "result",
)
ACCEPTED, REJECTED, INLINE = "accepted", "rejected", "inline"
RESULTS = (ACCEPTED, REJECTED, INLINE)
COUNT_COLUMNS = ("critical", "major", "minor")


def empty_inspections() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in INSPECTION_COLUMNS})
    return _typed(frame)


def load_inspections(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Read an inspections CSV; return (valid rows, one message per broken row)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [c for c in INSPECTION_COLUMNS if c not in header]
        if missing:
            return empty_inspections(), [f"line 1: missing column(s) {', '.join(missing)}"]
        rows, lines, errors = [], [], []
        for record in reader:
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(header):
                errors.append(f"line {reader.line_num}: expected {len(header)} fields")
                continue
            rows.append(record)
            lines.append(reader.line_num)
    raw = pd.DataFrame(rows, columns=header, dtype=object)[list(INSPECTION_COLUMNS)]
    raw = raw.apply(lambda column: column.str.strip()).assign(line=lines)
    problems = [
        (raw["order_id"] == "", pd.Series("order_id is empty", index=raw.index)),
        (raw["inspection_stage"] == "", pd.Series("inspection_stage is empty", index=raw.index)),
        _bad_date(raw, "inspected_on", required=True),
        _positive_int(raw, "sample_size"),
        *(_positive_int(raw, c, allow_zero=True) for c in COUNT_COLUMNS),
        (~raw["result"].isin(RESULTS), "result '" + raw["result"] + "' is not one of "
         + " | ".join(RESULTS)),
    ]  # fmt: skip
    bad = pd.Series(False, index=raw.index)
    for mask, text in problems:
        errors += _messages(raw, mask & ~bad, text)
        bad |= mask
    return _typed(raw[~bad].drop(columns="line")), _by_line(errors)


def write_inspections(frame: pd.DataFrame, path: str | Path) -> None:
    out = frame[list(INSPECTION_COLUMNS)].copy()
    out["inspected_on"] = pd.to_datetime(out["inspected_on"]).dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    day = pd.to_datetime(frame["inspected_on"], format="%Y-%m-%d")
    frame["inspected_on"] = day.astype("datetime64[ns]")
    for column in ("sample_size", *COUNT_COLUMNS):
        frame[column] = frame[column].astype("int64")
    for column in ("order_id", "inspection_stage", "result"):
        frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)


def inspections_path_for(history_path: str | Path) -> Path:
    """Where the inspections of a history CSV live by default: ``<name>.inspections.csv``."""
    path = Path(history_path)
    return path.with_name(path.stem + ".inspections" + path.suffix)

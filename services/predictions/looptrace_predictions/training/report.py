"""The tables ``train`` and ``evaluate`` print (the JSON form is ``evaluate --json``)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.table import Table


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def delay_table(metrics: dict) -> Table:
    table = Table(title="expected delay: MAE in days (model = P50)")
    names = ["no_delay", "earned_schedule", "production_forecast", "rule", "model"]
    for column in ["at", *names, "model / best baseline"]:
        table.add_column(column, justify="right")
    for group, scores in metrics["delay_mae"].items():
        cells = [_f(scores[n], 2) for n in names]
        table.add_row(group, *cells, _f(scores["ratio_to_best_baseline"], 2))
    return table


def classification_table(metrics: dict) -> Table:
    table = Table(title="P(late): model vs rule")
    for column in ["at", "n", "AUC mod", "AUC rule", "Brier mod", "Brier rule", "ECE mod"]:
        table.add_column(column, justify="right")
    model, rule = metrics["classification"]["model"], metrics["classification"]["rule"]
    for group, m in model.items():
        r = rule[group]
        table.add_row(
            group, str(m["n"]), _f(m["roc_auc"]), _f(r["roc_auc"]), _f(m["brier"]),
            _f(r["brier"]), _f(m["ece"]),
        )  # fmt: skip
    return table


def interval_table(metrics: dict) -> Table:
    intervals = metrics["intervals"]
    table = Table(title=f"P10–P90 interval ({intervals['level']:.0%}): coverage of outcomes")
    for column in ["group", "n", "completion date", "delay", "mean width (days)"]:
        table.add_column(column, justify="right")
    rows = {k: v for k, v in intervals.items() if k not in ("level", "by_supplier_group")}
    rows |= {f"supplier {k}": v for k, v in intervals["by_supplier_group"].items()}
    for group, v in rows.items():
        table.add_row(
            group, str(v["n"]), _f(v["coverage"]), _f(v["delay_coverage"]),
            _f(v["mean_width_days"], 1),
        )  # fmt: skip
    return table


def warning_table(metrics: dict) -> Table | None:
    warnings = metrics.get("warnings")
    if warnings is None:
        return None
    t = warnings["thresholds"]
    table = Table(
        title=f"first medium/high warning (model: medium ≥ {t['medium']:.3f}, high ≥ {t['high']:.3f})"
    )
    for column in ["", "median lead, late orders (days)", "late warned", "false alarms / 100"]:
        table.add_column(column, justify="right")
    for name in ("model", "rule"):
        w = warnings[name]
        table.add_row(
            name, _f(w["median_lead_days_late"], 1), _f(w["warned_before_end_late_share"], 2),
            _f(w["false_alarms_per_100_on_time"], 1),
        )  # fmt: skip
    return table


def metrics_report(metrics: dict) -> Group:
    tables = [delay_table(metrics), classification_table(metrics), interval_table(metrics)]
    warnings = warning_table(metrics)
    return Group(*tables, *([warnings] if warnings is not None else []))

"""The style checks CI runs: ruff (lint + format) everywhere, mypy --strict on shared and the domains."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

STRICT = [
    "shared/looptrace_shared",
    "services/orders/looptrace_orders/domain.py",
    "services/orders/looptrace_orders/workflow.py",
    "services/orders/looptrace_orders/shipping.py",
    "services/orders/looptrace_orders/invoices.py",
    "services/production/looptrace_production/calendar.py",
    "services/production/looptrace_production/calendar_cache.py",
    "services/production/looptrace_production/templates.py",
    "services/production/looptrace_production/domain",
    "services/production/looptrace_production/plan_codec.py",
    "services/production/looptrace_production/qc_gate.py",
    "services/production/looptrace_production/events.py",
    "services/production/looptrace_production/rules.py",
    "services/quality/looptrace_quality/aql.py",
    "services/quality/looptrace_quality/domain.py",
    "services/quality/looptrace_quality/switching.py",
    "services/quality/looptrace_quality/dhu.py",
    "services/notifications/looptrace_notifications/domain",
    "services/notifications/looptrace_notifications/rulebook.py",
    "services/notifications/looptrace_notifications/rendering.py",
    "services/predictions/looptrace_predictions/risk.py",
    "services/predictions/looptrace_predictions/baseline.py",
    "services/predictions/looptrace_predictions/risk_model.py",
    "services/predictions/looptrace_predictions/stage_params.py",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT / "shared")}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_ruff_lint_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, "run `.venv/bin/ruff format .`\n" + result.stdout


def test_mypy_strict_on_shared_and_domains() -> None:
    result = run(str(BIN / "mypy"), "--strict", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr

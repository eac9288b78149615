"""Nothing lost and nothing doubled while services are killed, PostgreSQL restarts and the
connections to the broker and the database are cut (see the README's delivery guarantees)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .scenario import Scenario, run

pytestmark = pytest.mark.e2e


HOME = Path(__file__).resolve().parents[2] / ".looptrace" / "fault-run"


async def test_nothing_lost_or_doubled_under_faults(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(HOME, ignore_errors=True)  # the last run's logs stay until the next run
    outcome = await run(scenario, HOME)
    with capsys.disabled():
        print("\n" + outcome.text + f"\n(service logs in {HOME / 'logs'})")
    assert not outcome.failures, "\n".join(outcome.failures)

"""Nothing lost and nothing doubled while services are killed, PostgreSQL restarts and the
connections to the broker and the database are cut (see the README's delivery guarantees)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenario import Scenario, run

pytestmark = pytest.mark.e2e


async def test_nothing_lost_or_doubled_under_faults(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = await run(scenario, tmp_path)
    with capsys.disabled():
        print("\n" + outcome.text)
    assert not outcome.failures, "\n".join(outcome.failures)

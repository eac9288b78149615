"""However `up` ends, nothing it started outlives it (issue: no orphans)."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
READY = "Ctrl-C stops everything"


@pytest.fixture(scope="module")
def runs(module_runs: Any) -> dict[str, Any]:
    """Three one-service runs started together (the machine starts them in one go)."""
    started = {"pipe": module_runs(["orders"]), "kill": module_runs(["orders"])}
    started["hup"] = module_runs(["orders"])
    started["pipe"].start(pipe_to="cat > /dev/null")
    started["kill"].start()
    started["hup"].start()
    for run in started.values():
        run.wait_log(READY)
    return started


def test_reader_of_ups_output_killed_then_ctrl_c_leaves_nothing(runs: dict[str, Any]) -> None:
    """`python3 dev.py up | reader`: the reader dies, `up` keeps going (its log only); a Ctrl-C
    to the pipeline then stops everything, though "stopping…" can't reach the closed pipe."""
    run = runs["pipe"]
    shell = run.proc
    os.kill(run.find("cat"), signal.SIGKILL)
    run.note_processes()
    up = run.pid_of("up")

    run.signal_group(signal.SIGINT)  # what a terminal's Ctrl-C does to the pipeline

    run.assert_all_gone()
    assert up in run.seen
    shell.wait(5)
    log = run.log()
    assert "stopped" in log.splitlines()[-1]
    assert "stdout closed" in log


def test_up_killed_with_sigkill_leaves_nothing(runs: dict[str, Any]) -> None:
    run = runs["kill"]
    os.kill(run.pid_of("up"), signal.SIGKILL)  # no chance to clean up: the lifelines must
    run.assert_all_gone()


def test_up_receiving_sighup_leaves_nothing(runs: dict[str, Any]) -> None:
    """The terminal was closed: dev.py gets SIGHUP and passes it on; up drains and stops."""
    run = runs["hup"]
    up = run.proc
    up.send_signal(signal.SIGHUP)
    run.assert_all_gone()
    assert up.wait(5) == 0
    assert run.log().rstrip().endswith("stopped")

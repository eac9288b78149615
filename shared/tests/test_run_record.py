"""The run record knows its processes by PID and start time; up's options say what is wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from looptrace_shared.lifeline import Lifeline
from looptrace_shared.run import port_map, service_list
from looptrace_shared.runrecord import Entry, RunRecord, stop_run


def test_a_reused_pid_is_not_taken_for_the_recorded_process(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        entry = Entry.of("orders", child.pid, 9101)
        assert entry.alive()
        assert not Entry("orders", child.pid, (entry.ticks or 0) + 1).alive()  # same PID, later
        record = RunRecord(tmp_path, processes=[entry])
        record.save()
        loaded = RunRecord.load(tmp_path)
        assert loaded is not None and loaded.alive() == [entry]
        assert stop_run(loaded, 5, print)
        assert child.wait(5) == -signal.SIGTERM
        assert not entry.alive()
    finally:
        child.kill()
        child.wait()


def test_a_child_watching_the_lifeline_stops_when_it_is_cut() -> None:
    lifeline = Lifeline()
    code = (
        "import time; from looptrace_shared import lifeline;assert lifeline.watch(); time.sleep(60)"
    )
    env = {**os.environ, **lifeline.child_env()}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, pass_fds=lifeline.pass_fds)
    try:
        lifeline.cut()  # before or after it starts watching: end-of-file either way
        assert child.wait(30) == -signal.SIGTERM  # the same stop as SIGTERM
    finally:
        child.kill()
        child.wait()


def test_up_options_refuse_what_they_cannot_use() -> None:
    assert port_map("orders=9101")["orders"] == 9101
    assert port_map("")["predictions"] == 8105
    with pytest.raises(ValueError, match="use name=port"):
        port_map("orders:9101")
    with pytest.raises(ValueError, match="unknown service"):
        service_list("orders,shipping")

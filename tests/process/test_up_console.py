"""`up` starts the web console beside the services and prints its address."""

from __future__ import annotations

import signal
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_up_prints_the_console_address_and_the_console_answers(new_run: Any) -> None:
    run = new_run(["orders", "web"])
    run.start()
    run.wait_log("Ctrl-C stops everything")
    console = f"http://127.0.0.1:{run.ports['web']}"
    assert f"console       {console}  (sign in: {console}/signin)" in run.log()
    page = httpx.get(f"{console}/signin", timeout=5)
    assert page.status_code == 200 and 'label for="subject"' in page.text
    assert "web" in run.record()
    run.signal_group(signal.SIGINT)
    run.assert_all_gone()

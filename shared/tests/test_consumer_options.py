"""The consumers' fetch settings reach aiokafka (pipeline latency: bench/pipeline_bench.py)."""

from __future__ import annotations

from looptrace_shared.messaging.kafka import consumer_options
from looptrace_shared.settings import ServiceSettings


def test_the_fetch_wait_is_a_setting_and_short_by_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert consumer_options(ServiceSettings())["fetch_max_wait_ms"] == 50
    monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", "120")
    assert consumer_options(ServiceSettings())["fetch_max_wait_ms"] == 120

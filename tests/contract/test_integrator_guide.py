"""The README's integrator's guide: its example records match asyncapi.json, one per inbound
type, each with its own envelope id."""

from __future__ import annotations

import json
import re
from pathlib import Path

from looptrace_shared.contracts.records import RecordChecker
from looptrace_shared.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```text ([a-z.0-9]+)\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, bytes]]:
    """(topic, key, value) of every ``key|value`` line in the README's ```text <topic> blocks."""
    readme = (ROOT / "README.md").read_text()
    out = []
    for topic, body in BLOCK.findall(readme):
        for line in body.strip().splitlines():
            key, _, value = line.partition("|")
            out.append((topic, key, value.encode()))
    return out


def test_one_readme_example_per_inbound_type_and_each_matches_the_document() -> None:
    checker = RecordChecker(json.loads((ROOT / "asyncapi.json").read_text()))
    found = examples()
    problems = [p for t, k, v in found for p in checker.problems(t, v, {}, k.encode())]
    assert not problems, problems
    inbound = {
        "orders.inbound.v1",
        "production.progress.v1",
        "production.suppliers.v1",
        "quality.inbound.v1",
    }
    wanted = {t for t, s in EVENT_TYPES.items() if s.topic in inbound}
    assert sorted(json.loads(v)["type"] for _, _, v in found) == sorted(wanted)
    ids = [json.loads(v)["id"] for _, _, v in found]
    assert len(set(ids)) == len(ids), "each example needs its own envelope id"

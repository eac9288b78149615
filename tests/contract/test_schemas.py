"""The versioned JSON Schemas in schemas/: one per event type, up to date, and only ever changed
additively within a version."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from looptrace_shared.contracts.compatibility import breaking_changes
from looptrace_shared.contracts.schemas import BreakingChange, current, file_name, write
from looptrace_shared.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
REGENERATE = "run `python3 dev.py contracts` (or `python3 dev.py schemas --out schemas`)"


def committed(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((SCHEMAS / name).read_text())


def test_every_event_type_has_a_committed_schema_of_its_version() -> None:
    missing = [file_name(s) for s in EVENT_TYPES.values() if not (SCHEMAS / file_name(s)).exists()]
    assert not missing, f"no schema for {missing}: {REGENERATE}"


def test_the_code_changes_no_committed_schema_in_a_breaking_way() -> None:
    problems = {}
    for name, text in current().items():
        if (SCHEMAS / name).exists():
            found = breaking_changes(committed(name), json.loads(text))
            if found:
                problems[name] = found
    assert not problems, (
        f"breaking changes to committed schemas: {problems}. Keep the field (or make it "
        "optional), or ship the change as the next version beside it (schemas/README.md)"
    )


def test_committed_schemas_are_up_to_date() -> None:
    stale = [n for n, text in current().items() if (SCHEMAS / n).read_text() != text]
    assert not stale, f"{stale} out of date: {REGENERATE}"


def test_every_committed_schema_file_belongs_to_a_registered_type() -> None:
    types = {s.type for s in EVENT_TYPES.values()}
    stray = [p.name for p in SCHEMAS.glob("*.json") if p.name.rsplit(".v", 1)[0] not in types]
    assert not stray, f"schema files without an event type: {stray}"


# ---- the rule itself, on one real schema -------------------------------------------------


@pytest.fixture
def placed() -> dict:  # type: ignore[type-arg]
    return committed("OrderPlaced.v1.json")


def test_a_removed_field_breaks(placed: dict) -> None:  # type: ignore[type-arg]
    new = copy.deepcopy(placed)
    del new["$defs"]["OrderPlaced"]["properties"]["style"]
    assert breaking_changes(placed, new) == ["field data.style was removed"]


def test_a_retyped_field_breaks(placed: dict) -> None:  # type: ignore[type-arg]
    new = copy.deepcopy(placed)
    new["$defs"]["OrderPlaced"]["properties"]["quantity"] = {"type": "string"}
    assert breaking_changes(placed, new) == ["data.quantity changed type from integer to string"]


def test_a_nested_retyped_field_and_a_lost_null_break(placed: dict) -> None:  # type: ignore[type-arg]
    new = copy.deepcopy(placed)
    new["$defs"]["Party"]["properties"]["id"] = {"type": "integer"}
    new["$defs"]["OrderPlaced"]["properties"]["style"] = {"type": "string"}
    problems = breaking_changes(placed, new)
    assert "data.buyer.id changed type from string to integer" in problems
    assert "data.style changed type from null | string to string" in problems


def test_a_new_required_field_breaks(placed: dict) -> None:  # type: ignore[type-arg]
    new = copy.deepcopy(placed)
    payload = new["$defs"]["OrderPlaced"]
    payload["properties"]["season"] = {"type": "string"}
    payload["required"].append("season")
    assert breaking_changes(placed, new) == ["field data.season became required"]


def test_additive_changes_pass(placed: dict) -> None:  # type: ignore[type-arg]
    new = copy.deepcopy(placed)
    payload = new["$defs"]["OrderPlaced"]
    payload["properties"]["season"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    payload["properties"]["notes"]["maxLength"] = 2000  # a bound, as field hardening adds
    payload["properties"]["quantity"]["description"] = "pieces"
    assert breaking_changes(placed, new) == []


def test_regenerating_refuses_a_breaking_change(tmp_path: Path) -> None:
    write(tmp_path)
    name = "OrderPlaced.v1.json"
    old = json.loads((tmp_path / name).read_text())
    old["$defs"]["OrderPlaced"]["properties"]["retired"] = {"type": "string"}  # "removed" now
    (tmp_path / name).write_text(json.dumps(old))
    with pytest.raises(BreakingChange, match="field data.retired was removed"):
        write(tmp_path)
    assert "retired" in (tmp_path / name).read_text(), "nothing is written on refusal"

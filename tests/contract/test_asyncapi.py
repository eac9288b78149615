"""asyncapi.json: valid AsyncAPI 3.0 (the AsyncAPI project's published JSON Schema, from its npm
package @asyncapi/specs), complete (every channel, every type, every dead-letter topic), true
(generated from the registry and the services' own wiring; examples validate) and up to date."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from looptrace_shared.contracts.records import RecordChecker
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.topics import ALL_TOPICS, dlq

ROOT = Path(__file__).resolve().parents[2]
SPECS = "@asyncapi/specs@6.11.1"  # Apache-2.0; fetched at test time, not kept in the repository
CACHE = ROOT / ".looptrace" / "cache" / "asyncapi-specs-6.11.1"


def asyncapi_3_schema() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 JSON Schema, from the npm package (cached under .looptrace/cache)."""
    path = CACHE / "package" / "schemas" / "3.0.0.json"
    if not path.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed once to fetch the AsyncAPI JSON Schema (apt-get install npm)"
        CACHE.mkdir(parents=True, exist_ok=True)
        out = (
            subprocess.run(
                [npm, "pack", SPECS, "--pack-destination", str(CACHE), "--silent"],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(CACHE / out) as tar:
            tar.extractall(CACHE, members=[m for m in tar if m.name.startswith("package/schemas/")])
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((ROOT / "asyncapi.json").read_text())


def test_the_committed_document_is_up_to_date(committed: dict[str, Any]) -> None:
    from looptrace_shared.asyncapi import render

    assert committed == json.loads(render()), (
        "asyncapi.json is out of date: run `python3 dev.py contracts` "
        "(or `python3 dev.py asyncapi --out asyncapi.json`)"
    )


def test_it_is_valid_asyncapi_3(committed: dict[str, Any]) -> None:
    validator = Draft7Validator(asyncapi_3_schema())
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(committed)
    ]
    assert committed["asyncapi"] == "3.0.0" and not errors, errors


def test_the_published_schema_does_catch_a_broken_document(committed: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(committed))
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2 wording
    assert list(Draft7Validator(asyncapi_3_schema()).iter_errors(broken))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves(committed: dict[str, Any]) -> None:
    for ref in set(_refs(committed)):
        node: Any = committed
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_every_topic_carries_one_message_per_registered_type(committed: dict[str, Any]) -> None:
    for topic in ALL_TOPICS:
        channel = committed["channels"][topic]
        wanted = {s.type for s in EVENT_TYPES.values() if s.topic == topic}
        assert set(channel["messages"]) == wanted, topic
        for type_ in wanted:
            payload = committed["components"]["messages"][type_]["payload"]
            assert payload["properties"]["type"]["const"] == type_
            assert payload["properties"]["data"]["$ref"].startswith("#/components/schemas/")
            assert committed["components"]["messages"][type_]["bindings"]["kafka"]["key"]


def test_every_dead_letter_topic_is_a_channel_with_its_headers(committed: dict[str, Any]) -> None:
    for topic in ALL_TOPICS:
        ref = committed["channels"][dlq(topic)]["messages"]["DeadLetter"]["$ref"]
        message = committed["components"]["messages"][ref.rsplit("/", 1)[1]]
        assert {"error", "rule", "original_topic", "original_offset", "consumer_group"} <= set(
            message["headers"]["required"]
        )


def test_operations_name_who_sends_and_receives(committed: dict[str, Any]) -> None:
    ops = committed["operations"]
    assert ops["orders.receive.orders.inbound.v1"]["action"] == "receive"
    assert ops["orders.send.orders.inbound.v1.dlq"]["action"] == "send"
    assert ops["production.send.production.events.v1"]["action"] == "send"
    assert ops["notifications.receive.predictions.alerts.v1"]["action"] == "receive"
    for op in ops.values():
        channel = op["channel"]["$ref"].removeprefix("#/channels/")
        for m in op["messages"]:
            assert m["$ref"].startswith(f"#/channels/{channel}/messages/"), (op, m)
    assert set(committed["servers"]) == {"embedded", "kafka"}


def test_every_example_is_a_valid_record_of_its_channel(committed: dict[str, Any]) -> None:
    checker = RecordChecker(committed)
    for topic in ALL_TOPICS:
        for type_ in committed["channels"][topic]["messages"]:
            example = committed["components"]["messages"][type_]["examples"][0]
            value = json.dumps(example["payload"]).encode()
            problems = checker.problems(topic, value, example.get("headers", {}), b"o-1001")
            assert not problems, problems
            EVENT_TYPES[type_].model.model_validate(example["payload"]["data"])


def test_a_record_that_breaks_its_schema_is_caught(committed: dict[str, Any]) -> None:
    checker = RecordChecker(committed)
    example = committed["components"]["messages"]["OrderShipped"]["examples"][0]["payload"]
    wrong = {**example, "data": {**example["data"], "quantity_shipped": "lots"}}
    assert checker.problems("orders.inbound.v1", json.dumps(wrong).encode(), {}, b"o-1001")
    misplaced = json.dumps({**example, "type": "order.created"}).encode()
    assert checker.problems("orders.inbound.v1", misplaced, {}, b"o-1001")
    assert checker.problems("orders.inbound.v1", json.dumps(example).encode(), {}, b"other")

"""JSON Schemas of the wire contracts: one envelope schema per event type and version.

``schemas/<type>.v<N>.json`` is the schema of an envelope whose ``type`` is ``<type>`` and whose
``data`` is that type's payload model. A committed ``v<N>`` may only change additively: new
optional fields, looser or tighter bounds. A removed or retyped field, or a new required one,
would break a consumer or a producer built on it: such a change ships as ``v<N+1>`` beside it
(``@event(..., version=N+1)``, on a new topic version), and the old file stays as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from looptrace_shared.envelope import Envelope
from looptrace_shared.events import EVENT_TYPES, EventSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def envelope_schema(spec: EventSpec, data_ref: str) -> dict[str, Any]:
    """The envelope of ``spec.type``: ``type`` a constant, ``data`` a reference to its payload."""
    schema = Envelope.model_json_schema()
    schema.pop("title", None)
    props = schema["properties"]
    props["type"] = {"const": spec.type, "type": "string", "description": "the event type"}
    props["data"] = {"$ref": data_ref, "description": f"the {spec.type} payload"}
    props["subject"]["description"] = "the order id; also the Kafka message key"
    schema["required"] = sorted({*schema.get("required", []), "data"})
    schema["title"] = f"{spec.type} envelope"
    return schema


def payload_schemas(ref_template: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(event type → reference to its payload schema, every schema those references need)."""
    models: list[tuple[type[BaseModel], Any]] = [
        (s.model, "validation") for s in EVENT_TYPES.values()
    ]
    refs, defs = models_json_schema(models, ref_template=ref_template)
    by_type = {t: refs[(s.model, "validation")] for t, s in EVENT_TYPES.items()}
    return by_type, defs.get("$defs", {})


def type_schema(spec: EventSpec) -> dict[str, Any]:
    """The standalone schema of one event type (``$defs`` hold its payload and nested models)."""
    payload = spec.model.model_json_schema(ref_template="#/$defs/{model}")
    defs = payload.pop("$defs", {})
    name = spec.model.__name__
    defs[name] = payload
    schema = {
        "$schema": DRAFT,
        "$id": f"urn:looptrace:event:{spec.type}:v{spec.version}",
        **envelope_schema(spec, f"#/$defs/{name}"),
        "x-topic": spec.topic,
        "x-version": spec.version,
        "$defs": dict(sorted(defs.items())),
    }
    if spec.model.__doc__ and spec.model.__doc__ != BaseModel.__doc__:
        schema["description"] = " ".join(spec.model.__doc__.split())
    return schema


def file_name(spec: EventSpec) -> str:
    return f"{spec.type}.v{spec.version}.json"


def render(spec: EventSpec) -> str:
    return json.dumps(type_schema(spec), indent=2, sort_keys=True) + "\n"


def current() -> dict[str, str]:
    """file name → text, for every registered type at its current version."""
    return {file_name(s): render(s) for s in EVENT_TYPES.values()}


class BreakingChange(Exception):
    def __init__(self, name: str, problems: list[str]) -> None:
        rule = "ship the change as the next version beside it (see schemas/README.md)"
        super().__init__(f"{name} would break its consumers: {'; '.join(problems)} — {rule}")
        self.problems = problems


def write(directory: Path) -> list[str]:
    """Write every current schema into ``directory``; refuse a breaking change to a committed
    one (raise ``BreakingChange`` before writing anything). Return the files changed."""
    from looptrace_shared.contracts.compatibility import breaking_changes

    directory.mkdir(parents=True, exist_ok=True)
    wanted = current()
    for name, text in wanted.items():
        path = directory / name
        if path.exists():
            problems = breaking_changes(json.loads(path.read_text()), json.loads(text))
            if problems:
                raise BreakingChange(name, problems)
    changed = [n for n, t in wanted.items() if _differs(directory / n, t)]
    for name in changed:
        (directory / name).write_text(wanted[name])
    return changed


def _differs(path: Path, text: str) -> bool:
    return not path.exists() or path.read_text() != text

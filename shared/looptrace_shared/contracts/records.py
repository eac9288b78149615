"""Checking a Kafka record against the AsyncAPI document, as an outside consumer would:
its channel must list a message for the record's ``type``, and the record's value, headers and
key must match that message's schemas (JSON Schema, with the document's own components)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator


class RecordChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._validators: dict[str, Draft202012Validator] = {}

    def problems(
        self, topic: str, value: bytes, headers: dict[str, str], key: bytes | None
    ) -> list[str]:
        """Why this record does not match the document (empty when it does)."""
        channel = self.document["channels"].get(topic)
        if channel is None:
            return [f"{topic}: no such channel in the document"]
        if topic.endswith(".dlq"):
            ref = channel["messages"]["DeadLetter"]["$ref"]
            return self._check(ref + "/headers", headers, f"{topic} headers")
        try:
            envelope = json.loads(value)
        except ValueError as err:
            return [f"{topic}: the value is not JSON ({err})"]
        type_ = envelope.get("type") if isinstance(envelope, dict) else None
        if type_ not in channel["messages"]:
            return [f"{topic}: no message for type {type_!r} on this channel"]
        ref = channel["messages"][type_]["$ref"]
        out = self._check(ref + "/payload", envelope, f"{topic} {type_}")
        out += self._check(ref + "/headers", headers, f"{topic} {type_} headers")
        if key is not None and key.decode() != envelope.get("subject"):
            out.append(f"{topic} {type_}: key {key!r} is not the subject {envelope['subject']!r}")
        return out

    def _check(self, ref: str, instance: Any, what: str) -> list[str]:
        validator = self._validators.get(ref)
        if validator is None:  # the whole document as the root, so its #/components/ resolve
            schema = {**self.document, "$ref": ref}
            validator = self._validators[ref] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return [
            f"{what}: {'.'.join(map(str, e.absolute_path)) or 'value'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

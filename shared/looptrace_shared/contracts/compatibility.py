"""Does a new JSON Schema of an event still serve what was built on the old one?

Breaking: a field removed, a field's type changed (including the types a union admits), a
field that became required. Additive, and so allowed: a new optional field, a changed
description, default, example or bound.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in ``new`` breaks a consumer or producer of ``old`` (empty: compatible)."""
    return _compare(old, old, new, new, "")


def _compare(old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str) -> list[str]:
    old, new = _resolve(old_root, old), _resolve(new_root, new)
    if _signature(old_root, old) != _signature(new_root, new):
        return [
            f"{path or 'the message'} changed type from {_show(old_root, old)} to {_show(new_root, new)}"
        ]
    problems: list[str] = []
    for o, n in zip(_objects(old_root, old), _objects(new_root, new), strict=False):
        problems += _compare_objects(old_root, o, new_root, n, path)
    for o, n in zip(_arrays(old_root, old), _arrays(new_root, new), strict=False):
        problems += _compare(
            old_root, o.get("items", {}), new_root, n.get("items", {}), path + "[]"
        )
    return problems


def _compare_objects(
    old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str
) -> list[str]:
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"field {where} was removed")
        else:
            problems += _compare(old_root, schema, new_root, new_props[name], where)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"field {f'{path}.{name}' if path else name} became required")
    return problems


def _resolve(root: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _members(root: Schema, schema: Schema) -> list[Schema]:
    schema = _resolve(root, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [m for s in schema[key] for m in _members(root, s)]
    return [schema]


def _signature(root: Schema, schema: Schema) -> list[tuple[str, str]]:
    out = set()
    for m in _members(root, schema):
        if "const" in m:
            out.add(("const", repr(m["const"])))
            continue
        kinds = m.get("type", "object" if "properties" in m else "any")
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            out.add((kind, m.get("format", "")))
    return sorted(out)


def _show(root: Schema, schema: Schema) -> str:
    return " | ".join(k + (f"({f})" if f else "") for k, f in _signature(root, schema))


def _objects(root: Schema, schema: Schema) -> list[Schema]:
    return [m for m in _members(root, schema) if "properties" in m]


def _arrays(root: Schema, schema: Schema) -> list[Schema]:
    return [m for m in _members(root, schema) if m.get("type") == "array"]

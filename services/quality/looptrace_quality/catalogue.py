"""The garment defect catalogue: defect types and the class each one counts in by default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


class DefectClass(StrEnum):
    """Classification of a nonconformity by its seriousness (ISO 2859-1 clause 3.1.10)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class UnknownDefectClass(ValueError):
    def __init__(self, value: object) -> None:
        allowed = ", ".join(c.value for c in DefectClass)
        super().__init__(f"defect class {value!r} is unknown; use one of: {allowed}")


class UnknownDefectType(ValueError):
    def __init__(self, code: object, known: list[str]) -> None:
        super().__init__(
            f"defect type {code!r} is not in the catalogue; use one of: {', '.join(known)}"
        )


class InvalidCatalogue(ValueError):
    """The defect catalogue file is malformed."""


def parse_defect_class(value: object) -> DefectClass:
    try:
        return DefectClass(str(value).strip().lower())
    except ValueError:
        raise UnknownDefectClass(value) from None


@dataclass(frozen=True)
class DefectType:
    code: str
    name: str
    default_class: DefectClass


@dataclass(frozen=True)
class DefectCatalogue:
    types: Mapping[str, DefectType]

    def get(self, code: str) -> DefectType:
        try:
            return self.types[code.strip().upper()]
        except (AttributeError, KeyError):
            raise UnknownDefectType(code, self.codes()) from None

    def codes(self) -> list[str]:
        return sorted(self.types)


def catalogue_from_data(data: Any) -> DefectCatalogue:
    """Build a catalogue from parsed YAML: ``{"defects": [{code, name, default_class}, ...]}``."""
    entries = data.get("defects") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise InvalidCatalogue("the catalogue needs a non-empty 'defects' list")
    types: dict[str, DefectType] = {}
    for entry in entries:
        defect = _defect_type(entry)
        if defect.code in types:
            raise InvalidCatalogue(
                f"defect code {defect.code!r} appears twice; codes must be unique"
            )
        types[defect.code] = defect
    return DefectCatalogue(types)


@lru_cache(maxsize=1)
def default_catalogue() -> DefectCatalogue:
    """The catalogue shipped with the service (defects.yaml next to this module)."""
    text = resources.files("looptrace_quality").joinpath("defects.yaml").read_text("utf-8")
    return catalogue_from_data(yaml.safe_load(text))


def _defect_type(entry: Any) -> DefectType:
    if not isinstance(entry, Mapping) or not {"code", "name", "default_class"} <= entry.keys():
        raise InvalidCatalogue(f"each defect needs code, name and default_class; got {entry!r}")
    code = str(entry["code"]).strip().upper()
    return DefectType(code, str(entry["name"]), parse_defect_class(entry["default_class"]))

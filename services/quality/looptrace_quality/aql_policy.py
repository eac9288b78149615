"""Which AQLs and inspection level apply to a lot: order override > buyer default > settings.

A buyer sets defaults for all of its orders; one order can override them; whatever neither
sets comes from the service settings. Each resolved value remembers where it came from, so
the inspection's plan snapshot can say why its numbers are what they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

from looptrace_quality.aql import AqlValue, parse_aql, parse_level
from looptrace_quality.domain import ZERO_TOLERANCE, is_zero_tolerance

AQL_CLASSES = ("critical", "major", "minor")


class Source(StrEnum):
    """Where a resolved AQL or level was set."""

    SETTINGS = "settings"
    BUYER = "buyer"
    ORDER = "order"


def parse_class_aql(aql: AqlValue) -> str:
    """An AQL of the standard's series, or 0 for zero tolerance (no defect of the class)."""
    return ZERO_TOLERANCE if is_zero_tolerance(aql) else parse_aql(aql)


@dataclass(frozen=True)
class AqlChoice:
    """AQL per defect class and inspection level; ``None`` = not set at this layer."""

    critical: str | None = None
    major: str | None = None
    minor: str | None = None
    level: str | None = None

    @classmethod
    def validated(
        cls,
        critical: AqlValue | None = None,
        major: AqlValue | None = None,
        minor: AqlValue | None = None,
        level: str | None = None,
    ) -> AqlChoice:
        """Values checked against ISO 2859-1 (raises UnknownAQL / UnknownInspectionLevel)."""
        critical, major, minor = (
            None if v is None else parse_class_aql(v) for v in (critical, major, minor)
        )
        return cls(critical, major, minor, None if level is None else parse_level(level))

    @classmethod
    def from_dict(cls, data: Mapping[str, str | None] | None) -> AqlChoice:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def to_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def is_empty(self) -> bool:
        return all(v is None for v in self.to_dict().values())


@dataclass(frozen=True)
class ResolvedAqls:
    aqls: dict[str, str]
    level: str
    sources: dict[str, str]


def resolve_aqls(
    settings: AqlChoice, buyer: AqlChoice | None = None, order: AqlChoice | None = None
) -> ResolvedAqls:
    """Each value from the most specific layer that sets it (settings must set all)."""
    layers = [(Source.ORDER, order), (Source.BUYER, buyer), (Source.SETTINGS, settings)]
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name in (*AQL_CLASSES, "level"):
        source, value = next(
            (s, getattr(c, name)) for s, c in layers if c and getattr(c, name) is not None
        )
        values[name], sources[name] = value, source.value
    level = values.pop("level")
    return ResolvedAqls(values, level, sources)

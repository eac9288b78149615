"""Stage templates per product category, read from ``templates.yaml`` (operator-editable)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from looptrace_production.events import SampleKind
from looptrace_shared.contracts.stage_templates import TemplateStage

DEFAULT_TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")
_FLAGS = ("optional", "qc", "milestone", "shipping")
_STAGE_KEYS = frozenset({"number", "name", "duration_days", "depends_on", *_FLAGS})
_SAMPLE_KEYS = frozenset({"kind", "before_stage", "lead_days", "gates", "required"})


class TemplateFileInvalid(ValueError):
    """The templates file cannot be used; the message names the file, category and stage."""

    rule = "template_file_invalid"


# A stage of a template is the contract's type: the shape other services read from the
# generated stage_templates.json is, by construction, the shape production plans with.
StageTemplate = TemplateStage


@dataclass(frozen=True)
class SampleTemplate:
    """A sample kind on the category's T&A plan: approved ``lead_days`` working days before
    ``before_stage`` starts. ``gates``: that stage may not start before the approval (the
    pre-production gate); ``required``: the gate holds before any sample is requested."""

    kind: SampleKind
    before_stage: int
    lead_days: int
    gates: bool = False
    required: bool = False


@dataclass(frozen=True)
class Template:
    category: str
    stages: tuple[StageTemplate, ...]
    samples: tuple[SampleTemplate, ...] = ()


def category_key(category: str) -> str:
    """Normalise a category name: "Cut and Sew", "cut_and_sew" and "cut-and-sew" are equal."""
    return re.sub(r"[\s_\-]+", "-", category.strip().lower())


def load_templates(path: Path | None = None) -> dict[str, Template]:
    """Read and validate the templates file; keys are normalised category names."""
    source = path or DEFAULT_TEMPLATES_FILE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise TemplateFileInvalid(f"{source}: not valid YAML: {error}") from error
    return parse_templates(document, str(source))


def parse_templates(document: object, source: str = "templates") -> dict[str, Template]:
    if not isinstance(document, Mapping) or not isinstance(document.get("categories"), Mapping):
        raise TemplateFileInvalid(f"{source}: expected a top-level 'categories:' mapping")
    templates: dict[str, Template] = {}
    for name, body in document["categories"].items():
        key = category_key(str(name))
        if key in templates:
            raise TemplateFileInvalid(
                f"{source}: category {name!r} is listed twice (names ignore case, spaces, - and _)"
            )
        templates[key] = _parse_category(str(name), body, f"{source}: category {name!r}")
    if not templates:
        raise TemplateFileInvalid(f"{source}: no categories defined")
    return templates


def _parse_category(name: str, body: object, where: str) -> Template:
    raw_stages = body.get("stages") if isinstance(body, Mapping) else None
    if not isinstance(raw_stages, list) or not raw_stages:
        raise TemplateFileInvalid(f"{where}: needs a non-empty 'stages:' list")
    stages: list[StageTemplate] = []
    for raw in raw_stages:
        previous = stages[-1].number if stages else None
        stages.append(_parse_stage(raw, previous, where))
    _check_unique(stages, where)
    _check_dependencies(stages, where)
    raw_samples = body.get("samples", []) if isinstance(body, Mapping) else []
    if not isinstance(raw_samples, list):
        raise TemplateFileInvalid(f"{where}: 'samples:' must be a list")
    samples = tuple(_parse_sample(raw, stages, where) for raw in raw_samples)
    _check_samples(samples, where)
    return Template(category=name, stages=tuple(stages), samples=samples)


def _parse_sample(raw: object, stages: list[StageTemplate], where: str) -> SampleTemplate:
    if not isinstance(raw, Mapping):
        raise TemplateFileInvalid(f"{where}: each sample must be a mapping, got {raw!r}")
    unknown = sorted(set(raw) - _SAMPLE_KEYS)
    if unknown:
        raise TemplateFileInvalid(
            f"{where}: sample {raw.get('kind')!r} has unknown keys {unknown}; "
            f"allowed: {sorted(_SAMPLE_KEYS)}"
        )
    kinds = [k.value for k in SampleKind]
    if raw.get("kind") not in kinds:
        raise TemplateFileInvalid(f"{where}: sample kind {raw.get('kind')!r}: use one of {kinds}")
    here = f"{where}, sample {raw['kind']}"
    before = _positive_int(raw.get("before_stage"), f"{here}: before_stage")
    if before not in [stage.number for stage in stages]:
        raise TemplateFileInvalid(f"{here}: before_stage {before} is not a stage of this category")
    return SampleTemplate(
        kind=SampleKind(raw["kind"]),
        before_stage=before,
        lead_days=_positive_int(raw.get("lead_days"), f"{here}: lead_days"),
        gates=_flag(raw.get("gates", False), f"{here}: gates"),
        required=_flag(raw.get("required", False), f"{here}: required"),
    )


def _check_samples(samples: tuple[SampleTemplate, ...], where: str) -> None:
    kinds = [s.kind for s in samples]
    twice = sorted({k.value for k in kinds if kinds.count(k) > 1})
    if twice:
        raise TemplateFileInvalid(f"{where}: sample kinds {twice} are listed twice")
    for s in samples:
        if s.gates and s.kind is not SampleKind.PRE_PRODUCTION:
            raise TemplateFileInvalid(
                f"{where}, sample {s.kind.value}: only the pre_production sample gates bulk"
            )
        if s.required and not s.gates:
            raise TemplateFileInvalid(f"{where}, sample {s.kind.value}: required needs gates")


def _parse_stage(raw: object, previous: int | None, where: str) -> StageTemplate:
    if not isinstance(raw, Mapping):
        raise TemplateFileInvalid(f"{where}: each stage must be a mapping, got {raw!r}")
    unknown = sorted(set(raw) - _STAGE_KEYS)
    if unknown:
        raise TemplateFileInvalid(
            f"{where}: stage {raw.get('number')!r} has unknown keys {unknown}; "
            f"allowed: {sorted(_STAGE_KEYS)}"
        )
    number = _positive_int(raw.get("number"), f"{where}: stage number")
    here = f"{where}, stage {number}"
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TemplateFileInvalid(f"{here}: needs a non-empty 'name'")
    default_dependency = [] if previous is None else [previous]
    depends_on = raw.get("depends_on", default_dependency)
    if not isinstance(depends_on, list):
        raise TemplateFileInvalid(f"{here}: depends_on must be a list of stage numbers")
    return StageTemplate(
        number=number,
        name=name.strip(),
        duration_days=_positive_int(raw.get("duration_days"), f"{here}: duration_days"),
        depends_on=tuple(_positive_int(item, f"{here}: depends_on") for item in depends_on),
        **{flag: _flag(raw.get(flag, False), f"{here}: {flag}") for flag in _FLAGS},
    )


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TemplateFileInvalid(f"{what} must be a positive whole number, got {value!r}")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TemplateFileInvalid(f"{what} must be true or false, got {value!r}")
    return value


def _check_unique(stages: list[StageTemplate], where: str) -> None:
    numbers = [stage.number for stage in stages]
    duplicates = sorted({number for number in numbers if numbers.count(number) > 1})
    if duplicates:
        raise TemplateFileInvalid(f"{where}: duplicate stage numbers {duplicates}")
    if numbers != sorted(numbers):
        raise TemplateFileInvalid(f"{where}: list stages in increasing number order, got {numbers}")
    names = [stage.name.casefold() for stage in stages]
    twice = sorted({stage.name for stage in stages if names.count(stage.name.casefold()) > 1})
    if twice:
        raise TemplateFileInvalid(f"{where}: duplicate stage names {twice} (names ignore case)")


def _check_dependencies(stages: list[StageTemplate], where: str) -> None:
    numbers = sorted(stage.number for stage in stages)
    for stage in stages:
        for dependency in stage.depends_on:
            if dependency not in numbers:
                raise TemplateFileInvalid(
                    f"{where}, stage {stage.number}: depends_on {dependency} is not a stage "
                    f"of this category (stages: {numbers})"
                )
            if dependency >= stage.number:
                raise TemplateFileInvalid(
                    f"{where}, stage {stage.number}: depends_on {dependency} must be an "
                    "earlier stage (a lower number)"
                )

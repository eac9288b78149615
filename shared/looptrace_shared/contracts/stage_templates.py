"""Production's stage templates as a contract: ``stage_templates.json`` beside this module.

Production owns the templates (``looptrace_production/templates.yaml``, operator-editable);
other services that need the shipped plan without a live order (predictions' simulator and its
drivers) read this generated copy instead of keeping one by hand. ``looptrace contracts``
writes it from production's own parser; a contract test fails when it differs from
templates.yaml. Live orders still learn their plan from ``production.stages_initialized``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACT = Path(__file__).with_name("stage_templates.json")


@dataclass(frozen=True)
class TemplateStage:
    """One stage of a category's plan, as production's templates file defines it."""

    number: int
    name: str
    duration_days: int
    optional: bool = False
    qc: bool = False
    milestone: bool = False
    shipping: bool = False
    depends_on: tuple[int, ...] = ()


def render() -> str:
    """The artifact's text, from production's shipped templates file."""
    module = importlib.import_module("looptrace_production.templates")
    templates = module.load_templates()
    document = {
        "source": "services/production/looptrace_production/templates.yaml",
        "categories": {
            key: [dataclasses.asdict(stage) for stage in template.stages]
            for key, template in templates.items()
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path = ARTIFACT) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


@cache
def load() -> dict[str, tuple[TemplateStage, ...]]:
    """Category (normalised name) → its stages, in number order."""
    document: dict[str, Any] = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    return {
        category: tuple(
            TemplateStage(**{**stage, "depends_on": tuple(stage["depends_on"])}) for stage in stages
        )
        for category, stages in document["categories"].items()
    }

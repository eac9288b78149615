"""The shipped rule book: ``rules.yaml``, checked against the templates that ship with it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

from looptrace_notifications.domain.rules import Rule, RuleBook, parse_rules
from looptrace_notifications.rendering import available_templates

RULES_FILE: Final = Path(__file__).parent / "rules.yaml"


@cache
def default_rules() -> RuleBook:
    """The shipped ``rules.yaml``, read and validated once on first use."""
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"), available_templates())


def match(event_type: str, data: Mapping[str, Any]) -> list[Rule]:
    """Who hears this event under the shipped rules (empty when nobody does)."""
    return default_rules().match(event_type, data)

"""The fixed shape of a plan: which stages take part and what each must wait for.

Only an optional stage is skipped, and only when the plan is made, so the shape is worked out
once per plan (when it is made or read back) and never changes after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from looptrace_production.domain.stage import Stage


@dataclass(frozen=True, slots=True)
class Layout:
    """Tuples, not lists: every cached plan keeps its layout (a 10-stage plan's lists took
    about 0.8 KB; a stage without prerequisites shares the empty tuple)."""

    active: tuple[Stage, ...]  # the stages not skipped, in number order
    prerequisites: dict[int, tuple[Stage, ...]]  # by stage number: the active stages it waits for

    @classmethod
    def of(cls, stages: Sequence[Stage]) -> Layout:
        """Templates only depend on earlier stages, so one pass in number order suffices;
        a skipped stage passes its own prerequisites on."""
        by_number = {stage.number: stage for stage in stages}
        prerequisites: dict[int, tuple[Stage, ...]] = {}
        for stage in sorted(stages, key=lambda stage: stage.number):
            found: list[Stage] = []
            for number in stage.depends_on:
                before = by_number[number]
                for prerequisite in prerequisites[number] if before.skipped else (before,):
                    if all(prerequisite is not known for known in found):
                        found.append(prerequisite)
            prerequisites[stage.number] = tuple(found)
        return cls(tuple(stage for stage in stages if not stage.skipped), prerequisites)

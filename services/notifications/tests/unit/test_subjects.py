"""Subjects checked once per context shape give what a full render gives, refusals included."""

from __future__ import annotations

import pytest

from looptrace_notifications import subjects
from looptrace_notifications.rendering import TemplateValueMissing, render
from looptrace_notifications.subjects import subject

from .test_templates import NOTIFICATION_TYPES, SAMPLE


@pytest.mark.parametrize("notification_type", NOTIFICATION_TYPES)
def test_the_subject_is_the_one_a_full_render_gives(notification_type: str) -> None:
    other = {**SAMPLE, "order_number": "PO-2025-043", "stage_name": "Linking", "round": 1}
    for context in (SAMPLE, other, SAMPLE):  # a miss, then hits of the same shape
        assert subject(notification_type, context, 64) == render(notification_type, context).subject


def test_a_missing_value_is_refused_every_time_not_only_the_first() -> None:
    context = {k: v for k, v in SAMPLE.items() if k != "stage_name"}
    for _ in range(2):
        with pytest.raises(TemplateValueMissing, match="stage_name"):
            subject("stage_delayed", context, 64)
    assert subject("stage_delayed", SAMPLE, 64).endswith("Knitting is running late")


def test_a_value_only_the_body_needs_is_checked_too() -> None:
    context = {k: v for k, v in SAMPLE.items() if k != "days_late"}  # not in the subject line
    subject("stage_delayed", SAMPLE, 64)  # this shape renders
    with pytest.raises(TemplateValueMissing, match="days_late"):
        subject("stage_delayed", context, 64)


def test_compared_values_are_part_of_the_shape_and_the_verdicts_are_bounded() -> None:
    subjects._VERDICTS.clear()
    for n in range(1, 6):
        subject("sample_requested", {**SAMPLE, "round": n}, 3)  # its body compares round > 1
    assert len(subjects._VERDICTS) == 3
    assert {key[2] for key in subjects._VERDICTS} == {(3,), (4,), (5,)}  # type: ignore[index]

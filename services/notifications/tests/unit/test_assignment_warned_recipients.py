"""An assignment warning goes to the admin who assigned (when that is a known admin)."""

from __future__ import annotations

from looptrace_notifications.rulebook import match
from looptrace_notifications.services import recipients

ADMINS = ["ops@x.example", "lead@x.example"]


def rule():  # type: ignore[no-untyped-def]
    (found,) = match("production.assignment_warned", {"warnings": ["x"]})
    return found


def test_the_assigning_admin_alone_hears_of_it() -> None:
    assert [r.id for r in recipients(rule(), None, ADMINS, actor="lead@x.example")] == [
        "lead@x.example"
    ]


def test_an_unknown_assigner_means_every_admin() -> None:
    assert [r.id for r in recipients(rule(), None, ADMINS, actor="erp")] == ADMINS
    assert [r.id for r in recipients(rule(), None, ADMINS)] == ADMINS

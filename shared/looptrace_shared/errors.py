"""Error vocabulary shared by every service (plumbing; the rules themselves live in each domain)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class RuleViolation(Exception):
    """A message or request breaks a business rule: refuse it (4xx / dead letter), don't retry.

    Subclasses set ``rule`` (snake_case name carried in the dead-letter header) and
    ``status`` (the HTTP status of the problem response).
    """

    rule: str = "rule_violation"
    status: int = 422
    title: str = "Request breaks a business rule"


class NotFound(RuleViolation):
    rule = "not_found"
    status = 404
    title = "Not found"


class Conflict(RuleViolation):
    rule = "conflict"
    status = 409
    title = "Conflict with the current state"


class StaleVersion(RuleViolation):
    rule = "stale_version"
    status = 412
    title = "Precondition failed: stale version"


class Forbidden(RuleViolation):
    rule = "forbidden"
    status = 403
    title = "Forbidden"


class WaitingFor(Exception):
    """The message refers to something not known yet (e.g. its order): park it and retry later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def as_rule_violation(err: Exception, status: int = 422) -> RuleViolation:
    """Carry a domain rule's error (plain Python) across the service boundary.

    The rule name is the exception class in snake_case (``InvalidTransition`` →
    ``invalid_transition``); the message is the domain's own.
    """
    refusal = RuleViolation(str(err))
    refusal.rule = snake(type(err).__name__)
    refusal.status = status
    refusal.title = type(err).__name__
    return refusal


Refusals = Mapping[type[Exception] | tuple[type[Exception], ...], int]


@contextmanager
def refused_as(statuses: Refusals) -> Iterator[None]:
    """The domain's refusals raised inside become rule violations of their status (HTTP 4xx,
    or a dead letter); the first entry the error is an instance of decides, as ``except``
    clauses in that order would."""
    kinds = tuple(kind for key in statuses for kind in (key if isinstance(key, tuple) else (key,)))
    try:
        yield
    except kinds as err:
        status = next(code for key, code in statuses.items() if isinstance(err, key))
        raise as_rule_violation(err, status) from err

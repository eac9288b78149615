"""How a notification reaches its user (preferences, quiet hours) and how failed
e-mails are retried. Pure: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from looptrace_notifications.domain.errors import NotificationRuleViolation
from looptrace_notifications.domain.rules import Category


class InvalidQuietHours(NotificationRuleViolation):
    """Quiet hours that cannot be applied (empty window, unknown time zone)."""


# ---------------------------------------------------------------- preferences


class DeliveryMode(StrEnum):
    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"


@dataclass(frozen=True)
class QuietHours:
    """No e-mail between ``start`` and ``end`` local time in ``time_zone`` (IANA name).

    A window whose start is after its end crosses midnight (22:00-07:00).
    """

    start: time
    end: time
    time_zone: str

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidQuietHours(
                f"quiet hours start and end are both {self.start}; pick two times"
            )
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidQuietHours(
                f"unknown time zone '{self.time_zone}'; use an IANA name such as 'Europe/Berlin'"
            ) from None

    def ends_at(self, now_utc: datetime) -> datetime | None:
        """When the current quiet window ends (UTC), or ``None`` outside quiet hours."""
        local = now_utc.astimezone(ZoneInfo(self.time_zone))
        now, day = local.time().replace(tzinfo=None), local.date()
        if self.start < self.end:
            quiet = self.start <= now < self.end
        else:
            quiet = now >= self.start or now < self.end
            day = day + timedelta(days=1) if now >= self.start else day
        if not quiet:
            return None
        return datetime.combine(day, self.end, local.tzinfo).astimezone(UTC)


@dataclass(frozen=True)
class Preferences:
    """One user's choices; e-mail is on for every category not in ``email_off``."""

    email_off: frozenset[Category] = frozenset()
    mode: DeliveryMode = DeliveryMode.IMMEDIATE
    quiet_hours: QuietHours | None = None


class DeliveryKind(StrEnum):
    IN_APP_ONLY = "in_app_only"
    EMAIL_NOW = "email_now"
    EMAIL_AT = "email_at"
    DIGEST = "digest"


@dataclass(frozen=True)
class Delivery:
    """How a notification reaches its user. The in-app inbox always gets it."""

    kind: DeliveryKind
    send_at: datetime | None = None

    @property
    def in_app(self) -> bool:
        return True


def decide_delivery(prefs: Preferences, category: Category, now_utc: datetime) -> Delivery:
    """In-app only when e-mail is off for ``category``; in the digest when the user wants
    one; otherwise now, or at the end of quiet hours."""
    if now_utc.tzinfo is None:
        raise ValueError(f"now_utc must carry a time zone (UTC); got naive {now_utc.isoformat()}")
    if category in prefs.email_off:
        return Delivery(DeliveryKind.IN_APP_ONLY)
    if prefs.mode == DeliveryMode.DAILY_DIGEST:
        return Delivery(DeliveryKind.DIGEST)
    quiet_end = prefs.quiet_hours.ends_at(now_utc) if prefs.quiet_hours else None
    if quiet_end is not None:
        return Delivery(DeliveryKind.EMAIL_AT, send_at=quiet_end)
    return Delivery(DeliveryKind.EMAIL_NOW)


# ---------------------------------------------------------------- e-mail retries

SmtpOutcome = Literal["transient", "permanent"]

MAX_ATTEMPTS: Final = 8
#: Failures without an SMTP reply code that retrying cannot fix.
PERMANENT_ERRORS: Final = frozenset({"recipients_refused", "sender_refused", "invalid_address"})
#: The usual failures worth retrying (the vocabulary for ``exc_kind``); unknown
#: kinds are retried too.
TRANSIENT_ERRORS: Final = frozenset(
    {"connection_refused", "connection_reset", "timeout", "server_disconnected"}
)


def classify_smtp(code: int | None, exc_kind: str | None) -> SmtpOutcome:
    """4xx replies are transient, 5xx permanent. Without such a code, kinds in
    ``PERMANENT_ERRORS`` are permanent and everything else (connection refused,
    timeouts, unknown kinds) transient: retried, but at most ``MAX_ATTEMPTS`` times."""
    if code is not None and 400 <= code < 500:
        return "transient"
    if code is not None and 500 <= code < 600:
        return "permanent"
    return "permanent" if exc_kind in PERMANENT_ERRORS else "transient"


def should_retry(outcome: SmtpOutcome, attempt: int) -> bool:
    """Whether to try again after ``attempt`` (1-based) failed with ``outcome``."""
    return outcome == "transient" and attempt < MAX_ATTEMPTS


def next_attempt_delay(
    attempt: int, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed ``attempt`` (1-based): uniform in
    ``[0, min(cap, base * 2 ** (attempt - 1))]`` ("full jitter")."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1; got {attempt}")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))
    return (rng or random.Random()).uniform(0.0, ceiling)

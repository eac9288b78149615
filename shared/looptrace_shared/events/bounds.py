"""Bounded field types shared by every wire contract and HTTP schema.

A value that passes these types fits the column that stores it: strings no longer than the
column, no control characters, integers within int32, money within ``Numeric(14, 4)``, dates
in a sane range. A refusal names the field and says what to send instead, over HTTP (422) and
on Kafka (the dead letter's reason).

Ids: every id that can appear in a URL path or a file name (order id, order number, buyer,
supplier, inspection, message, photo and model ids) matches ``ID_PATTERN``: 1–64 characters,
letters, digits and ``. _ - @ +``, starting with a letter or digit (so never ``..`` or ``/``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, EmailStr, Field, validate_email
from pydantic.config import JsonDict

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"
ID_MAX = 64
SUBJECT_MAX = 320  # a token's subject: an id, or an admin's e-mail
SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,319}$"
INT32_MAX = 2**31 - 1
QUANTITY_MAX = 10_000_000
MONEY_DIGITS, MONEY_PLACES = 14, 4
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
LIST_MAX = 50  # photo URLs, attachments
DEFECTS_MAX = 100  # defect lines of one inspection or inline check
PROGRESS_LIST_MAX = 1000  # reports in one POST /v1/progress
NOTE_MAX = 4000
URL_MAX = 2000

_ID = re.compile(ID_PATTERN)
_SUBJECT = re.compile(SUBJECT_PATTERN)
_LINE_OK = {"\t"}
_TEXT_OK = {"\t", "\n", "\r"}


# the characters of categories Cc (U+0000-001F, U+007F-009F) and Cs (surrogates) but those
# allowed: one regular-expression scan in C finds whether a value has any (most have none);
# only then does the loop below look for the first, to name it
_LINE_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _controls(value: str, allowed: set[str], bad: re.Pattern[str]) -> str:
    if bad.search(value) is None:
        return value
    for i, ch in enumerate(value):
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError(
                f"control character U+{ord(ch):04X} at position {i} is not allowed; "
                "send printable text"
            )
    return value


def _no_controls_in_line(value: str) -> str:
    return _controls(value, _LINE_OK, _LINE_BAD)


def _no_controls_in_text(value: str) -> str:
    return _controls(value, _TEXT_OK, _TEXT_BAD)


def check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value[:80]!r} is not a valid id: use 1-64 letters, digits and . _ - @ +, "
            "starting with a letter or digit"
        )
    return value


def check_subject(value: str) -> str:
    if not _SUBJECT.match(value):
        raise ValueError("use 1-320 letters, digits and . _ - @ +, starting with a letter or digit")
    return value


def _in_range(value: Any) -> Any:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{value} is outside {EARLIEST}..{LATEST}; check the year")
    return value


_LINE_SCHEMA: JsonDict = {"pattern": r"^[^\x00-\x08\x0a-\x1f\x7f-\x9f]*$"}
_TEXT_SCHEMA: JsonDict = {"pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"}


def Line(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads as a type
    """One line of text (names, codes, references): no control characters."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, json_schema_extra=_LINE_SCHEMA),
        AfterValidator(_no_controls_in_line),
    ]


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads as a type
    """Free text (notes, messages): new lines and tabs allowed, other control characters not."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, json_schema_extra=_TEXT_SCHEMA),
        AfterValidator(_no_controls_in_text),
    ]


Id = Annotated[
    str,
    Field(min_length=1, max_length=ID_MAX, json_schema_extra={"pattern": ID_PATTERN}),
    AfterValidator(check_id),
]
Name = Line(200, 1)
Code = Line(100, 1)
Url = Line(URL_MAX, 1)
DelayReason = Line(32, 1)
MessageId = Line(128, 1)
DefectClass = Line(16, 1)
DefectType = Line(32, 1)
Note = Text(NOTE_MAX)
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Quantity = Annotated[int, Field(gt=0, le=QUANTITY_MAX)]
StageNumber = Annotated[int, Field(ge=1, le=100)]
Money = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=10 ** (MONEY_DIGITS - MONEY_PLACES),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        allow_inf_nan=False,
    ),
]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Day = Annotated[date, AfterValidator(_in_range)]
Moment = Annotated[datetime, AfterValidator(_in_range)]


EMAIL_MEMO = 4096  # distinct addresses remembered (a few buyers and suppliers send most messages)


@functools.lru_cache(maxsize=EMAIL_MEMO)
def _valid_email(value: str) -> str:
    """pydantic's e-mail check (email-validator: tens of microseconds an address) once per
    address: a refusal raises and is not remembered."""
    return validate_email(value)[1]


class Email(EmailStr):
    """``EmailStr`` (same checks, errors and JSON schema), each distinct address checked once."""

    @classmethod
    def _validate(cls, input_value: str, /) -> str:
        return _valid_email(input_value)

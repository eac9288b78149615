"""Bounded path and query parameters shared by every service's routes (see events/bounds.py).

``IdPath`` / ``IdQuery``: an id in the documented safe pattern (``ID_PATTERN``), so no path
part ever carries ``/``, ``..`` or a control character. ``CursorQuery``: an opaque page cursor
(bounded; each service checks its parts).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query
from pydantic import AfterValidator

from looptrace_shared.events.bounds import ID_MAX, ID_PATTERN, check_id

CURSOR_MAX = 512
_ID_DOC = "letters, digits and . _ - @ + (1-64, starting with a letter or digit)"

IdPath = Annotated[
    str,
    Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description=_ID_DOC),
    AfterValidator(check_id),
]
IdQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description=_ID_DOC),
]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX,
        pattern=r"^[A-Za-z0-9_=-]*$",
        description="the next_cursor of the previous page; omit for the first",
    ),
]


def if_match_version(value: str | None, what: str = "the resource") -> int | None:
    """The version an ``If-Match: "<n>"`` header names (ASCII digits only), or None."""
    from looptrace_shared.errors import RuleViolation

    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise RuleViolation(
            f"If-Match must be {what}'s version as an ETag, e.g. '\"3\"'; got {value[:40]!r}"
        )
    return int(raw)


IfMatchHeader = Annotated[str | None, Header(alias="If-Match", max_length=64)]

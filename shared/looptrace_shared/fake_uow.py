"""A unit of work without a database, for the reaction logic that needs none.

A reaction whose batch was preloaded (the context holds the rows it works on) decides, changes
those rows, adds rows and emits events: all of that can be checked without PostgreSQL. A
``FakeUnitOfWork`` keeps what the reaction emitted (``events``: the envelopes as they would go
to the outbox, decoded) and added (``fake.added``); a query is refused with a clear error, so
a test notices when the logic it calls reads the database after all (test that one against
PostgreSQL, as the integration tests do). Commit is the real one's: the rows move to ``published``, then the after-commit hooks run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_shared.db import Plumbing, UnitOfWork
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.incoming import Incoming, Record, parse_record


class NeedsTheDatabase(AssertionError):
    """The logic under test queried the database: it is no pure reaction logic."""


@dataclass
class FakeSession:
    """What a reaction may do to a session without a database: add rows."""

    added: list[Any] = field(default_factory=list)
    commits: int = 0

    async def commit(self) -> None:
        self.commits += 1

    def add(self, row: Any) -> None:
        self.added.append(row)

    def add_all(self, rows: Any) -> None:
        self.added.extend(rows)

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        raise NeedsTheDatabase(f"the logic under test queried the database: {statement}")

    scalar = scalars = get = flush = execute


class FakeUnitOfWork(UnitOfWork):
    """A ``UnitOfWork`` whose outbox stays in memory and whose session is a ``FakeSession``."""

    def __init__(self) -> None:
        super().__init__(cast(AsyncSession, FakeSession()), cast(Plumbing, None))
        self.published: list[dict[str, Any]] = []  # outbox rows of the committed transactions
        self.dead_letters: list[dict[str, Any]] = []  # and their dead letters

    @property
    def fake(self) -> FakeSession:
        return cast(FakeSession, self.session)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every envelope emitted so far (committed or not), decoded, in order."""
        return [orjson.loads(row["value"]) for row in [*self.published, *self._outbox]]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]

    async def flush_outbox(self) -> None:  # the commit (the real one's) then clears the rows
        self.published += self._outbox
        self.dead_letters += self._dedup_rows


def incoming(type_: str, subject: str, data: dict[str, Any], topic: str = "test") -> Incoming:
    """A consumed message as the batch processor hands it on: an envelope parsed and validated."""
    value = new_envelope(type_, "test", subject, data).to_bytes()
    parsed = parse_record(Record(topic, 0, 0, subject.encode(), value))
    if not isinstance(parsed, Incoming):
        raise ValueError(f"not a valid {type_} message: {parsed.error}")
    return parsed

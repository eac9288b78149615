"""A batch's writes to the read model as one statement: one round trip instead of nine.

Each write (the orders' upsert, the stage facts', each rollup's deltas, inspections,
replies) is an ``INSERT … SELECT … FROM json_to_recordset(:rows)`` on a table of its own;
``Writes`` runs those a batch has rows for as data-modifying CTEs of one statement. They
share a snapshot and touch different tables, so together they do what they did one after
the other. On a loaded machine each round trip waits for PostgreSQL's backend to be
scheduled again, so the number of statements, not their work, bounded the feed.
The parts are always in name order (concurrent lanes lock rows table by table in the same
order), and the statement for a set of parts is built once (prepared once per connection).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession


class Writes:
    def __init__(self) -> None:
        self.parts: dict[str, tuple[str, str]] = {}

    def put(self, name: str, sql: TextClause, rows: str) -> None:
        """Add the part ``name``: ``sql`` binds its rows (one JSON text) as ``:rows``."""
        if name in self.parts:
            raise ValueError(f"part {name} is already in this batch's writes")
        self.parts[name] = (sql.text, rows)

    async def run(self, session: AsyncSession) -> None:
        if not self.parts:
            return
        names = tuple(sorted(self.parts))
        statement = _statement(tuple((n, self.parts[n][0]) for n in names))
        params: dict[str, Any] = {f"rows_{n}": self.parts[n][1] for n in names}
        self.parts.clear()
        await session.execute(statement, params)


@cache
def _statement(parts: tuple[tuple[str, str], ...]) -> TextClause:
    ctes = ", ".join(f"w_{n} AS ({sql.replace(':rows', f':rows_{n}')})" for n, sql in parts)
    return text(f"WITH {ctes} SELECT 1")

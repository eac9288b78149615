"""The declarative base of the ``predictions`` schema: one metadata for every table module.

Its own module so that ``models`` and ``analytics.tables`` both build on it without importing
each other's tables; ``models`` imports ``analytics.tables`` so that its metadata holds them all.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from looptrace_shared.db import plumbing_tables, service_metadata

SCHEMA = "predictions"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


plumbing = plumbing_tables(Base.metadata)

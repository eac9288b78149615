"""The column types every service's tables use, named once (``Mapped[Key]``): SQLAlchemy merges
the ``mapped_column`` of the annotation with the one on the attribute (``primary_key``,
``index``, ``default``), and ``Mapped[Key | None]`` is the nullable column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import MappedColumn, mapped_column

Key = Annotated[str, mapped_column(String(64))]  # an id: of an order, a supplier, a buyer...
Label = Annotated[str, mapped_column(String(100))]  # a category, a carrier, a reference
Name = Annotated[str, mapped_column(String(200))]  # a person's or a company's name
Email = Annotated[str, mapped_column(String(320))]  # an address (RFC 5321's longest)
Moment = Annotated[datetime, mapped_column(DateTime(timezone=True))]
Created = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]
Serial = Annotated[int, mapped_column(primary_key=True, autoincrement=True)]


def belongs_to(column: str) -> MappedColumn[Any]:
    """A row's parent (``schema.table.id``): indexed, and deleted with it."""
    return mapped_column(ForeignKey(column, ondelete="CASCADE"), index=True)

"""Migration operations every service schema shares: the plumbing tables (outbox, inbox,
parked messages), version 1. Frozen: a change to the plumbing is a new function used by a
new revision, never an edit of this one."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def _created_at(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def create_plumbing_v1(schema: str) -> None:
    _create_inbox(schema)
    _create_outbox(schema)
    _create_parked_messages(schema)


def _create_inbox(schema: str) -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        _created_at("processed_at"),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=op.f("pk_inbox")),
        schema=schema,
    )


def _create_outbox(schema: str) -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        _created_at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_dedup_key")),
        schema=schema,
    )


def _create_parked_messages(schema: str) -> None:
    op.create_table(
        "parked_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("consumer_group", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _created_at("parked_at"),
        _created_at("next_attempt_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_messages")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_parked_messages_subject"),
        "parked_messages",
        ["subject"],
        unique=False,
        schema=schema,
    )


def use_lz4(table: str, column: str) -> None:
    """Compress ``table.column`` with lz4 where the server has it (else keep the default)."""
    op.execute(
        f"""
        DO $$ BEGIN
            ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
        END $$
        """
    )


def drop_plumbing_v1(schema: str) -> None:
    op.drop_index(op.f("ix_parked_messages_subject"), table_name="parked_messages", schema=schema)
    op.drop_table("parked_messages", schema=schema)
    op.drop_table("outbox", schema=schema)
    op.drop_table("inbox", schema=schema)


def create_archive_v1(schema: str, archive: str, tables: tuple[str, ...]) -> None:
    """Retention's cold storage: ``archive`` holds tables with the columns, keys and indexes of
    the live ``tables`` (``LIKE … INCLUDING CONSTRAINTS INCLUDING INDEXES``) but no defaults and
    no foreign keys: rows arrive only by the retention move, which copies every column. A later
    revision that adds a column to one of these live tables adds it to the archive table too."""
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {archive}")
    for table in tables:
        op.execute(
            f"CREATE TABLE {archive}.{table} "
            f"(LIKE {schema}.{table} INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )


def drop_archive_v1(archive: str, tables: tuple[str, ...]) -> None:
    for table in reversed(tables):
        op.execute(f"DROP TABLE {archive}.{table}")
    op.execute(f"DROP SCHEMA {archive}")


def create_order_completions_v1(schema: str) -> None:
    """When orders said each order completed (``looptrace_shared.archive.completions_table``)."""
    op.create_table(
        "order_completions",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_completions")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_order_completions_completed_at"),
        "order_completions",
        ["completed_at"],
        schema=schema,
    )

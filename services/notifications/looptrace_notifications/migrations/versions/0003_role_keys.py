"""inbox, preferences and stream keyed by (role, subject)

A supplier or admin whose subject equals a buyer's id must not read that buyer's inbox or
preferences: notifications are unique per (event, role, recipient) and looked up by role and
recipient; preferences get a ``role`` column in their key. Existing preferences take the role
their owner's notifications carry (a buyer when there are none or several).

Revision ID: 0003_role_keys
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_role_keys"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "notifications"


def upgrade() -> None:
    op.add_column(
        "preferences",
        sa.Column("role", sa.String(length=32), server_default="buyer", nullable=False),
        schema=S,
    )
    op.execute(
        f"""UPDATE {S}.preferences p SET role = n.role
            FROM (SELECT recipient_id, min(recipient_role) AS role FROM {S}.notifications
                  GROUP BY recipient_id HAVING count(DISTINCT recipient_role) = 1) n
            WHERE n.recipient_id = p.user_id"""
    )
    op.drop_constraint("pk_preferences", "preferences", schema=S, type_="primary")
    op.create_primary_key("pk_preferences", "preferences", ["role", "user_id"], schema=S)
    op.drop_constraint(
        "uq_notifications_source_event_id_recipient_id", "notifications", schema=S, type_="unique"
    )
    op.create_unique_constraint(
        "uq_notifications_source_event_id_recipient_role_recipient_id",
        "notifications",
        ["source_event_id", "recipient_role", "recipient_id"],
        schema=S,
    )
    for name, cols in _indexes():
        op.drop_index(name, table_name="notifications", schema=S)
        op.create_index(name, "notifications", ["recipient_role", *cols], schema=S)


def _indexes() -> list[tuple[str, list[str]]]:
    return [
        ("ix_notifications_recipient_unread", ["recipient_id", "read_at", "id"]),
        ("ix_notifications_recipient_id", ["recipient_id", "id"]),
    ]


def downgrade() -> None:
    for name, cols in _indexes():
        op.drop_index(name, table_name="notifications", schema=S)
        op.create_index(name, "notifications", cols, schema=S)
    op.drop_constraint(
        "uq_notifications_source_event_id_recipient_role_recipient_id",
        "notifications",
        schema=S,
        type_="unique",
    )
    op.create_unique_constraint(
        "uq_notifications_source_event_id_recipient_id",
        "notifications",
        ["source_event_id", "recipient_id"],
        schema=S,
    )
    op.drop_constraint("pk_preferences", "preferences", schema=S, type_="primary")
    op.execute(
        f"DELETE FROM {S}.preferences a USING {S}.preferences b "
        "WHERE a.user_id = b.user_id AND a.role > b.role"
    )
    op.create_primary_key("pk_preferences", "preferences", ["user_id"], schema=S)
    op.drop_column("preferences", "role", schema=S)

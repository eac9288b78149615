"""read receipts say who read in which role

A subject is unique within a role only (a buyer and a supplier may both be "acme"), so a read
receipt keyed by the subject alone could not tell them apart. Existing receipts get the role the
reader has on the message's order (its buyer, its supplier, else admin).

Revision ID: 0004_reader_role
Revises: 0003_webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reader_role"
down_revision = "0003_webhooks"
branch_labels = None
depends_on = None

TABLE = "message_reads"
SCHEMA = "notifications"


def upgrade() -> None:
    op.add_column(
        TABLE,
        sa.Column("reader_role", sa.String(length=16), nullable=False, server_default="admin"),
        schema=SCHEMA,
    )
    op.execute(
        """
        UPDATE notifications.message_reads r
           SET reader_role = CASE WHEN r.reader_id = c.buyer_id THEN 'buyer'
                                  WHEN r.reader_id = c.supplier_id THEN 'supplier'
                                  ELSE 'admin' END
          FROM notifications.messages m
          JOIN notifications.order_contacts c ON c.order_id = m.order_id
         WHERE m.id = r.message_id
        """
    )
    op.alter_column(TABLE, "reader_role", server_default=None, schema=SCHEMA)
    op.drop_constraint("pk_message_reads", TABLE, schema=SCHEMA)
    op.create_primary_key(
        "pk_message_reads", TABLE, ["message_id", "reader_role", "reader_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM notifications.message_reads a USING notifications.message_reads b
         WHERE a.message_id = b.message_id AND a.reader_id = b.reader_id
           AND a.reader_role > b.reader_role
        """
    )
    op.drop_constraint("pk_message_reads", TABLE, schema=SCHEMA)
    op.create_primary_key("pk_message_reads", TABLE, ["message_id", "reader_id"], schema=SCHEMA)
    op.drop_column(TABLE, "reader_role", schema=SCHEMA)

"""order documents: typed, versioned files per order (tech packs, BOMs, POs, certificates, ...)

Revision ID: 0006_order_documents
Revises: 0005
Create Date: 2026-12-01 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_order_documents"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("uploaded_by", sa.String(length=320), nullable=False),
        sa.Column("uploaded_role", sa.String(length=16), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_documents")),
        sa.UniqueConstraint(
            "document_id", "version", name=op.f("uq_order_documents_document_id_version")
        ),
        schema="production",
    )
    op.create_index(
        op.f("ix_order_documents_document_id"),
        "order_documents",
        ["document_id"],
        unique=False,
        schema="production",
    )
    op.create_index(
        op.f("ix_order_documents_order_id"),
        "order_documents",
        ["order_id"],
        unique=False,
        schema="production",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_order_documents_order_id"), table_name="order_documents", schema="production"
    )
    op.drop_index(
        op.f("ix_order_documents_document_id"), table_name="order_documents", schema="production"
    )
    op.drop_table("order_documents", schema="production")

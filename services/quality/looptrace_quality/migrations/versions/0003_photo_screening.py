"""photo pre-screening: screenings of stage photos and people's labels of them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_screenings",
        sa.Column("photo_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("stage_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("cols", sa.Integer(), nullable=True),
        sa.Column("flagged", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("overlay", sa.LargeBinary(), nullable=True),
        sa.Column("features", sa.LargeBinary(), nullable=True),
        sa.Column("feature_count", sa.Integer(), nullable=True),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["quality.order_lots.order_id"],
            name=op.f("fk_photo_screenings_order_id_order_lots"),
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_photo_screenings")),
        schema="quality",
    )
    op.create_index(
        op.f("ix_photo_screenings_order_id"),
        "photo_screenings",
        ["order_id"],
        unique=False,
        schema="quality",
    )
    op.create_table(
        "screening_labels",
        sa.Column("photo_id", sa.String(length=64), nullable=False),
        sa.Column("tile", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("labelled_by", sa.String(length=200), nullable=False),
        sa.Column(
            "labelled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["quality.photo_screenings.photo_id"],
            name=op.f("fk_screening_labels_photo_id_photo_screenings"),
        ),
        sa.PrimaryKeyConstraint("photo_id", "tile", name=op.f("pk_screening_labels")),
        schema="quality",
    )


def downgrade() -> None:
    op.drop_table("screening_labels", schema="quality")
    op.drop_index(
        op.f("ix_photo_screenings_order_id"),
        table_name="photo_screenings",
        schema="quality",
    )
    op.drop_table("photo_screenings", schema="quality")

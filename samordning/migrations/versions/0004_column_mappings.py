"""Column mappings given by hand, kept per layout of an export's header row so the next file of the same
layout is read without asking again.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "column_mappings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layout", sa.String(32), nullable=False, index=True),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("column_mappings")

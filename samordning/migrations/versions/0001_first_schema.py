"""First schema: uploads (with the original bytes) and the ledger rows read from them.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sheet", sa.String(255), nullable=False),
        sa.Column("header_row", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("agreement_id", "sha256", name="uq_uploads_agreement_sha256"),
    )
    op.create_table(
        "ledger_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=False, index=True),
        sa.Column("sheet", sa.String(255), nullable=False),
        sa.Column("excel_row", sa.Integer, nullable=False),
        sa.Column("booking_date", sa.Date),
        sa.Column("period", sa.String(7)),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("cost_centre", sa.String(64), nullable=False),
        sa.Column("activity", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("counterpart", sa.String(64), nullable=False),
        sa.Column("voucher", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("row_kind", sa.String(8), nullable=False),
    )

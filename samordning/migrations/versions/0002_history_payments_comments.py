"""History and corrections, payments and withholdings, comments.

- upload_months: which months an upload covers, and which later upload replaced each (corrections);
- upload_events: what happened to an upload, by whom and when (imported, replaced, reinstated);
- uploads.summary: counts and sums of rows counted and left out at import time (JSON text);
- payments, withholdings (§10), comments with their history.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("summary", sa.Text, nullable=False, server_default="{}"))
        batch.drop_column("status")  # derived from upload_months from now on
    op.create_table(
        "upload_months",
        sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("replaced_by", sa.Integer, sa.ForeignKey("uploads.id")),
    )
    op.create_index("ix_ledger_rows_upload_period", "ledger_rows", ["upload_id", "period"])
    op.create_table(
        "upload_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False, index=True),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("invoice_no", sa.String(64), nullable=False),
        sa.Column("invoiced_on", sa.Date),
        sa.Column("paid_on", sa.Date),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "withholdings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False, index=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("withheld_on", sa.Date, nullable=False),
        sa.Column("released_on", sa.Date),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False, index=True),
        sa.Column("quarter", sa.String(6)),
        sa.Column("area", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes", sa.Integer, sa.ForeignKey("comments.id")),
    )
    # Uploads stored by the first schema cover the months of their rows; none was replaced then.
    op.execute(
        "INSERT INTO upload_months (upload_id, period) "
        "SELECT DISTINCT upload_id, period FROM ledger_rows WHERE period IS NOT NULL"
    )
    # The first schema had no correction rule: apply it now, the newest upload of a month wins.
    op.execute(
        "UPDATE upload_months SET replaced_by = (SELECT MAX(o.upload_id) FROM upload_months o "
        "JOIN uploads u ON u.id = o.upload_id "
        "WHERE o.period = upload_months.period AND o.upload_id > upload_months.upload_id "
        "AND u.agreement_id = (SELECT agreement_id FROM uploads WHERE id = upload_months.upload_id))"
    )
    op.execute(
        "INSERT INTO upload_events (upload_id, action, detail, by, at) "
        "SELECT id, 'imported', '', uploaded_by, uploaded_at FROM uploads"
    )

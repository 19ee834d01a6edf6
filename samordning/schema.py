"""The database schema as SQLAlchemy tables: what the store writes and the queries read.

The schema itself is created and upgraded by the Alembic migrations in ``migrations/``; these tables mirror it
(indexes live in the migrations only).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
uploads = sa.Table(
    "uploads", metadata,
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
    sa.Column("summary", sa.Text, nullable=False),
)
ledger_rows = sa.Table(
    "ledger_rows", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=False),
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
    sa.Column("dimensions", sa.Text),  # JSON: every SIE dimension, number → object ({"2": "K12"}); NULL for none
)
upload_months = sa.Table(
    "upload_months", metadata,
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("replaced_by", sa.Integer, sa.ForeignKey("uploads.id")),
)
upload_events = sa.Table(
    "upload_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
payments = sa.Table(
    "payments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("quarter", sa.String(6), nullable=False),
    sa.Column("invoice_no", sa.String(64), nullable=False),
    sa.Column("invoiced_on", sa.Date),
    sa.Column("paid_on", sa.Date),
    sa.Column("amount_ore", sa.BigInteger, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
withholdings = sa.Table(
    "withholdings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("area", sa.String(64), nullable=False),
    sa.Column("amount_ore", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("withheld_on", sa.Date, nullable=False),
    sa.Column("released_on", sa.Date),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_by", sa.String(128)),                   # who released it (migration 0007)
    sa.Column("released_at", sa.DateTime(timezone=True)),       # when the release was recorded
)
comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("quarter", sa.String(6)),
    sa.Column("area", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("supersedes", sa.Integer, sa.ForeignKey("comments.id")),
    sa.Column("kind", sa.String(16), nullable=False, server_default="variance"),  # or "narrative" (§7)
)
signoffs = sa.Table(
    "signoffs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("quarter", sa.String(6), nullable=False),
    sa.Column("party_role", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("title", sa.String(128), nullable=False),
    sa.Column("signed_on", sa.Date),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
final_reports = sa.Table(
    "final_reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), nullable=False),
    sa.Column("quarter", sa.String(6), nullable=False),
    sa.Column("presented_on", sa.Date, nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("figures", sa.Text, nullable=False),
    sa.Column("uploads", sa.Text, nullable=False),
    sa.Column("replaces", sa.Integer, sa.ForeignKey("final_reports.id")),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("agreement_version", sa.Integer, sa.ForeignKey("agreement_versions.id")),  # the version it used
)
column_mappings = sa.Table(
    "column_mappings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("layout", sa.String(32), nullable=False),
    sa.Column("columns", sa.Text, nullable=False),       # JSON: canonical name → header as written
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
agreements = sa.Table(
    "agreements", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
agreement_versions = sa.Table(
    "agreement_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.String(64), sa.ForeignKey("agreements.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("toml", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("signed_on", sa.Date),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("diff", sa.Text, nullable=False),
    sa.Column("findings", sa.Text, nullable=False),   # JSON: the agreement check's findings on this version
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("agreement_id", "number", name="uq_agreement_versions_number"),
)
ROW_COLUMNS = [c.name for c in ledger_rows.columns if c.name not in ("id", "upload_id", "dimensions")]
"""The columns a ledger row shows (in the views, the CLI and the report's sheets)."""
STORED_COLUMNS = [*ROW_COLUMNS, "dimensions"]
"""The columns an import writes: those shown and the row's SIE dimensions (read by a "sie:N" mapping)."""

"""Agreements in the store, with versions (issue #20).

- agreements: one row per agreement id, who first stored it and when;
- agreement_versions: every version of an agreement — its TOML text as written, its status (utkast/undertecknat)
  and signing date (§12), who saved it, when (UTC), why, the difference from the version before, and the
  agreement check's findings on it (JSON) — never changed afterwards; the newest version is in force;
- final_reports.agreement_version: the version a finalized report was computed with.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), sa.ForeignKey("agreements.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("toml", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signed_on", sa.Date),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agreement_id", "number", name="uq_agreement_versions_number"),
    )
    with op.batch_alter_table("final_reports") as batch:
        batch.add_column(sa.Column("agreement_version", sa.Integer,
                                   sa.ForeignKey("agreement_versions.id", name="fk_final_reports_version")))


def downgrade() -> None:
    with op.batch_alter_table("final_reports") as batch:
        batch.drop_column("agreement_version")
    op.drop_table("agreement_versions")
    op.drop_table("agreements")

"""Reporting back on the assignment (§7): narratives, sign-off and finalized reports.

- comments.kind: "variance" (a comment on a variance) or "narrative" (what was done in an area, results
  against the assignment, what is late and why); both keep their history the same way;
- signoffs: who signs the report for each party, per quarter (the newest entry counts);
- final_reports: a report as presented to samverkansrådet — the file, its figures, the uploads it rests on and
  its sha256 — never changed afterwards.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="variance"))
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False, index=True),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("party_role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("title", sa.String(128), nullable=False, server_default=""),
        sa.Column("signed_on", sa.Date),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "final_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.String(64), nullable=False, index=True),
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
    )


def downgrade() -> None:
    op.drop_table("final_reports")
    op.drop_table("signoffs")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("kind")

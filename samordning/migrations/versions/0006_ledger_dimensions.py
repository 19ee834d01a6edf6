"""Every SIE dimension of a ledger row, kept by number as JSON text (``{"2": "K12", "7": "4711"}``; NULL for
rows without any), so that an agreement may map its areas by any SIE dimension (``mapping.dimension =
"sie:2"``). The covering index of 0005 does not include it: sums by a SIE dimension read the table.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_rows") as batch:
        batch.add_column(sa.Column("dimensions", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_rows") as batch:
        batch.drop_column("dimensions")

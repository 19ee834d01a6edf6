"""Who released a withholding, and when the release was recorded: every stored change carries a name
(issue 17). Releases recorded before this migration have neither (NULL).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("withholdings") as batch:
        batch.add_column(sa.Column("released_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("withholdings") as batch:
        batch.drop_column("released_at")
        batch.drop_column("released_by")

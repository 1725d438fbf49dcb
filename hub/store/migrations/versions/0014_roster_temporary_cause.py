"""feeds: the cause of a 临时救助 grant on roster rows

``RosterRow.cause`` (``TemporaryCause``): why a temporary-assistance grant was made, optional (other programmes
leave it unset), stored as a short code like the other enumerations. Only the records table gets the column:
the field is not compared, so ``feed_rosters_by_person`` (the table every comparison probes, whose PostgreSQL key
includes each of its columns) stays as it was; the repeat rule looks the cause up by (version, row_number) for the
few persons listed more than once. Rows received before this revision have no cause.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feed_rosters", sa.Column("cause", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("feed_rosters", "cause")

"""comparison: the narrow sightings of known findings

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finding_sightings",
        sa.Column("finding", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("finding", name=op.f("pk_finding_sightings")),
        postgresql_with={"fillfactor": 50},
    )


def downgrade() -> None:
    op.drop_table("finding_sightings")

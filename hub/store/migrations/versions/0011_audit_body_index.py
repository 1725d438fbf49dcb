"""audit: the retention purge's index covers only the entries that keep a body

The purge nulls the bodies recorded before a cutoff (``payload IS NOT NULL``); the signed queries' entries keep
none, yet each of their appends wrote a page of the index by time. A partial index serves the purge alone and
leaves the query path one page lighter per commit.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_WITH_BODY = sa.text("payload IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_audit_entries_recorded_at", table_name="audit_entries")
    op.create_index(
        "ix_audit_entries_bodies",
        "audit_entries",
        ["recorded_at"],
        unique=False,
        sqlite_where=_WITH_BODY,
        postgresql_where=_WITH_BODY,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_bodies", table_name="audit_entries")
    op.create_index("ix_audit_entries_recorded_at", "audit_entries", ["recorded_at"], unique=False)

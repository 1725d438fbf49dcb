"""feeds: the persons a feed version shares with a roster version, matched when a version completes

A database upgraded from 0007 has no matches yet: its first comparison matches the current versions (as slow
as a comparison was before), and completed versions are matched as they arrive from then on.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store._base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_roster_matches",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("roster_version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.LargeBinary(length=16), nullable=False),
        sa.PrimaryKeyConstraint("version", "roster_version", "token", name=op.f("pk_feed_roster_matches")),
        comment="person tokens found both in a feed version and in a roster version (pairs in feed_roster_pairs)",
        sqlite_with_rowid=False,
    )
    op.create_table(
        "feed_roster_pairs",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("roster_version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("matched_at", hub.store._base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "roster_version", name=op.f("pk_feed_roster_pairs")),
    )


def downgrade() -> None:
    op.drop_table("feed_roster_pairs")
    op.drop_table("feed_roster_matches")

"""SQLite: the tables every signed query writes lose a B-tree each

``audit_entries.seq`` becomes the rowid (declared INTEGER), ``audit_subjects`` and ``seen_messages`` become
WITHOUT ROWID tables (their primary key is the table). Each request then writes three fewer pages to the
WAL. SQLite rebuilds the tables (copying their rows); PostgreSQL has nothing to change.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _rebuild(lean: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    seq_to, seq_from = (sa.Integer(), sa.BigInteger()) if lean else (sa.BigInteger(), sa.Integer())
    with op.batch_alter_table("audit_entries", recreate="always") as batch:
        batch.alter_column("seq", type_=seq_to, existing_type=seq_from, existing_nullable=False)
    for table in ("audit_subjects", "seen_messages"):
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": not lean}):
            pass


def upgrade() -> None:
    _rebuild(lean=True)


def downgrade() -> None:
    _rebuild(lean=False)

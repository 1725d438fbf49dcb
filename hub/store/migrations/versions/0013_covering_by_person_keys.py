"""feeds: on PostgreSQL the by-person tables' primary keys carry the compared values

A comparison probes each feed's by-person table by (version, token) for the few persons a roster shares with
it, and the roster's own for each of them. On SQLite those tables are ``WITHOUT ROWID``, so the key is the table;
on PostgreSQL each probe read the index and then a heap page for each row. With the other columns included in
the key's index the probes read the index alone (the four large feeds' stages and the roster's: a 1 M-person
comparison 3.55–3.8 → 3.3 s, alternate runs on one kept database). The indexes are rebuilt, once.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_KEY = ("version", "token", "row_number")


def _rebuild_keys(*, covering: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table in sorted(inspector.get_table_names()):
        if not (table.startswith("feed_") and table.endswith("_by_person")):
            continue
        others = [column["name"] for column in inspector.get_columns(table) if column["name"] not in _KEY]
        include = f" INCLUDE ({', '.join(others)})" if covering and others else ""
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
            f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(_KEY)}){include}"
        )


def upgrade() -> None:
    _rebuild_keys(covering=True)


def downgrade() -> None:
    _rebuild_keys(covering=False)

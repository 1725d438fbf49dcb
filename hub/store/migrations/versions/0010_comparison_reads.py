"""feeds: what a comparison reads, without leaving the by-person tables

The rosters' by-person table gets a covering index by household: a comparison counts the members of the
households a per-capita rule may flag through it, instead of reading the whole roster. The properties'
by-person table gets the certificate number (rules count homes by distinct certificate), copied from the
records of the versions already stored, so that a comparison no longer looks each matched record up.
Versions completing from now on fill both as they are written (hub.feeds._writes).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEX = "ix_feed_rosters_by_person_household"
_COLUMNS = ["version", "household_head_token", "locality", "status", "since", "until", "token"]
_CERTIFICATE = sa.String(length=64)


def upgrade() -> None:
    op.create_index(op.f(_INDEX), "feed_rosters_by_person", _COLUMNS, unique=False)
    op.add_column("feed_properties_by_person", sa.Column("certificate_number", _CERTIFICATE, nullable=True))
    op.execute(
        "UPDATE feed_properties_by_person SET certificate_number = (SELECT r.certificate_number "
        "FROM feed_properties AS r WHERE r.version = feed_properties_by_person.version "
        "AND r.row_number = feed_properties_by_person.row_number)"
    )
    with op.batch_alter_table("feed_properties_by_person", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.alter_column("certificate_number", existing_type=_CERTIFICATE, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_properties_by_person", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.drop_column("certificate_number")
    op.drop_index(op.f(_INDEX), table_name="feed_rosters_by_person")

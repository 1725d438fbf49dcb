"""Who is enrolled: the persons a cross-check or re-check goes through, read from the civil-affairs roster feed.

The roster (救助对象名册) names each person, the household head, the programme and the paying locality, but
not the person's 户籍 region: that comes from public security when the cross-check asks. A source that knows
it (a bureau's own system) may fill ``hukou_region``; the cross-check then routes by it directly.

Enrolments come in pages ordered by token, so a run's checkpoint is one token ("carry on after this one").
Raw ID numbers are decrypted only to be asked about; ``Enrolment`` never shows them in its ``repr``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from hub.errors import UnknownMember
from hub.feeds import current_versions, kind_by_code, record_tables
from hub.privacy import FieldCipher
from hub.registry import Directory
from hub.store import Store
from hub.store.models import FeedVersionRow

#: Roster statuses that are still paid (渐退期 included).
PAID = ("active", "gradual_exit")


@dataclass(frozen=True)
class Enrolment:
    token: bytes
    id_number: str = field(repr=False)
    programme: str
    locality: str
    household_head: bytes | None = None
    #: GB/T 2260 code of the 户籍, when the source knows it; else asked of public security.
    hukou_region: str = ""
    #: Member that supplied the roster row (the paying bureau, normally).
    supplier: str = ""
    since: dt.date | None = None

    @property
    def key(self) -> str:
        """The item key in a run's ledger: the token in hex, never the number."""
        return self.token.hex()


def paying_bureau(directory: Directory | None, enrolment: Enrolment) -> str:
    """The bureau a finding goes to: civil affairs of the paying locality, else the roster's supplier."""
    if directory is not None:
        try:
            return directory.current.route("civil-affairs", enrolment.locality).member_id
        except UnknownMember:
            pass
    return enrolment.supplier


class EnrolmentSource(Protocol):
    def count(self) -> int:
        """How many enrolled persons there are (for progress)."""
        ...

    def page(self, after: bytes, limit: int) -> Sequence[Enrolment]:
        """Up to ``limit`` enrolments with token greater than ``after``, in token order, one per person."""
        ...

    def households(self, heads: Collection[bytes]) -> dict[bytes, list[str]]:
        """The ID numbers of the enrolled members of each household (by head token)."""
        ...


ROSTER = kind_by_code("roster")
RECORDS, BY_PERSON = record_tables(ROSTER)
_NUMBER_AAD = f"{ROSTER.table}.id_number_enc".encode()


class RosterEnrolments:
    """``EnrolmentSource`` over the current versions of the roster feeds (every supplier's).

    Pages are cut on the by-person table (clustered by version and token), then joined to the rows for the
    encrypted numbers: a page is ``limit`` persons however many programmes each has.
    """

    def __init__(self, store: Store, cipher: FieldCipher) -> None:
        self.store = store
        self.cipher = cipher

    @staticmethod
    def _paid(session: Session) -> ColumnElement[bool]:
        versions = current_versions(session, ROSTER.code)
        return BY_PERSON.c.version.in_(versions) & BY_PERSON.c.status.in_(PAID)

    def count(self) -> int:
        with self.store.session() as session:
            query = select(func.count(func.distinct(BY_PERSON.c.token))).where(self._paid(session))
            return int(session.scalar(query) or 0)

    def _rows(self, session: Session, which: ColumnElement[bool]) -> Sequence[Row[Any]]:
        person = BY_PERSON.c
        return session.execute(
            select(
                person.token,
                RECORDS.c.id_number_enc,
                person.household_head_token,
                person.programme,
                person.locality,
                person.since,
                FeedVersionRow.supplier,
            )
            .join(RECORDS, (RECORDS.c.version == person.version) & (RECORDS.c.row_number == person.row_number))
            .join(FeedVersionRow, FeedVersionRow.id == person.version)
            .where(self._paid(session), which)
            .order_by(person.token, person.version, person.row_number)
        ).all()

    def page(self, after: bytes, limit: int) -> list[Enrolment]:
        with self.store.session() as session:
            tokens = (
                select(BY_PERSON.c.token)
                .where(self._paid(session), BY_PERSON.c.token > after)
                .group_by(BY_PERSON.c.token)
                .order_by(BY_PERSON.c.token)
                .limit(limit)
            )
            rows = self._rows(session, BY_PERSON.c.token.in_(tokens.scalar_subquery()))
        enrolments: dict[bytes, Enrolment] = {}
        for row in rows:
            if row.token in enrolments:
                continue  # a second programme or supplier for the same person: one check per person
            enrolments[row.token] = Enrolment(
                token=row.token,
                id_number=self.cipher.decrypt(row.id_number_enc, _NUMBER_AAD),
                programme=row.programme,
                locality=row.locality,
                household_head=row.household_head_token,
                supplier=row.supplier,
                since=row.since,
            )
        return list(enrolments.values())

    def households(self, heads: Collection[bytes]) -> dict[bytes, list[str]]:
        if not heads:
            return {}
        with self.store.session() as session:
            rows = self._rows(session, BY_PERSON.c.household_head_token.in_(list(heads)))
        members: dict[bytes, dict[bytes, str]] = {}
        for row in rows:
            household = members.setdefault(row.household_head_token, {})
            if row.token not in household:
                household[row.token] = self.cipher.decrypt(row.id_number_enc, _NUMBER_AAD)
        return {head: list(numbers.values()) for head, numbers in members.items()}

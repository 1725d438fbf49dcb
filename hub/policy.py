"""Header policies: small objects, each checking one rule, composed in one place (``default_policy``).

Modelled on sigstore-python's verification policies: ``check`` returns nothing and raises a
``hub.errors.PolicyError`` that explains itself to the officer who sent the message. A policy sees
an envelope that has already been verified; none of them parses the body.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Connection, delete, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import services
from hub.audit._models import AuditEntryRow
from hub.audit._writer import LOGGED_REQUEST
from hub.envelope import Opened, to_datetime
from hub.errors import (
    Expired,
    InvalidArgument,
    NotGranted,
    NotYetValid,
    Replayed,
    ServiceMismatch,
    UnknownMember,
    WrongRecipient,
)
from hub.registry import DirectorySnapshot, Member
from hub.store import Store
from hub.store._base import time_binder
from hub.store._engine import PinnedConnection
from hub.store.models import SeenMessageRow
from hub.validation import check_timestamp


@dataclass(frozen=True)
class Call:
    """What a policy knows about the call besides the envelope: the RPC, the time, the registry."""

    service: str
    now: dt.datetime
    directory: DirectorySnapshot
    hub_id: str


class HeaderPolicy(Protocol):
    def check(self, opened: Opened, call: Call) -> None: ...


@dataclass(frozen=True)
class AllOf:
    """Every policy must pass; the first failure is raised."""

    policies: tuple[HeaderPolicy, ...]

    def check(self, opened: Opened, call: Call) -> None:
        for policy in self.policies:
            policy.check(opened, call)


def resolve_recipient(recipient: str, directory: DirectorySnapshot) -> Member:
    """A member id, or a routed address ``<kind>@<region code>`` (longest-prefix jurisdiction)."""
    if "@" in recipient:
        kind, _, region = recipient.partition("@")
        return directory.route(kind, region)
    return directory.member(recipient)


@dataclass(frozen=True)
class RecipientIsHubOrMember:
    """The recipient must be whoever answers the service: a routable member (by id or by region) for a routed
    service, this hub itself for every other (consent, administration, audit, jobs, feeds, the household check).

    A message the hub answers itself but addressed to a member would otherwise be consumed by the hub, and
    its signed header would claim an exchange with that member that never happened.
    """

    routed: frozenset[str] = services.ROUTED

    def check(self, opened: Opened, call: Call) -> None:
        recipient = opened.header.recipient
        if call.service not in self.routed:
            if recipient != call.hub_id:
                raise WrongRecipient(
                    f"{call.service} is answered by this hub itself: address it to {call.hub_id!r}, not {recipient!r}",
                    recipient=recipient,
                )
            return
        if recipient == call.hub_id:
            raise WrongRecipient(
                f"{call.service} is answered by a member, not by the hub itself: address the member or "
                "<kind>@<region code>",
                recipient=recipient,
            )
        try:
            member = resolve_recipient(recipient, call.directory)
        except UnknownMember:
            raise WrongRecipient(
                f"recipient {recipient!r} is neither this hub nor a member it can route to", recipient=recipient
            ) from None
        if member.revoked:
            raise WrongRecipient(f"recipient {recipient} is revoked", recipient=recipient)


class ServiceMatchesCall:
    """A message signed for one service cannot be replayed against another."""

    def check(self, opened: Opened, call: Call) -> None:
        if opened.header.service != call.service:
            raise ServiceMismatch(
                f"the message is for {opened.header.service or 'no service'} but was sent to {call.service}",
                expected=call.service,
            )


@dataclass(frozen=True)
class ValidityWindow:
    """issued_at ≤ now + skew ≤ … and now − skew ≤ expires_at, with a bounded window length."""

    skew: dt.timedelta = dt.timedelta(minutes=2)
    longest: dt.timedelta = dt.timedelta(hours=1)

    def check(self, opened: Opened, call: Call) -> None:
        header = opened.header
        if not header.HasField("issued_at") or not header.HasField("expires_at"):
            raise InvalidArgument("header.issued_at", "issued_at and expires_at are required")
        check_timestamp(header.issued_at, "header.issued_at")
        check_timestamp(header.expires_at, "header.expires_at")
        # Plain epoch seconds: converting Timestamps to datetimes costs more than the whole check.
        issued, expires = epoch(header.issued_at), epoch(header.expires_at)
        now, skew = call.now.timestamp(), self.skew.total_seconds()
        if expires <= issued:
            raise InvalidArgument("header.expires_at", "expires_at must be after issued_at")
        if expires - issued > self.longest.total_seconds():
            window = dt.timedelta(seconds=expires - issued)
            raise InvalidArgument(
                "header.expires_at", f"a message may be valid for at most {self.longest}, not {window}"
            )
        if issued - skew > now:
            raise NotYetValid(
                f"the message is issued at {to_datetime(header.issued_at):%Y-%m-%d %H:%M:%S}Z, in the future"
            )
        if expires + skew < now:
            raise Expired(f"the message expired at {to_datetime(header.expires_at):%Y-%m-%d %H:%M:%S}Z")


class SenderIsGranted:
    """The sender holds a grant for this service and purpose (or for any purpose)."""

    def check(self, opened: Opened, call: Call) -> None:
        purpose = opened.header.purpose.code
        if not call.directory.is_granted(opened.sender, call.service, purpose):
            raise NotGranted(
                f"{opened.sender} holds no grant for {call.service} with purpose {purpose or '(none)'}",
                service=call.service,
                purpose=purpose,
            )


def epoch(stamp: Timestamp) -> float:
    return stamp.seconds + stamp.nanos / 1e9


@dataclass
class ReplayGuard:
    """Accepts a message id once within its validity window, remembered in the database.

    ``check_fresh`` reads (cheap, no write lock) before anything is routed; ``remember_on`` inserts
    inside the transaction that records the request, where the primary key settles any race.
    Run it last: a message rejected for another reason must not use up its id.

    With ``in_audit_log``, the hub's audit log is the memory: every accepted request has an entry of kind
    ``request`` under its message id, written in the same transaction as everything else the request
    leaves, so a second copy in ``seen_messages`` would only cost a write per request. The append checks
    the id under the log's lock (``AuditLog.append_on(..., new_request=...)``), which settles races between
    hub processes as the primary key does here; ``check_fresh`` then reads both the log and
    ``seen_messages`` (ids accepted while the log was off).
    """

    store: Store
    skew: dt.timedelta = dt.timedelta(minutes=2)
    in_audit_log: bool = False
    _recent: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reads = PinnedConnection(self.store.engine)
        mark = self._mark = "?" if self.store.engine.dialect.paramstyle == "qmark" else "%s"
        self._seen = f"SELECT 1 FROM seen_messages WHERE message_id = {mark}"
        if self.in_audit_log:
            self._seen += f" UNION ALL {LOGGED_REQUEST.format(mark=mark)}"

    def check_fresh(self, opened: Opened) -> None:
        """Refuse an id this process, an earlier run of it, or another replica already accepted.

        One primary-key read on a plain DBAPI cursor: SQLAlchemy's per-statement bookkeeping would
        cost more than the read itself, and this runs on every request.
        """
        message_id = opened.header.message_id
        if message_id in self._recent:
            raise Replayed(f"message {message_id} was already accepted", message_id=message_id)
        with self._reads.use() as connection:
            cursor = connection.cursor()
            cursor.execute(self._seen, (message_id,) * (2 if self.in_audit_log else 1))
            seen = cursor.fetchone() is not None
            cursor.close()
            connection.rollback()  # end the read transaction (PostgreSQL opens one implicitly)
        if seen:
            raise Replayed(f"message {message_id} was already accepted", message_id=message_id)

    def remember_on(self, connection: Connection, opened: Opened) -> None:
        """Insert the id; a duplicate raises ``IntegrityError`` (the caller maps it to ``Replayed``).

        A plain statement on the writer's DBAPI connection: this runs once per request, and SQLAlchemy's
        per-statement bookkeeping would cost more than the insert. The driver's integrity error is raised
        as SQLAlchemy's, which is what callers catch.
        """
        header = opened.header
        until = dt.datetime.fromtimestamp(epoch(header.expires_at), dt.UTC) + self.skew
        dialect = connection.dialect
        cursor = connection.connection.cursor()
        try:
            cursor.execute(
                f"INSERT INTO seen_messages (message_id, sender, expires_at) VALUES ({self._mark}, {self._mark}, "
                f"{self._mark})",
                (header.message_id, header.sender, time_binder(dialect)(until)),
            )
        except dialect.loaded_dbapi.IntegrityError as error:
            raise IntegrityError("INSERT INTO seen_messages", None, error) from None
        finally:
            cursor.close()

    def note(self, opened: Opened) -> None:
        if len(self._recent) > 100_000:
            self._recent.clear()
        self._recent[opened.header.message_id] = epoch(opened.header.expires_at)

    def check(self, opened: Opened, call: Call) -> None:
        """As a standalone policy: check and remember at once, in a transaction of its own."""
        self.check_fresh(opened)
        try:
            with self.store.engine.begin() as connection:
                self.remember_on(connection, opened)
        except IntegrityError:
            raise Replayed(f"message {opened.header.message_id} was already accepted") from None
        self.note(opened)

    def close(self) -> None:
        self._reads.close()

    def purge(self, now: dt.datetime) -> int:
        """Forget ids whose window has closed: they would be rejected as expired anyway."""
        with self.store.session() as session:
            result = session.execute(delete(SeenMessageRow).where(SeenMessageRow.expires_at < now))
            return int(getattr(result, "rowcount", 0) or 0)


def remembered_ids(session: Session) -> set[str]:
    """Every message id the replay memory holds: ``seen_messages`` and the audit log's requests."""
    logged = select(AuditEntryRow.message_id).where(AuditEntryRow.kind == "request")
    return set(session.scalars(union(select(SeenMessageRow.message_id), logged)))


def default_policy(*, skew: dt.timedelta, longest: dt.timedelta) -> AllOf:
    """The header checks, in the order a rejection is most useful to the sender.

    Replay is not among them: ``ReplayGuard`` runs after the body is validated too, as the very
    last step, so that a message refused for any reason has not used up its id.
    """
    return AllOf(
        (
            ServiceMatchesCall(),
            RecipientIsHubOrMember(),
            ValidityWindow(skew=skew, longest=longest),
            SenderIsGranted(),
        )
    )

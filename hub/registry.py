"""The member registry: who may send, with which keys, for what, and where to route a question.

Backed by the store; lookups on the hot path go through ``Directory``, an in-process snapshot
refreshed every few seconds, so a signed query costs no registry round trip to the database.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.envelope import VerifyingKey
from hub.errors import FailedPrecondition, InvalidArgument, KeyRevoked, NotFound, UnknownMember, UnknownSender
from hub.store import Store
from hub.store._base import utcnow
from hub.store.models import CertificateRow, GrantRow, JurisdictionRow, MemberRow, SigningKeyRow

log = logging.getLogger(__name__)

ANY_PURPOSE = "*"
T = TypeVar("T")

#: Member kinds the hub knows; a member of another kind is refused so typos do not create dead routes.
KINDS = (
    "hub",
    "civil-affairs",
    "public-security",
    "education",
    "hrss",
    "housing",
    "medical-insurance",
    "rural-revitalisation",
    "market-regulation",
    "tax",
    "housing-fund",
    "disabled-persons",
    "health",
    "bank",
)


@dataclass(frozen=True)
class Member:
    member_id: str
    kind: str
    name: str
    endpoint: str
    jurisdictions: tuple[str, ...]
    revoked: bool

    @classmethod
    def from_row(cls, row: MemberRow) -> Member:
        prefixes = (j.prefix for j in row.jurisdictions)
        return cls.of(row.member_id, row.kind, row.name, row.endpoint, prefixes, row.revoked_at)

    @classmethod
    def of(
        cls, member_id: str, kind: str, name: str, endpoint: str, prefixes: Iterable[str], revoked_at: object
    ) -> Member:
        """From the stored columns (``revoked_at`` set: revoked), as a row object or a snapshot's plain rows give them."""
        return cls(member_id, kind, name, endpoint, tuple(sorted(prefixes)), revoked=revoked_at is not None)


def _split_member_id(member_id: str) -> tuple[str, str]:
    from hub.identifiers import validate_member_id

    return validate_member_id(member_id)


def _verifying_key(pem: bytes, member_id: str, field: str) -> VerifyingKey:
    """Parse a member's public key; a value that is not one (or of no supported suite) names its field."""
    try:
        return VerifyingKey.from_pem(pem, owner=member_id)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidArgument(field, "not a PEM public key of a supported signature suite") from None


def _validate_prefix(prefix: str) -> str:
    from hub.identifiers import validate_region_prefix

    return validate_region_prefix(prefix)


class Registry:
    """Writes and reads of the registry tables. Every method runs in its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Public keys already parsed, by (keyid, PEM, owner): a snapshot parses only keys it has not seen.
        self._parsed: dict[tuple[str, bytes, str], VerifyingKey] = {}

    def add_member(
        self,
        member_id: str,
        *,
        kind: str,
        name: str | None = None,
        jurisdictions: Iterable[str] = (),
        endpoint: str | None = None,
        signing_keys: Iterable[bytes] = (),
    ) -> Member:
        """Add (or update) a member with its signing keys (PEM), all in one transaction: a refusal leaves
        nothing behind, not a member without the keys it was meant to have.

        On an update, a ``name`` or ``endpoint`` of ``None`` keeps the stored one (``""`` clears it), so adding a
        key or a jurisdiction to a member does not cut it off from its agency node."""
        uscc, subsystem = _split_member_id(member_id)
        if kind not in KINDS:
            raise InvalidArgument("kind", f"unknown member kind {kind!r}; known kinds: {', '.join(KINDS)}")
        prefixes = sorted({_validate_prefix(p) for p in jurisdictions})
        keys = [
            _verifying_key(pem, member_id, f"signing_keys[{i}].public_key_pem") for i, pem in enumerate(signing_keys)
        ]

        def add(session: Session) -> Member:
            row = session.get(MemberRow, member_id)
            if row is None:
                row = MemberRow(member_id=member_id, uscc=uscc, subsystem=subsystem)
                session.add(row)
            elif row.revoked_at is not None:
                raise FailedPrecondition(f"member {member_id} is revoked; a revoked member is not re-added")
            row.kind = kind
            if name is not None or row.name is None:
                row.name = name or ""
            if endpoint is not None or row.endpoint is None:
                row.endpoint = endpoint or ""
            known = {j.prefix for j in row.jurisdictions}
            row.jurisdictions.extend(JurisdictionRow(prefix=p) for p in prefixes if p not in known)
            session.flush()
            for key in keys:
                self._add_key(session, member_id, key)
            return Member.from_row(row)

        return self._adding(add)

    def set_endpoint(self, member_id: str, endpoint: str) -> None:
        with self.store.session() as session:
            self._row(session, member_id).endpoint = endpoint

    def add_signing_key(self, member_id: str, public_key_pem: bytes) -> str:
        key = _verifying_key(public_key_pem, member_id, "public_key_pem")

        def add(session: Session) -> str:
            self._row(session, member_id)
            self._add_key(session, member_id, key)
            return key.keyid

        return self._adding(add)

    def _adding(self, add: Callable[[Session], T]) -> T:
        """Run ``add`` in a transaction of its own, and once more if a concurrent transaction inserted the same
        row first (hub replicas starting together each register the hub): the second run finds that row."""
        try:
            with self.store.session() as session:
                return add(session)
        except IntegrityError:
            with self.store.session() as session:
                return add(session)

    @staticmethod
    def _add_key(session: Session, member_id: str, key: VerifyingKey) -> None:
        existing = session.get(SigningKeyRow, key.keyid)
        if existing is not None and existing.member_id != member_id:
            raise FailedPrecondition(f"signing key {key.keyid[:16]}… already belongs to {existing.member_id}")
        if existing is None:
            session.add(
                SigningKeyRow(keyid=key.keyid, member_id=member_id, suite=key.suite.name, public_key_pem=key.pem())
            )

    def add_certificate(self, member_id: str, cert_pem: bytes) -> str:
        from hub.pki import fingerprint, load_certificate

        certificate = load_certificate(cert_pem)  # InvalidArgument, not ValueError, for what is not a certificate
        print_ = fingerprint(certificate)
        with self.store.session() as session:
            self._row(session, member_id)
            if session.get(CertificateRow, print_) is None:
                session.add(
                    CertificateRow(
                        fingerprint=print_,
                        member_id=member_id,
                        serial=format(certificate.serial_number, "x"),
                        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                        not_after=certificate.not_valid_after_utc,
                    )
                )
        return print_

    def grant(self, member_id: str, service: str, purpose_code: str = ANY_PURPOSE) -> None:
        if not service or "/" not in service:
            raise InvalidArgument("service", f"{service!r} is not a service name like hub.v1.Verification/Method")
        with self.store.session() as session:
            self._row(session, member_id)
            if session.get(GrantRow, (member_id, service, purpose_code)) is None:
                session.add(GrantRow(member_id=member_id, service=service, purpose_code=purpose_code))

    def revoke_grant(self, member_id: str, service: str, purpose_code: str = ANY_PURPOSE) -> None:
        with self.store.session() as session:
            row = session.get(GrantRow, (member_id, service, purpose_code))
            if row is not None:
                session.delete(row)

    def revoke_member(self, member_id: str, reason: str = "") -> None:
        """Revoke a member with every key and certificate it holds."""
        now = utcnow()
        with self.store.session() as session:
            row = self._row(session, member_id)
            row.revoked_at = row.revoked_at or now
            row.revocation_reason = reason
            for key in row.signing_keys:
                key.revoked_at = key.revoked_at or now
            for certificate in row.certificates:
                certificate.revoked_at = certificate.revoked_at or now

    def revoke_key(self, keyid: str, member_id: str | None = None) -> None:
        """Revoke one signing key; with ``member_id``, only if it is that member's (else ``NotFound``)."""
        with self.store.session() as session:
            row = session.get(SigningKeyRow, keyid)
            if row is None or (member_id is not None and row.member_id != member_id):
                # an operator's mistake, not an unauthenticated sender
                of = f" of member {member_id}" if member_id is not None else ""
                raise NotFound(f"no signing key{of} has id {keyid[:16]}…", keyid=keyid)
            row.revoked_at = row.revoked_at or utcnow()

    def revoke_certificate(self, fingerprint: str, member_id: str | None = None) -> None:
        """Revoke one TLS certificate; with ``member_id``, only if it is that member's."""
        with self.store.session() as session:
            row = session.get(CertificateRow, fingerprint)
            if row is None or (member_id is not None and row.member_id != member_id):
                of = f" of member {member_id}" if member_id is not None else ""
                raise UnknownMember(f"no certificate{of} has fingerprint {fingerprint[:16]}…")
            row.revoked_at = row.revoked_at or utcnow()

    def get(self, member_id: str) -> Member:
        with self.store.session() as session:
            return Member.from_row(self._row(session, member_id))

    def members(self, kind: str | None = None) -> list[Member]:
        with self.store.session() as session:
            query = select(MemberRow).order_by(MemberRow.member_id)
            if kind:
                query = query.where(MemberRow.kind == kind)
            return [Member.from_row(row) for row in session.scalars(query)]

    def grants(self, member_id: str) -> list[tuple[str, str]]:
        with self.store.session() as session:
            return [(g.service, g.purpose_code) for g in self._row(session, member_id).grants]

    def snapshot(self) -> DirectorySnapshot:
        """Everything the hot path needs, read in one transaction.

        Plain rows, not ORM objects, and keys parsed once per registry: every hub process rebuilds this every
        ``directory.cache_seconds`` on its event loop, and for 3,000 members loading the objects (each with
        its collections) and parsing every key took ~600 ms each time.
        """
        with self.store.session() as session:
            prefixes: dict[str, list[str]] = {}
            for member_id, prefix in session.execute(select(JurisdictionRow.member_id, JurisdictionRow.prefix)):
                prefixes.setdefault(member_id, []).append(prefix)
            members = {
                member_id: Member.of(member_id, kind, name, endpoint, prefixes.get(member_id, ()), revoked_at)
                for member_id, kind, name, endpoint, revoked_at in session.execute(
                    select(
                        MemberRow.member_id, MemberRow.kind, MemberRow.name, MemberRow.endpoint, MemberRow.revoked_at
                    ).order_by(MemberRow.created_at, MemberRow.member_id)  # routing's tie-break: the first registered
                )
            }
            parsed, self._parsed = self._parsed, {}
            keys = {}
            for keyid, member_id, pem, revoked_at in session.execute(
                select(
                    SigningKeyRow.keyid, SigningKeyRow.member_id, SigningKeyRow.public_key_pem, SigningKeyRow.revoked_at
                )
            ):
                pem = bytes(pem)
                key = parsed.get((keyid, pem, member_id)) or VerifyingKey.from_pem(pem, owner=member_id)
                self._parsed[keyid, pem, member_id] = key
                keys[keyid] = (key, revoked_at is not None or members[member_id].revoked)
            certificates = {
                fingerprint: (member_id, revoked_at is not None or members[member_id].revoked)
                for fingerprint, member_id, revoked_at in session.execute(
                    select(CertificateRow.fingerprint, CertificateRow.member_id, CertificateRow.revoked_at)
                )
            }
            grants = frozenset(
                (member_id, service, purpose)
                for member_id, service, purpose in session.execute(
                    select(GrantRow.member_id, GrantRow.service, GrantRow.purpose_code)
                )
            )
        return DirectorySnapshot(members, keys, certificates, grants)

    @staticmethod
    def _row(session: Session, member_id: str) -> MemberRow:
        row = session.get(MemberRow, member_id)
        if row is None:
            raise UnknownMember(f"no member {member_id} is registered", member=member_id)
        return row


@dataclass(frozen=True)
class DirectorySnapshot:
    members: dict[str, Member]
    keys: dict[str, tuple[VerifyingKey, bool]]
    certificates: dict[str, tuple[str, bool]]
    grants: frozenset[tuple[str, str, str]]

    def lookup(self, keyid: str) -> VerifyingKey:
        try:
            key, revoked = self.keys[keyid]
        except KeyError:
            raise UnknownSender(f"no registered signing key has id {keyid[:16]}…", keyid=keyid) from None
        if revoked:
            raise KeyRevoked(f"signing key {keyid[:16]}… of {key.owner} has been revoked", keyid=keyid)
        return key

    def member(self, member_id: str) -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise UnknownMember(f"no member {member_id} is registered", member=member_id) from None

    def is_granted(self, member_id: str, service: str, purpose_code: str) -> bool:
        return (member_id, service, purpose_code) in self.grants or (
            member_id,
            service,
            ANY_PURPOSE,
        ) in self.grants

    def certificate_owner(self, fingerprint: str) -> str:
        """The member a TLS certificate belongs to; ``KeyRevoked`` if revoked, ``UnknownSender`` if unknown."""
        try:
            member_id, revoked = self.certificates[fingerprint]
        except KeyError:
            raise UnknownSender(f"TLS certificate {fingerprint[:16]}… is not registered to any member") from None
        if revoked:
            raise KeyRevoked(f"TLS certificate {fingerprint[:16]}… of {member_id} has been revoked")
        return member_id

    def route(self, kind: str, region_code: str) -> Member:
        """The active member of ``kind`` whose jurisdiction is the longest prefix of ``region_code``."""
        for length in range(len(region_code), 0, -1):
            member = self._jurisdictions.get((kind, region_code[:length]))
            if member is not None:
                return member
        raise UnknownMember(f"no {kind} member has jurisdiction over region {region_code}", kind=kind)

    @functools.cached_property
    def _jurisdictions(self) -> dict[tuple[str, str], Member]:
        """(kind, prefix) → the active member answering for it (the first registered, if two claim it): every
        routed request looks its recipient up here, in a handful of probes whatever the number of members."""
        index: dict[tuple[str, str], Member] = {}
        for member in self.members.values():
            if not member.revoked:
                for prefix in member.jurisdictions:
                    index.setdefault((member.kind, prefix), member)
        return index

    def of_kind(self, kinds: Sequence[str]) -> list[Member]:
        return [m for m in self.members.values() if m.kind in kinds and not m.revoked]


class Directory:
    """A thread-safe, periodically refreshed ``DirectorySnapshot``; also a ``KeyRing``.

    A snapshot older than ``ttl`` is still served while a thread reads the next one, so that no request waits
    for the registry to be read (tens of milliseconds for thousands of members); one older than twice ``ttl``
    (or after ``invalidate``, or with ``ttl`` 0) is read before answering. A change made elsewhere is therefore
    seen within about ``ttl`` on a busy hub and at most ``2 × ttl`` on any.
    """

    def __init__(self, registry: Registry, *, ttl: float = 2.0) -> None:
        self.registry = registry
        self.ttl = ttl
        self._lock = threading.Lock()
        self._snapshot: DirectorySnapshot | None = None
        self._loaded_at = -math.inf
        #: Bumped by ``invalidate``: a background read that began before it must not be installed.
        self._generation = 0
        self._refreshing = False

    @property
    def current(self) -> DirectorySnapshot:
        snapshot, age = self._snapshot, time.monotonic() - self._loaded_at
        if snapshot is not None and age <= self.ttl:
            return snapshot
        if snapshot is not None and age <= 2 * self.ttl:
            self._refresh_in_background()
            return snapshot
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._loaded_at > 2 * self.ttl:
                started = time.monotonic()
                self._snapshot = self.registry.snapshot()
                self._loaded_at = started
            return self._snapshot

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
            generation = self._generation
        threading.Thread(target=self._refresh, args=(generation,), name="directory-refresh", daemon=True).start()

    def _refresh(self, generation: int) -> None:
        started = time.monotonic()
        try:
            snapshot: DirectorySnapshot | None = self.registry.snapshot()
        except Exception:  # the registry cannot be read now: served stale until it is due to be read in line
            log.warning("the member directory could not be refreshed", exc_info=True)
            snapshot = None
        with self._lock:
            # Not if this process invalidated the directory meanwhile, nor over a snapshot read after this one.
            if snapshot is not None and generation == self._generation and started > self._loaded_at:
                self._snapshot, self._loaded_at = snapshot, started
            self._refreshing = False

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._loaded_at = -math.inf

    def lookup(self, keyid: str) -> VerifyingKey:
        return self.current.lookup(keyid)

"""Consent (核查授权书): the household's signed authorisation that economic-status queries need.

社会救助暂行办法 Art. 58 lets a county query registries only at the household's request or with its
authorisation. A registration records who signed (every adult member), whom it covers, which data
(scopes: member kinds such as ``hrss`` or service names), until when, and the hash of the signed
document; it is revocable. Persons are held as tokens only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.message import Message as ProtoMessage
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from hub import services
from hub.envelope import Opened
from hub.errors import ConsentExpired, ConsentMissing, ConsentOutOfScope, FailedPrecondition, InvalidArgument
from hub.identifiers import validate_id_number
from hub.policy import Call
from hub.privacy import Tokenizer
from hub.store import Store
from hub.store._base import utcnow
from hub.store.models import ConsentRow, ConsentSubjectRow
from hub.v1.verification_pb2 import ConsentReceipt, ConsentRegistration, ConsentRevocation
from hub.validation import moment

if TYPE_CHECKING:
    from hub.exchange import EffectHandler

ANY_SCOPE = "*"


@dataclass(frozen=True)
class Consent:
    consent_ref: str
    registered_by: str
    scopes: frozenset[str]
    valid_until: dt.datetime
    revoked: bool
    covered: frozenset[bytes]


class ConsentBook:
    def __init__(self, store: Store, tokenizer: Tokenizer) -> None:
        self.store = store
        self.tokenizer = tokenizer

    def register(
        self,
        registered_by: str,
        registration: ConsentRegistration,
        *,
        now: dt.datetime | None = None,
        session: Session | None = None,
    ) -> str:
        """Record an authorisation; every signer must be covered, and it must still be valid.

        ``session``: write in the caller's transaction (the journal's) rather than one of its own.
        """
        now = now or utcnow()
        signers = [
            validate_id_number(v, f"signer_id_numbers[{i}]") for i, v in enumerate(registration.signer_id_numbers)
        ]
        covered = [
            validate_id_number(v, f"covered_id_numbers[{i}]") for i, v in enumerate(registration.covered_id_numbers)
        ]
        if not signers:
            raise InvalidArgument("signer_id_numbers", "every adult member must sign; no signer was given")
        if not covered:
            raise InvalidArgument("covered_id_numbers", "name the household members the authorisation covers")
        if not set(signers) <= set(covered):
            raise InvalidArgument("signer_id_numbers", "each signer must also be one of the covered members")
        scopes = sorted({s.strip() for s in registration.scopes if s.strip()})
        if not scopes or any(" " in s for s in scopes):
            raise InvalidArgument("scopes", "name the data the household authorised (e.g. hrss, housing)")
        if not registration.HasField("valid_until"):
            raise InvalidArgument("valid_until", "an authorisation must be valid until a future date")
        valid_until = moment(registration.valid_until, "valid_until")
        if valid_until <= now:
            raise InvalidArgument("valid_until", "an authorisation must be valid until a future date")
        if len(registration.document_sha256) != 32:
            raise InvalidArgument("document_sha256", "give the SHA-256 (32 bytes) of the signed document")
        consent_ref = str(uuid.uuid4())
        with self.store.session_or(session) as session:
            session.add(
                ConsentRow(
                    consent_ref=consent_ref,
                    registered_by=registered_by,
                    scopes=" ".join(scopes),
                    valid_until=valid_until,
                    document_sha256=registration.document_sha256,
                )
            )
            rows = {(self.tokenizer.token(n), "signer") for n in signers}
            rows |= {(self.tokenizer.token(n), "covered") for n in covered}
            session.add_all(ConsentSubjectRow(consent_ref=consent_ref, token=t, role=r) for t, r in rows)
        return consent_ref

    def revoke(self, consent_ref: str, revoked_by: str, reason: str = "", *, session: Session | None = None) -> None:
        with self.store.session_or(session) as session:
            row = session.get(ConsentRow, consent_ref)
            if row is None or row.registered_by != revoked_by:
                raise ConsentMissing(f"no authorisation {consent_ref} registered by {revoked_by}")
            if row.revoked_at is not None:
                raise FailedPrecondition(f"authorisation {consent_ref} is already revoked")
            row.revoked_at, row.revocation_reason = utcnow(), reason

    def get(self, consent_ref: str) -> Consent | None:
        with self.store.session() as session:
            row = session.get(ConsentRow, consent_ref)
            if row is None:
                return None
            covered = session.scalars(
                select(ConsentSubjectRow.token).where(
                    ConsentSubjectRow.consent_ref == consent_ref, ConsentSubjectRow.role == "covered"
                )
            )
            return Consent(
                consent_ref=row.consent_ref,
                registered_by=row.registered_by,
                scopes=frozenset(row.scopes.split()),
                valid_until=row.valid_until,
                revoked=row.revoked_at is not None,
                covered=frozenset(covered),
            )

    def require(
        self,
        consent_ref: str,
        *,
        requester: str,
        subjects: Iterable[str],
        scopes: Iterable[str],
        now: dt.datetime | None = None,
    ) -> Consent:
        """Raise unless ``consent_ref`` is this requester's, valid now, and covers these persons and scopes."""
        if not consent_ref:
            raise ConsentMissing("this service needs the household's authorisation (核查授权书); none was referenced")
        consent = self.get(consent_ref)
        if consent is None or consent.registered_by != requester:
            raise ConsentMissing(f"no authorisation {consent_ref} is registered by {requester}")
        if consent.revoked:
            raise ConsentExpired(f"authorisation {consent_ref} has been revoked")
        if consent.valid_until <= (now or utcnow()):
            raise ConsentExpired(f"authorisation {consent_ref} expired on {consent.valid_until:%Y-%m-%d}")
        # Tokens were taken under the key current at registration: after a rotation, look under every held key.
        missing = [n for n in subjects if consent.covered.isdisjoint(self.tokenizer.every_token(n))]
        if missing:
            raise ConsentOutOfScope(
                f"authorisation {consent_ref} does not cover {len(missing)} of the persons asked about"
            )
        outside = sorted(set(scopes) - consent.scopes) if ANY_SCOPE not in consent.scopes else []
        if outside:
            raise ConsentOutOfScope(
                f"authorisation {consent_ref} does not cover {', '.join(outside)}", scopes=",".join(outside)
            )
        return consent


def consent_handlers(book: ConsentBook) -> dict[str, EffectHandler]:
    """The Consent service, answered by the hub itself; each registration or revocation commits with its
    audit entries."""

    def register(request: Opened, call: Call, connection: Connection) -> ProtoMessage:
        with book.store.joined(connection) as session:
            consent_ref = book.register(request.sender, request.body(ConsentRegistration), session=session)
        return ConsentReceipt(consent_ref=consent_ref, active=True)

    def revoke(request: Opened, call: Call, connection: Connection) -> ProtoMessage:
        body = request.body(ConsentRevocation)
        with book.store.joined(connection) as session:
            book.revoke(body.consent_ref, request.sender, body.reason, session=session)
        return ConsentReceipt(consent_ref=body.consent_ref, active=False)

    return {services.CONSENT_REGISTER: register, services.CONSENT_REVOKE: revoke}

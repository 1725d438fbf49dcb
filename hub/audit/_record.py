"""What one audit entry says, and the canonical bytes its hash covers.

An entry's hash is ``entry_hash = SHA-256(encode_entry(...))``. The encoding (version 1) is the magic
line ``hub.audit.entry.v1\\n`` followed by, in this order, each field as a 4-byte big-endian length and
its bytes (text as UTF-8, integers and times as ASCII)::

    seq  prev_hash  recorded_at  kind  message_id  correlation_id  sender  recipient  service
    purpose_code  legal_basis  case_number  consent_ref  issued_at  payload_sha256  outcome
    signatures: count, then keyid and sig of each     subject_tokens: count, then each 16-byte token

Times are RFC 3339 UTC with microseconds (``2025-01-31T08:00:00.000000Z``). The purgeable payload is
not encoded: ``payload_sha256`` covers it, so purging a body keeps every hash valid. The Merkle leaf of
an entry is its ``entry_hash`` (leaf hash = SHA-256(0x00 || entry_hash)), which keeps leaves and proofs
small; the encoding itself travels with an inclusion proof so a client can read what the entry says.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from hub.envelope import Opened, new_message_id
from hub.errors import InvalidArgument, Malformed
from hub.v1.envelope_pb2 import Envelope, Header, Message

ENTRY_MAGIC = b"hub.audit.entry.v1\n"
GENESIS_HASH = bytes(32)
TOKEN_SIZE = 16
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

#: Kinds the hub writes today; others are allowed if they look like an identifier.
KINDS = ("request", "response", "feed_receipt", "consent", "finding_review", "access_report")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_U32 = struct.Struct(">I")


def format_time(value: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds, e.g. ``2025-01-31T08:00:00.000000Z`` (``TIME_FORMAT``)."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" becomes "Z"


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def normalise_time(value: dt.datetime) -> dt.datetime:
    """UTC, microsecond precision: exactly what both databases give back, so hashes survive a round trip."""
    if value.tzinfo is None:
        raise InvalidArgument("issued_at", "a naive datetime has no time zone")
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class AuditRecord:
    """One envelope (or hub action) that crossed the hub, as the audit log keeps it. Never a raw ID number:
    people appear only as 16-byte subject tokens."""

    kind: str
    message_id: str
    correlation_id: str = ""
    sender: str = ""
    recipient: str = ""
    service: str = ""
    purpose_code: str = ""
    legal_basis: str = ""
    case_number: str = ""
    consent_ref: str = ""
    issued_at: dt.datetime = EPOCH
    payload_sha256: bytes = bytes(32)
    signatures: tuple[tuple[str, bytes], ...] = ()
    subject_tokens: tuple[bytes, ...] = ()
    outcome: str = "ok"
    #: The signed payload bytes; purgeable after the retention period (``payload_sha256`` stays).
    payload: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_fields(self.kind, self.message_id, self.correlation_id, self.sender, self.recipient, self.service,
                      self.outcome, self.payload_sha256)  # fmt: skip
        if not isinstance(self.subject_tokens, tuple) or not isinstance(self.signatures, tuple):
            object.__setattr__(self, "subject_tokens", tuple(self.subject_tokens))
            object.__setattr__(self, "signatures", tuple(tuple(pair) for pair in self.signatures))
        _check_tokens(self.subject_tokens)
        if self.payload is not None and hashlib.sha256(self.payload).digest() != self.payload_sha256:
            raise InvalidArgument("payload", "the payload does not hash to payload_sha256")
        if self.issued_at.tzinfo is not dt.UTC:
            object.__setattr__(self, "issued_at", normalise_time(self.issued_at))

    @functools.cached_property
    def encoded_signatures(self) -> bytes:
        """The canonical signatures encoding (stored as is, and part of the entry's hash)."""
        return encode_signatures(self.signatures)

    @functools.cached_property
    def prepared(self) -> PreparedRecord:
        """What an append needs of this record, encoded once."""
        texts = (
            self.kind, self.message_id, self.correlation_id, self.sender, self.recipient, self.service,
            self.purpose_code, self.legal_basis, self.case_number, self.consent_ref,
        )  # fmt: skip
        return _prepare(texts, self.issued_at, self.payload_sha256, self.outcome, self.encoded_signatures,
                        self.subject_tokens, self.payload)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """A record reduced to what an append needs: the canonical bytes after ``recorded_at`` (``tail``) and the
    stored values of the columns ``kind`` … ``payload``, with ``issued_at`` still a datetime (the writer converts
    it for its database).

    The query path prepares its records straight from the envelopes' headers (``prepare_opened``,
    ``prepare_envelope``): two records a query, and building ``AuditRecord`` objects on the way cost more
    than the append itself. Both roads share ``_prepare``, so they encode identically.
    """

    tail: bytes
    values: tuple[Any, ...]
    subject_tokens: tuple[bytes, ...]


#: Index of ``issued_at`` in ``PreparedRecord.values``.
ISSUED_AT = 10


@dataclass(frozen=True)
class AuditEntry:
    """A record as it sits in the log: its place, when the hub wrote it, and the chain around it."""

    seq: int
    recorded_at: dt.datetime
    prev_hash: bytes
    entry_hash: bytes
    record: AuditRecord

    def encoding(self) -> bytes:
        return encode_entry(self.seq, self.prev_hash, self.recorded_at, self.record)


# --- canonical encoding ---------------------------------------------------------------------------------


def _field(value: bytes) -> bytes:
    return _U32.pack(len(value)) + value


def encode_signatures(signatures: Sequence[tuple[str, bytes]]) -> bytes:
    return _U32.pack(len(signatures)) + b"".join(_field(k.encode()) + _field(s) for k, s in signatures)


def encode_entry(seq: int, prev_hash: bytes, recorded_at: dt.datetime, record: AuditRecord) -> bytes:
    """The version-1 canonical bytes of an entry (see the module docstring); ``entry_hash`` is their SHA-256."""
    return encode_entry_at(seq, prev_hash, format_time(recorded_at).encode(), record.prepared.tail)


def encode_entry_at(seq: int, prev_hash: bytes, recorded_at: bytes, tail: bytes) -> bytes:
    """``encode_entry`` with the time already formatted (an append formats it once for all its entries)."""
    text = str(seq).encode()
    return b"".join((ENTRY_MAGIC, _field(text), _field(prev_hash), _field(recorded_at), tail))


def _check_fields(kind: str, message_id: str, correlation_id: str, sender: str, recipient: str, service: str,
                  outcome: str, payload_sha256: bytes) -> None:  # fmt: skip
    if not _KIND.match(kind):
        raise InvalidArgument("kind", f"{kind!r} is not an audit entry kind")
    if len(message_id) > 64 or len(correlation_id) > 64 or len(service) > 160:
        raise InvalidArgument("message_id", "message id, correlation id or service is too long for the log")
    if len(sender) > 120 or len(recipient) > 120:
        raise InvalidArgument("sender", "sender or recipient is too long for the log")
    if not outcome:
        raise InvalidArgument("outcome", "must be 'ok' or an error reason")
    if len(payload_sha256) != 32:
        raise InvalidArgument("payload_sha256", "must be a 32-byte SHA-256 digest")


def _check_tokens(tokens: tuple[bytes, ...]) -> None:
    for token in tokens:
        if len(token) != TOKEN_SIZE or not isinstance(token, bytes):
            explanation = f"each subject token is {TOKEN_SIZE} bytes (a keyed token, never an ID number)"
            raise InvalidArgument("subject_tokens", explanation)


def _prepare(
    texts: tuple[str, ...],
    issued_at: dt.datetime,
    payload_sha256: bytes,
    outcome: str,
    signatures: bytes,
    subject_tokens: tuple[bytes, ...],
    payload: bytes | None,
) -> PreparedRecord:
    """``texts`` are the ten text fields from ``kind`` to ``consent_ref``; ``signatures`` already encoded."""
    parts = []
    for value in (
        *(text.encode() for text in texts),
        format_time(issued_at).encode(),
        payload_sha256,
        outcome.encode(),
    ):
        parts.append(_U32.pack(len(value)))
        parts.append(value)
    parts.append(signatures)
    parts.append(_U32.pack(len(subject_tokens)))
    parts.extend(subject_tokens)
    values = (*texts, issued_at, payload_sha256, signatures, b"".join(subject_tokens), outcome, payload)
    return PreparedRecord(b"".join(parts), values, subject_tokens)


def entry_hash(seq: int, prev_hash: bytes, recorded_at: dt.datetime, record: AuditRecord) -> bytes:
    return hashlib.sha256(encode_entry(seq, prev_hash, recorded_at, record)).digest()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise Malformed("the audit entry encoding is truncated")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def count(self) -> int:
        (value,) = _U32.unpack(self.take(4))
        return int(value)

    def field(self) -> bytes:
        return self.take(self.count())

    def text(self) -> str:
        try:
            return self.field().decode()
        except UnicodeDecodeError:
            raise Malformed("a text field of the audit entry is not UTF-8") from None


def decode_signatures(data: bytes) -> tuple[tuple[str, bytes], ...]:
    reader = _Reader(data)
    signatures = _read_signatures(reader)
    if reader.at != len(data):
        raise Malformed("trailing bytes after the signatures")
    return signatures


def _read_signatures(reader: _Reader) -> tuple[tuple[str, bytes], ...]:
    return tuple((reader.text(), reader.field()) for _ in range(reader.count()))


def decode_entry(data: bytes) -> AuditEntry:
    """Read a version-1 encoding back (e.g. the ``entry`` of an inclusion proof); raises ``Malformed``."""
    reader = _Reader(data)
    if reader.take(len(ENTRY_MAGIC)) != ENTRY_MAGIC:
        raise Malformed("not a version-1 audit entry encoding")
    try:
        seq = int(reader.text())
        prev_hash = reader.field()
        recorded_at = parse_time(reader.text())
        kind, message_id, correlation_id, sender, recipient, service = (reader.text() for _ in range(6))
        purpose_code, legal_basis, case_number, consent_ref = (reader.text() for _ in range(4))
        issued_at = parse_time(reader.text())
        payload_sha256 = reader.field()
        outcome = reader.text()
        signatures = _read_signatures(reader)
        tokens = tuple(reader.take(TOKEN_SIZE) for _ in range(reader.count()))
        record = AuditRecord(
            kind, message_id, correlation_id, sender, recipient, service, purpose_code, legal_basis,
            case_number, consent_ref, issued_at, payload_sha256, signatures, tokens, outcome,
        )  # fmt: skip
    except (ValueError, InvalidArgument) as error:
        raise Malformed(f"the audit entry encoding does not parse: {error}") from None
    if reader.at != len(data):
        raise Malformed("trailing bytes after the audit entry")
    return AuditEntry(seq, recorded_at, prev_hash, hashlib.sha256(data).digest(), record)


# --- from envelopes -------------------------------------------------------------------------------------


def _issued_at(header: Header) -> dt.datetime:
    issued = header.issued_at
    return EPOCH + dt.timedelta(seconds=issued.seconds, microseconds=issued.nanos // 1000)


def _record_from_message(
    envelope: Envelope,
    message: Message,
    payload_sha256: bytes,
    *,
    kind: str,
    subject_tokens: Iterable[bytes],
    outcome: str,
    keep_payload: bool,
) -> AuditRecord:
    header = message.header
    return AuditRecord(
        kind=kind,
        message_id=header.message_id,
        correlation_id=header.correlation_id,
        sender=header.sender,
        recipient=header.recipient,
        service=header.service,
        purpose_code=header.purpose.code,
        legal_basis=header.purpose.legal_basis,
        case_number=header.purpose.case_number,
        consent_ref=header.consent_ref,
        issued_at=_issued_at(header),
        payload_sha256=payload_sha256,
        signatures=tuple((s.keyid, s.sig) for s in envelope.signatures),
        subject_tokens=tuple(subject_tokens),
        outcome=outcome,
        payload=envelope.payload if keep_payload else None,
    )


def record_from_opened(
    opened: Opened,
    *,
    kind: str,
    subject_tokens: Iterable[bytes],
    outcome: str = "ok",
    keep_payload: bool = True,
) -> AuditRecord:
    """The audit record of a verified envelope: header fields, payload hash, every signature on it now."""
    return _record_from_message(
        opened.envelope,
        opened.message,
        opened.payload_sha256,
        kind=kind,
        subject_tokens=subject_tokens,
        outcome=outcome,
        keep_payload=keep_payload,
    )


def _parse_message(payload: bytes) -> Message:
    message = Message()
    try:
        message.ParseFromString(payload)
    except DecodeError:
        raise Malformed("the envelope payload is not a hub.v1.Message") from None
    return message


def record_from_envelope(
    envelope: Envelope,
    *,
    kind: str,
    subject_tokens: Iterable[bytes],
    outcome: str = "ok",
    keep_payload: bool = True,
) -> AuditRecord:
    """The audit record of an envelope the hub itself sealed or counter-signed (e.g. the answer it returns).

    The payload is parsed, not verified: use ``record_from_opened`` for anything that came from outside.
    """
    return _record_from_message(
        envelope,
        _parse_message(envelope.payload),
        hashlib.sha256(envelope.payload).digest(),
        kind=kind,
        subject_tokens=subject_tokens,
        outcome=outcome,
        keep_payload=keep_payload,
    )


def _prepare_message(
    envelope: Envelope,
    message: Message,
    payload_sha256: bytes,
    kind: str,
    subject_tokens: Iterable[bytes],
    outcome: str,
) -> PreparedRecord:
    header = message.header
    purpose = header.purpose
    texts = (
        kind, header.message_id, header.correlation_id, header.sender, header.recipient, header.service,
        purpose.code, purpose.legal_basis, purpose.case_number, header.consent_ref,
    )  # fmt: skip
    _check_fields(*texts[:6], outcome, payload_sha256)
    tokens = tuple(subject_tokens)
    _check_tokens(tokens)
    signatures = encode_signatures([(s.keyid, s.sig) for s in envelope.signatures])
    return _prepare(texts, _issued_at(header), payload_sha256, outcome, signatures, tokens, None)


def prepare_opened(
    opened: Opened, *, kind: str, subject_tokens: Iterable[bytes], outcome: str = "ok"
) -> PreparedRecord:
    """``record_from_opened(..., keep_payload=False).prepared``, without the record in between (the query path)."""
    return _prepare_message(opened.envelope, opened.message, opened.payload_sha256, kind, subject_tokens, outcome)


def prepare_envelope(
    envelope: Envelope, *, kind: str, subject_tokens: Iterable[bytes], outcome: str = "ok"
) -> PreparedRecord:
    """``record_from_envelope(..., keep_payload=False).prepared``, without the record in between."""
    payload = envelope.payload
    return _prepare_message(envelope, _parse_message(payload), hashlib.sha256(payload).digest(), kind, subject_tokens,
                            outcome)  # fmt: skip


# --- hub actions without an envelope ---------------------------------------------------------------------

#: The service name an operator's review through ``hubctl findings review`` is logged under.
OPERATOR_REVIEW_SERVICE = "hubctl/findings.review"


def operator_review_record(
    *, finding_id: int, action: str, reviewer: str, reason: str, subject: bytes, bureau: str, operator: str
) -> AuditRecord:
    """The entry for a review step an operator took on the hub's own database (no envelope involved).

    The reason is free text and may name a person, so only its hash is kept: ``payload_sha256`` covers the
    step's canonical JSON (finding, action, reviewer, reason), which whoever holds the review can prove.
    """
    step = {"finding_id": finding_id, "action": action, "reviewer": reviewer, "reason": reason}
    payload = json.dumps(step, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    message_id = new_message_id()
    return AuditRecord(
        kind="finding_review",
        message_id=message_id,
        correlation_id=message_id,
        sender=operator,
        recipient=bureau,
        service=OPERATOR_REVIEW_SERVICE,
        purpose_code=f"finding.{action}",
        case_number=f"finding {finding_id}",
        issued_at=dt.datetime.now(dt.UTC),
        payload_sha256=hashlib.sha256(payload).digest(),
        subject_tokens=(subject,),
        outcome="ok",
    )

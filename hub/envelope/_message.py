"""Sealing messages into envelopes and opening them again, verified, before the body is parsed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import uuid_utils
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp

from hub.envelope._dsse import PAYLOAD_TYPE, KeyRing, add_signatures, sign_payload, verify_signatures
from hub.envelope._keys import SigningKey, VerifyingKey
from hub.errors import Malformed, PayloadTypeUnsupported, SignatureInvalid, TooLarge
from hub.v1.envelope_pb2 import Envelope, Header, Message, Purpose

B = TypeVar("B", bound=ProtoMessage)

DEFAULT_TTL = dt.timedelta(minutes=5)


def new_message_id() -> str:
    """A UUIDv7: unique, and time-ordered so the replay memory and the audit log index well."""
    return str(uuid_utils.uuid7())


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def timestamp(value: dt.datetime) -> Timestamp:
    """``Timestamp.FromDatetime`` in integer arithmetic (~1 µs instead of ~10; two per message sealed)."""
    if value.tzinfo is None:  # local time, as FromDatetime takes it
        value = value.astimezone(dt.UTC)
    since = value - _EPOCH
    return Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)


def to_datetime(stamp: Timestamp) -> dt.datetime:
    return stamp.ToDatetime(tzinfo=dt.UTC)


def new_header(
    *,
    sender: str,
    recipient: str,
    service: str,
    purpose: Purpose | None = None,
    consent_ref: str = "",
    correlation_id: str = "",
    request_hash: bytes = b"",
    ttl: dt.timedelta = DEFAULT_TTL,
    now: dt.datetime | None = None,
) -> Header:
    issued = now or dt.datetime.now(dt.UTC)
    message_id = new_message_id()
    return Header(
        message_id=message_id,
        correlation_id=correlation_id or message_id,
        sender=sender,
        recipient=recipient,
        service=service,
        issued_at=timestamp(issued),
        expires_at=timestamp(issued + ttl),
        purpose=purpose,
        consent_ref=consent_ref,
        request_hash=request_hash,
    )


def reply_header(request: Opened, *, sender: str, ttl: dt.timedelta = DEFAULT_TTL) -> Header:
    """The header of an answer: addressed back, same correlation, bound to the request's bytes."""
    asked = request.header
    return new_header(
        sender=sender,
        recipient=asked.sender,
        service=asked.service,
        purpose=asked.purpose,
        consent_ref=asked.consent_ref,
        correlation_id=asked.correlation_id,
        request_hash=request.payload_sha256,
        ttl=ttl,
    )


def seal(header: Header, body: ProtoMessage, *signers: SigningKey) -> Envelope:
    """Serialize ``Message{header, body}`` once and sign those exact bytes."""
    message = Message(header=header)
    message.body.Pack(body)
    message.header.body_type = body.DESCRIPTOR.full_name
    return sign_payload(message.SerializeToString(), signers)


def countersign(envelope: Envelope, signer: SigningKey) -> Envelope:
    """The hub's receipt: a further signature over the very same payload bytes."""
    return add_signatures(envelope, [signer])


@dataclass(frozen=True)
class Opened:
    """An envelope whose signatures verified and whose sender signed it; the body is still bytes."""

    envelope: Envelope
    message: Message
    signers: tuple[VerifyingKey, ...]
    payload_sha256: bytes

    @property
    def header(self) -> Header:
        return self.message.header

    @property
    def sender(self) -> str:
        return self.message.header.sender

    def signed_by(self, member: str) -> VerifyingKey:
        """The key of ``member`` that signed, or ``SignatureInvalid`` if it did not sign."""
        for key in self.signers:
            if key.owner == member:
                return key
        raise SignatureInvalid(f"the envelope is not signed by {member}", member=member)

    def body(self, body_type: type[B]) -> B:
        """Parse the body as ``body_type``; anything else is ``MALFORMED``."""
        expected = body_type.DESCRIPTOR.full_name
        if self.message.body.TypeName() != expected:
            raise Malformed(
                f"body is {self.message.body.TypeName() or 'missing'}, expected {expected}",
                expected=expected,
            )
        body = body_type()
        try:
            if not self.message.body.Unpack(body):
                raise Malformed(f"body could not be read as {expected}")
        except DecodeError:
            raise Malformed(f"body is not a valid {expected}") from None
        return body


def parse_envelope(data: bytes, *, max_bytes: int | None = None) -> Envelope:
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"message is {len(data)} bytes; the limit is {max_bytes}", limit=str(max_bytes))
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError:
        raise Malformed("the bytes received are not a hub.v1.Envelope") from None
    return envelope


def open_envelope(
    envelope: Envelope | bytes,
    keyring: KeyRing,
    *,
    max_bytes: int | None = None,
    required_signers: Sequence[str] | None = None,
) -> Opened:
    """Verify, then parse: the header is read only after a signature over its bytes verified.

    ``required_signers`` names the members whose signatures must be among those that verified;
    by default the header's sender. An agency node, which knows only the hub's key, requires the
    hub's counter-signature instead. Raises a ``hub.errors.EnvelopeError`` subclass naming the
    reason; never returns unverified data.
    """
    if isinstance(envelope, bytes):
        envelope = parse_envelope(envelope, max_bytes=max_bytes)
    elif max_bytes is not None and envelope.ByteSize() > max_bytes:
        raise TooLarge(f"message is {envelope.ByteSize()} bytes; the limit is {max_bytes}", limit=str(max_bytes))
    if envelope.payload_type != PAYLOAD_TYPE:
        raise PayloadTypeUnsupported(
            f"payload type {envelope.payload_type!r} is not {PAYLOAD_TYPE!r}", payload_type=envelope.payload_type
        )
    signers = verify_signatures(envelope, keyring)
    message = Message()
    try:
        message.ParseFromString(envelope.payload)
    except DecodeError:
        raise Malformed("the signed payload is not a hub.v1.Message") from None
    if not message.HasField("header") or not message.header.message_id or not message.header.sender:
        raise Malformed("the message has no header, message id or sender")
    opened = Opened(envelope, message, signers, hashlib.sha256(envelope.payload).digest())
    for member in required_signers if required_signers is not None else (message.header.sender,):
        opened.signed_by(member)
    return opened

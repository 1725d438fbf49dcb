"""DSSE signing and verification over the exact payload bytes.

    PAE(type, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload

Verification never re-serializes: protobuf serialization is not canonical, so the bytes that were
signed are the bytes that are checked and hashed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hub.envelope._keys import SigningKey, VerifyingKey
from hub.errors import KeyRevoked, SignatureInvalid, UnknownSender
from hub.v1.envelope_pb2 import Envelope, Signature

PAYLOAD_TYPE = "application/vnd.hub.v1.message+protobuf"


def pae(payload_type: str, payload: bytes) -> bytes:
    encoded_type = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


class KeyRing(Protocol):
    """Where verifying keys come from: the member registry, a static set, an offline bundle."""

    def lookup(self, keyid: str) -> VerifyingKey:
        """Return the key, or raise ``UnknownSender`` (not known) / ``KeyRevoked`` (revoked)."""
        ...


class StaticKeyRing:
    """A fixed set of keys: for tests, nodes that trust only the hub, and offline verification."""

    def __init__(self, keys: Iterable[VerifyingKey] = (), revoked: Iterable[str] = ()) -> None:
        self._keys = {key.keyid: key for key in keys}
        self._revoked = set(revoked)

    def add(self, key: VerifyingKey) -> None:
        self._keys[key.keyid] = key

    def revoke(self, keyid: str) -> None:
        self._revoked.add(keyid)

    def lookup(self, keyid: str) -> VerifyingKey:
        if keyid in self._revoked:
            raise KeyRevoked(f"signing key {keyid[:16]}… has been revoked", keyid=keyid)
        try:
            return self._keys[keyid]
        except KeyError:
            raise UnknownSender(f"no registered signing key has id {keyid[:16]}…", keyid=keyid) from None


def sign_payload(payload: bytes, signers: Iterable[SigningKey], payload_type: str = PAYLOAD_TYPE) -> Envelope:
    envelope = Envelope(payload=payload, payload_type=payload_type)
    return add_signatures(envelope, signers)


def add_signatures(envelope: Envelope, signers: Iterable[SigningKey]) -> Envelope:
    """Counter-sign: append signatures over the same PAE, leaving the payload untouched."""
    message = pae(envelope.payload_type, envelope.payload)
    for signer in signers:
        envelope.signatures.append(Signature(keyid=signer.keyid, sig=signer.sign(message)))
    return envelope


def verify_signatures(envelope: Envelope, keyring: KeyRing) -> tuple[VerifyingKey, ...]:
    """Return the keys whose signatures verify; raise if none does or any known key's does not.

    Signatures by keys the ring does not know are ignored as long as another one verifies; a
    signature by a revoked key, or a failing signature by a known key, rejects the envelope.
    """
    if not envelope.signatures:
        raise SignatureInvalid("the envelope carries no signature")
    message = pae(envelope.payload_type, envelope.payload)
    verified: list[VerifyingKey] = []
    unknown: UnknownSender | None = None
    for signature in envelope.signatures:
        try:
            key = keyring.lookup(signature.keyid)
        except UnknownSender as error:
            unknown = error
            continue
        key.verify(signature.sig, message)
        verified.append(key)
    if not verified:
        assert unknown is not None
        raise unknown
    return tuple(verified)

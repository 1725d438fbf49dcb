"""Signed checkpoints: the hub's signature over a Merkle tree head, in the shape of a C2SP checkpoint.

The signed body is plain text (C2SP ``tlog-checkpoint``: origin, size, base64 root, then extension
lines; here one ``timestamp`` line)::

    assistance-hub/audit
    1024
    3q2+7w...=
    timestamp 2025-03-14T02:00:00.000000Z

The hub's envelope key signs exactly these bytes. Its DSSE signatures always cover text starting with
``DSSEv1``, which an origin may not start with, so one kind of signature can never pass for the other.
``note()`` renders the body with a signed-note style signature line for people and tools to read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from hub.audit._merkle import HASH_SIZE
from hub.audit._record import format_time, parse_time
from hub.envelope import SigningKey, VerifyingKey
from hub.errors import InvalidArgument, Malformed, SignatureInvalid

DEFAULT_ORIGIN = "assistance-hub/audit"


def check_origin(origin: str) -> str:
    if not origin or not origin.isprintable() or origin.startswith("DSSEv1") or origin != origin.strip():
        raise InvalidArgument("origin", "a log origin is one printable line, not starting with 'DSSEv1'")
    return origin


@dataclass(frozen=True)
class SignedCheckpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: dt.datetime
    keyid: str
    signature: bytes

    @property
    def body(self) -> bytes:
        """The exact bytes the hub signed."""
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\ntimestamp {format_time(self.timestamp)}\n".encode()

    def note(self) -> str:
        """The body followed by a signed-note style line: ``— <origin> base64(keyid[:4] || signature)``."""
        stamp = base64.b64encode(bytes.fromhex(self.keyid)[:4] + self.signature).decode()
        return f"{self.body.decode()}\n\u2014 {self.origin} {stamp}\n"

    def verify(self, key: VerifyingKey) -> None:
        """Raise ``SignatureInvalid`` unless ``key`` (the hub's) signed this checkpoint."""
        if self.keyid != key.keyid:
            raise SignatureInvalid(
                f"the checkpoint is signed by key {self.keyid[:16]}…, not by the hub key {key.keyid[:16]}…",
                keyid=self.keyid,
            )
        key.verify(self.signature, self.body)

    @classmethod
    def sign(
        cls, signer: SigningKey, *, origin: str, tree_size: int, root_hash: bytes, timestamp: dt.datetime
    ) -> SignedCheckpoint:
        unsigned = cls(check_origin(origin), tree_size, root_hash, timestamp.astimezone(dt.UTC), signer.keyid, b"")
        return cls(unsigned.origin, tree_size, root_hash, unsigned.timestamp, signer.keyid, signer.sign(unsigned.body))

    @classmethod
    def from_body(cls, body: bytes, keyid: str, signature: bytes) -> SignedCheckpoint:
        """Parse a signed body (not yet verified: call ``verify``); raises ``Malformed`` unless canonical."""
        try:
            origin, size, root, stamp, end = body.decode().split("\n")
            if end or not stamp.startswith("timestamp "):
                raise ValueError("expected four lines, the last one 'timestamp …'")
            parsed = cls(
                origin, int(size), base64.b64decode(root, validate=True), parse_time(stamp[10:]), keyid, signature
            )
        except (ValueError, binascii.Error) as error:
            raise Malformed(f"not a checkpoint body: {error}") from None
        if parsed.body != body or len(parsed.root_hash) != HASH_SIZE or parsed.tree_size < 0:
            raise Malformed("the checkpoint body is not in canonical form")
        return parsed

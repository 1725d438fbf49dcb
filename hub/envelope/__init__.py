"""The signed envelope (DSSE over a serialized ``hub.v1.Message``): seal, counter-sign, open.

``open_envelope`` either returns a verified ``Opened`` or raises a typed ``hub.errors`` error;
there is no boolean to forget to check.
"""

from hub.envelope._dsse import (
    PAYLOAD_TYPE,
    KeyRing,
    StaticKeyRing,
    add_signatures,
    pae,
    sign_payload,
    verify_signatures,
)
from hub.envelope._keys import SigningKey, VerifyingKey, keyid_of
from hub.envelope._message import (
    DEFAULT_TTL,
    Opened,
    countersign,
    new_header,
    new_message_id,
    open_envelope,
    parse_envelope,
    reply_header,
    seal,
    timestamp,
    to_datetime,
)
from hub.envelope._suites import SUITES, SignatureSuite, get_suite, register_suite

__all__ = [
    "DEFAULT_TTL",
    "PAYLOAD_TYPE",
    "SUITES",
    "KeyRing",
    "Opened",
    "SignatureSuite",
    "SigningKey",
    "StaticKeyRing",
    "VerifyingKey",
    "add_signatures",
    "countersign",
    "get_suite",
    "keyid_of",
    "new_header",
    "new_message_id",
    "open_envelope",
    "pae",
    "parse_envelope",
    "register_suite",
    "reply_header",
    "seal",
    "sign_payload",
    "timestamp",
    "to_datetime",
    "verify_signatures",
]

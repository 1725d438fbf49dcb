"""Signature suites: the only code that touches private keys' algorithms.

A suite is a tiny object behind the ``SignatureSuite`` protocol, so a third suite (e.g. SM2/SM3)
is added by registering one class — callers never change. Ed25519 and ECDSA P-256 are built in.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from hub.errors import SignatureInvalid


class SignatureSuite(Protocol):
    """Sign and verify bytes with one algorithm. ``verify`` raises; it never returns a boolean."""

    name: str

    def generate(self) -> PrivateKeyTypes: ...

    def owns(self, key: PrivateKeyTypes | PublicKeyTypes) -> bool: ...

    def sign(self, private_key: PrivateKeyTypes, data: bytes) -> bytes: ...

    def verify(self, public_key: PublicKeyTypes, signature: bytes, data: bytes) -> None: ...


class Ed25519Suite:
    name = "ed25519"

    def generate(self) -> PrivateKeyTypes:
        return ed25519.Ed25519PrivateKey.generate()

    def owns(self, key: PrivateKeyTypes | PublicKeyTypes) -> bool:
        return isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)

    def sign(self, private_key: PrivateKeyTypes, data: bytes) -> bytes:
        assert isinstance(private_key, ed25519.Ed25519PrivateKey)
        return private_key.sign(data)

    def verify(self, public_key: PublicKeyTypes, signature: bytes, data: bytes) -> None:
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
        try:
            public_key.verify(signature, data)
        except InvalidSignature:
            raise SignatureInvalid("the Ed25519 signature does not match the payload") from None


class EcdsaP256Suite:
    """ECDSA over P-256 with SHA-256; signatures are DER-encoded (as in DSSE and Sigstore)."""

    name = "ecdsa-p256"

    def generate(self) -> PrivateKeyTypes:
        return ec.generate_private_key(ec.SECP256R1())

    def owns(self, key: PrivateKeyTypes | PublicKeyTypes) -> bool:
        return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
            key.curve, ec.SECP256R1
        )

    def sign(self, private_key: PrivateKeyTypes, data: bytes) -> bytes:
        assert isinstance(private_key, ec.EllipticCurvePrivateKey)
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def verify(self, public_key: PublicKeyTypes, signature: bytes, data: bytes) -> None:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        try:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureInvalid("the ECDSA P-256 signature does not match the payload") from None


SUITES: dict[str, SignatureSuite] = {}


def register_suite(suite: SignatureSuite) -> None:
    SUITES[suite.name] = suite


def get_suite(name: str) -> SignatureSuite:
    try:
        return SUITES[name]
    except KeyError:
        known = ", ".join(sorted(SUITES))
        raise ValueError(f"unknown signature suite {name!r} (known: {known})") from None


def suite_of(key: PrivateKeyTypes | PublicKeyTypes) -> SignatureSuite:
    for suite in SUITES.values():
        if suite.owns(key):
            return suite
    raise ValueError(f"no signature suite handles a {type(key).__name__}")


register_suite(Ed25519Suite())
register_suite(EcdsaP256Suite())

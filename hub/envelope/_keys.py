"""Signing and verifying keys: a key, its suite and its keyid travel together."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from hub.envelope._suites import SignatureSuite, get_suite, suite_of


def keyid_of(public_key: PublicKeyTypes) -> str:
    """Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER: stable across PEM formatting."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class VerifyingKey:
    """A public key that can check signatures. ``owner`` is the member id it belongs to, if known."""

    public_key: PublicKeyTypes
    suite: SignatureSuite
    keyid: str
    owner: str = ""

    @classmethod
    def from_public_key(cls, public_key: PublicKeyTypes, owner: str = "") -> VerifyingKey:
        return cls(public_key, suite_of(public_key), keyid_of(public_key), owner)

    @classmethod
    def from_pem(cls, pem: bytes, owner: str = "") -> VerifyingKey:
        return cls.from_public_key(serialization.load_pem_public_key(pem), owner)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise ``SignatureInvalid`` unless ``signature`` is this key's over ``data``."""
        self.suite.verify(self.public_key, signature, data)

    def pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class SigningKey:
    """A private signing key. Only this class and the suites ever touch private key material."""

    private_key: PrivateKeyTypes = field(repr=False)
    suite: SignatureSuite
    public: VerifyingKey

    @property
    def keyid(self) -> str:
        return self.public.keyid

    @classmethod
    def from_private_key(cls, private_key: PrivateKeyTypes, owner: str = "") -> SigningKey:
        suite = suite_of(private_key)
        return cls(private_key, suite, VerifyingKey.from_public_key(private_key.public_key(), owner))

    @classmethod
    def generate(cls, suite: str = "ed25519", owner: str = "") -> SigningKey:
        return cls.from_private_key(get_suite(suite).generate(), owner)

    @classmethod
    def from_pem(cls, pem: bytes, owner: str = "") -> SigningKey:
        return cls.from_private_key(serialization.load_pem_private_key(pem, password=None), owner)

    @classmethod
    def load(cls, path: Path, owner: str = "") -> SigningKey:
        return cls.from_pem(path.read_bytes(), owner)

    def sign(self, data: bytes) -> bytes:
        return self.suite.sign(self.private_key, data)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

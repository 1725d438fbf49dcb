"""The hub's certificate authority: created once, then used to issue every member's TLS certificate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.errors import FailedPrecondition, InvalidArgument
from hub.pki import _layout
from hub.pki._certs import fingerprint

#: Certificates start a little in the past so a peer whose clock runs behind still accepts them.
BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateAuthority:
    """The CA's certificate and private key (ECDSA P-256), as loaded from ``<dir>/ca/``."""

    directory: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def cert_path(self) -> Path:
        return self.directory / _layout.CA_CERT

    @property
    def key_path(self) -> Path:
        return self.directory / _layout.CA_KEY

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def name(self) -> str:
        return self.certificate.subject.rfc4514_string()


def new_key() -> ec.EllipticCurvePrivateKey:
    """ECDSA P-256: the curve gRPC's TLS (BoringSSL) handles best, for the CA and every TLS key."""
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def init_ca(
    directory: Path, *, name: str = "Assistance Hub Dev CA", days: int = 3650, force: bool = False
) -> CertificateAuthority:
    """Create a self-signed CA in ``directory/ca/``; refuse to replace an existing one unless ``force``.

    Replacing a CA orphans every certificate it issued, hence the explicit ``force``.
    """
    if days <= 0:
        raise InvalidArgument("days", f"a CA must be valid for at least one day, not {days}")
    ca_dir = _layout.ca_dir(directory)
    existing = [p for p in (ca_dir / _layout.CA_CERT, ca_dir / _layout.CA_KEY) if p.exists()]
    if existing and not force:
        raise FailedPrecondition(
            f"a CA already exists in {ca_dir}; replacing it invalidates every certificate it issued "
            "(if that is what you want: `hubctl pki init --force`, or force=True)"
        )
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    _layout.make_private_dir(ca_dir)
    ca = CertificateAuthority(ca_dir, certificate, key)
    _layout.write_file(ca.key_path, private_pem(key), private=True)
    _layout.write_file(ca.cert_path, ca.cert_pem, private=False)
    return ca


def load_ca(directory: Path) -> CertificateAuthority:
    """Load the CA (certificate and key) from ``directory/ca/``; only the hub operator's copy has the key."""
    ca_dir = _layout.ca_dir(directory)
    cert_path, key_path = ca_dir / _layout.CA_CERT, ca_dir / _layout.CA_KEY
    if not cert_path.is_file() or not key_path.is_file():
        raise FailedPrecondition(f"no CA with its private key in {ca_dir}; create one with `hubctl pki init`")
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        raise FailedPrecondition(f"{cert_path} is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # TypeError: the key is encrypted
        raise FailedPrecondition(f"{key_path} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != certificate.public_key():
        raise FailedPrecondition(f"{key_path} is not the private key of {cert_path}")
    return CertificateAuthority(ca_dir, certificate, key)

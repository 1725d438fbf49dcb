"""Reading certificates: who a certificate names, its fingerprint, its expiry, and whether the CA issued it."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from hub.errors import CertificateUntrusted, InvalidArgument

#: The URI SAN that names a member in its TLS certificate; the common name is only a fallback.
MEMBER_URI_PREFIX = "urn:hub:member:"

CertificateInput = bytes | str | x509.Certificate


def load_certificate(cert: CertificateInput) -> x509.Certificate:
    """Accept a certificate as PEM (bytes or str), DER bytes, or an already loaded ``x509.Certificate``."""
    if isinstance(cert, x509.Certificate):
        return cert
    data = cert.encode() if isinstance(cert, str) else cert
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise InvalidArgument("certificate", f"not a readable X.509 certificate ({error})") from None


def fingerprint(cert: CertificateInput) -> str:
    """Lowercase hex SHA-256 of the certificate's DER: the key the registry revokes certificates by."""
    der = load_certificate(cert).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def certificate_not_after(cert: CertificateInput) -> dt.datetime:
    """The end of the certificate's validity, timezone-aware UTC."""
    return load_certificate(cert).not_valid_after_utc


def member_id_of(cert: CertificateInput) -> str:
    """The member a certificate names: its ``urn:hub:member:`` URI SAN, else its subject common name."""
    certificate = load_certificate(cert)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        uris: list[str] = []
    else:
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    for uri in uris:
        if uri.startswith(MEMBER_URI_PREFIX) and len(uri) > len(MEMBER_URI_PREFIX):
            return uri.removeprefix(MEMBER_URI_PREFIX)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        value = common_names[0].value
        name = value.decode() if isinstance(value, bytes) else value
        if name:
            return name
    raise InvalidArgument("certificate", "names no member: it has neither a urn:hub:member: URI nor a common name")


def verify_issued_by(ca_pem: bytes, cert: CertificateInput, *, at: dt.datetime | None = None) -> None:
    """Raise ``CertificateUntrusted`` unless ``cert`` was issued by this CA and is valid for mutual TLS.

    Uses ``cryptography``'s path validation (issuer signature, validity at ``at`` — now by
    default —, CA constraints, client-auth key usage), the same judgement TLS makes on a peer, so
    code that registers a certificate refuses what the handshake would refuse.
    """
    certificate = load_certificate(cert)
    builder = PolicyBuilder().store(Store([load_certificate(ca_pem)]))
    builder = builder.time(at if at is not None else dt.datetime.now(dt.UTC))
    try:
        builder.build_client_verifier().verify(certificate, [])
    except VerificationError as error:
        why = str(error).split(" (encountered processing", 1)[0]
        raise CertificateUntrusted(
            f"the certificate of {_subject(certificate)} is not trusted by the hub's CA: {why}",
            fingerprint=fingerprint(certificate),
        ) from None


def _subject(certificate: x509.Certificate) -> str:
    try:
        return repr(member_id_of(certificate))
    except InvalidArgument:
        return "an unnamed subject"

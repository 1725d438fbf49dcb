"""A member's credentials: a TLS certificate from the hub's CA and, apart from it, an envelope-signing key.

The two keys are separate on purpose (as in X-Road): the TLS key proves who is on the connection,
the signing key makes a message non-repudiable long after the connection is gone, and each can be
rotated or revoked without touching the other.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.envelope import SigningKey, get_suite
from hub.errors import FailedPrecondition, InvalidArgument, NotFound
from hub.identifiers import validate_member_id
from hub.pki import _layout
from hub.pki._ca import BACKDATE, CertificateAuthority, load_ca, new_key, private_pem
from hub.pki._certs import MEMBER_URI_PREFIX, certificate_not_after, fingerprint

#: ECDSA P-256 verifies ~1.5x faster than Ed25519 with OpenSSL here (bench: 91 vs 140 us).
DEFAULT_SUITE = "ecdsa-p256"
DEFAULT_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class MemberCredentials:
    """Everything a member (or the hub, member ``"hub"``) needs for mutual TLS and for signing envelopes."""

    member_id: str
    directory: Path
    ca_pem: bytes = field(repr=False)
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    signing_key: SigningKey = field(repr=False)

    @property
    def cert_path(self) -> Path:
        return self.directory / _layout.TLS_CERT

    @property
    def key_path(self) -> Path:
        return self.directory / _layout.TLS_KEY

    @property
    def signing_key_path(self) -> Path:
        return self.directory / _layout.SIGNING_KEY

    @property
    def signing_pub_path(self) -> Path:
        return self.directory / _layout.SIGNING_PUB

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the TLS certificate's DER, hex."""
        return fingerprint(self.cert_pem)

    @property
    def not_after(self) -> dt.datetime:
        return certificate_not_after(self.cert_pem)

    @property
    def keyid(self) -> str:
        """The keyid of the envelope-signing key (not of the TLS key)."""
        return self.signing_key.keyid


def _general_names(member_id: str, hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        host = host.strip()
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if not host or not host.isascii() or any(c.isspace() or c in "/:@" for c in host):
            raise InvalidArgument("hosts", f"{host!r} is neither an IP address nor a DNS name")
        names.append(x509.DNSName(host.lower()))
    names.append(x509.UniformResourceIdentifier(MEMBER_URI_PREFIX + member_id))
    return names


def _tls_certificate(
    ca: CertificateAuthority, member_id: str, hosts: Iterable[str], days: int
) -> tuple[x509.Certificate, bytes]:
    key = new_key()
    now = dt.datetime.now(dt.UTC)
    not_after = min(now + dt.timedelta(days=days), ca.certificate.not_valid_after_utc)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, member_id)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName(_general_names(member_id, hosts)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )
    return certificate, private_pem(key)


def issue_member(
    directory: Path,
    member_id: str,
    *,
    hosts: Iterable[str] = DEFAULT_HOSTS,
    suite: str = DEFAULT_SUITE,
    days: int = 825,
    force: bool = False,
) -> MemberCredentials:
    """Issue a TLS certificate and a separate signing key for ``member_id`` into ``directory/members/<name>/``.

    The certificate carries the DNS names and IP addresses in ``hosts`` and the URI
    ``urn:hub:member:<member_id>``; it never outlives the CA. Existing credentials are kept unless
    ``force``: a silently replaced signing key would no longer match the one registered for the member.
    The id is checked as the registry checks it (a unified social credit code, ``/subsystem`` optional), so no
    credentials are written for a member that ``hubctl members add`` would then refuse.
    """
    _layout.check_member_id(member_id)
    validate_member_id(member_id)
    try:
        get_suite(suite)
    except ValueError as error:
        raise InvalidArgument("suite", str(error)) from None
    if days <= 0:
        raise InvalidArgument("days", f"a certificate must be valid for at least one day, not {days}")
    ca = load_ca(directory)
    if ca.certificate.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise FailedPrecondition(
            f"the CA in {ca.directory} expired on {ca.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; "
            "a certificate it issues now would never be valid (replace it: `hubctl pki init --force`)"
        )
    folder = _layout.member_dir(directory, member_id)
    names = (_layout.TLS_CERT, _layout.TLS_KEY, _layout.SIGNING_KEY, _layout.SIGNING_PUB)
    if not force and any((folder / name).exists() for name in names):
        raise FailedPrecondition(
            f"credentials for member {member_id} already exist in {folder}; replacing them changes its "
            "signing key (if that is what you want: `hubctl pki issue --force`, or force=True)"
        )
    certificate, key_pem = _tls_certificate(ca, member_id, hosts, days)
    signing_key = SigningKey.generate(suite, owner=member_id)
    credentials = MemberCredentials(
        member_id=member_id,
        directory=folder,
        ca_pem=ca.cert_pem,
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key_pem,
        signing_key=signing_key,
    )
    _layout.make_private_dir(folder)
    _layout.write_file(credentials.key_path, key_pem, private=True)
    _layout.write_file(credentials.signing_key_path, signing_key.private_pem(), private=True)
    _layout.write_file(credentials.signing_pub_path, signing_key.public.pem(), private=False)
    _layout.write_file(credentials.cert_path, credentials.cert_pem, private=False)
    return credentials


def load_member(directory: Path, member_id: str) -> MemberCredentials:
    """Load a member's credentials and the CA certificate (not the CA key: an agency node has none)."""
    folder = _layout.member_dir(directory, member_id)
    ca_path = _layout.ca_dir(directory) / _layout.CA_CERT
    paths = [ca_path, *(folder / name for name in (_layout.TLS_CERT, _layout.TLS_KEY, _layout.SIGNING_KEY))]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise NotFound(
            f"no credentials for member {member_id} in {directory} (missing: {', '.join(missing)}); "
            f"issue them with `hubctl pki issue {member_id}`"
        )
    ca_pem, cert_pem, key_pem, signing_pem = (path.read_bytes() for path in paths)
    try:
        signing_key = SigningKey.from_pem(signing_pem, owner=member_id)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # not PEM, encrypted, or of no supported suite
        raise FailedPrecondition(f"{paths[3]} is not an unencrypted PEM signing key of a supported suite") from None
    return MemberCredentials(
        member_id=member_id,
        directory=folder,
        ca_pem=ca_pem,
        cert_pem=cert_pem,
        key_pem=key_pem,
        signing_key=signing_key,
    )

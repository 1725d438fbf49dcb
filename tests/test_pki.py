"""The dev PKI core: CA, member certificates, separate signing keys, and the checks on them."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.cli import main
from hub.envelope import VerifyingKey
from hub.errors import CertificateUntrusted, FailedPrecondition, InvalidArgument, NotFound
from hub.pki import (
    certificate_not_after,
    fingerprint,
    init_ca,
    issue_member,
    load_member,
    member_id_of,
    safe_name,
    verify_issued_by,
)

MEMBER = "11130629MB1234567U/dibao"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    init_ca(directory)
    return directory


def test_init_ca_writes_a_ca_certificate_and_a_private_key(tmp_path: Path) -> None:
    ca = init_ca(tmp_path, name="Test CA", days=30)

    assert ca.cert_path == tmp_path / "ca" / "ca.cert.pem"
    assert _mode(ca.key_path) == 0o600
    certificate = _cert(ca.cert_path.read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test CA"
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert dt.timedelta(days=29) < certificate_not_after(ca.cert_pem) - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    key = serialization.load_pem_private_key(ca.key_path.read_bytes(), password=None)
    assert key.public_key() == certificate.public_key()


def test_init_ca_refuses_to_replace_a_ca_unless_forced(pki: Path) -> None:
    before = (pki / "ca" / "ca.cert.pem").read_bytes()

    with pytest.raises(FailedPrecondition, match="already exists"):
        init_ca(pki)
    assert (pki / "ca" / "ca.cert.pem").read_bytes() == before

    replaced = init_ca(pki, force=True)
    assert replaced.cert_pem != before


def test_issue_member_certificate_names_the_member_and_its_hosts(pki: Path) -> None:
    creds = issue_member(pki, MEMBER, hosts=("node.example.gov.cn", "10.0.0.5", "::1"))

    assert creds.directory == pki / "members" / "11130629MB1234567U__dibao"
    certificate = _cert(creds.cert_path.read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == MEMBER
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["node.example.gov.cn"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("::1")]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"urn:hub:member:{MEMBER}"]
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert member_id_of(creds.cert_pem) == MEMBER
    verify_issued_by(creds.ca_pem, creds.cert_pem)


def test_default_hosts_are_loopback(pki: Path) -> None:
    san = _cert(issue_member(pki, "hub").cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)

    assert san.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_signing_key_is_separate_from_the_tls_key(pki: Path) -> None:
    creds = issue_member(pki, MEMBER)

    tls_key = serialization.load_pem_private_key(creds.key_path.read_bytes(), password=None)
    assert isinstance(tls_key, ec.EllipticCurvePrivateKey) and isinstance(tls_key.curve, ec.SECP256R1)
    assert creds.signing_key.suite.name == "ecdsa-p256", "the faster suite is the default"
    assert creds.signing_key.public.public_key != tls_key.public_key(), "signing and TLS keys are separate keys"
    assert creds.signing_key_path.read_bytes() != creds.key_path.read_bytes()
    for key_file in (creds.key_path, creds.signing_key_path):
        assert _mode(key_file) == 0o600
    assert _mode(creds.directory) & 0o077 == 0
    published = VerifyingKey.from_pem(creds.signing_pub_path.read_bytes(), owner=MEMBER)
    assert published.keyid == creds.keyid
    published.verify(creds.signing_key.sign(b"payload"), b"payload")
    assert creds.signing_key.public.owner == MEMBER


def test_ed25519_signing_suite(pki: Path) -> None:
    creds = issue_member(pki, "hub", suite="ed25519")

    assert isinstance(creds.signing_key.private_key, ed25519.Ed25519PrivateKey)
    assert creds.signing_key.public.public_key != _cert(creds.cert_pem).public_key()


def test_load_member_reads_back_what_was_issued(pki: Path) -> None:
    issued = issue_member(pki, MEMBER)

    loaded = load_member(pki, MEMBER)

    assert loaded.fingerprint == issued.fingerprint
    assert loaded.keyid == issued.keyid
    assert loaded.key_pem == issued.key_pem
    assert loaded.ca_pem == (pki / "ca" / "ca.cert.pem").read_bytes()
    assert loaded.signing_key.public.owner == MEMBER


def test_load_member_without_credentials_is_not_found(pki: Path) -> None:
    with pytest.raises(NotFound, match="hubctl pki issue someone"):
        load_member(pki, "someone")


def test_issue_member_keeps_existing_credentials_unless_forced(pki: Path) -> None:
    first = issue_member(pki, MEMBER)

    with pytest.raises(FailedPrecondition, match="already exist"):
        issue_member(pki, MEMBER)
    assert load_member(pki, MEMBER).keyid == first.keyid

    second = issue_member(pki, MEMBER, force=True)
    assert second.keyid != first.keyid
    assert load_member(pki, MEMBER).fingerprint == second.fingerprint


def test_issue_member_needs_a_ca(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="hubctl pki init"):
        issue_member(tmp_path, "hub")


@pytest.mark.parametrize("member_id", ["", "../etc", "a/../b", "a__b", "a/", "/a", "a b", "x" * 65, "成员"])
def test_member_ids_that_cannot_name_a_folder_are_refused(pki: Path, member_id: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        issue_member(pki, member_id)
    assert caught.value.field == "member_id"
    assert not (pki / "members").exists()


def test_a_member_id_the_registry_would_refuse_gets_no_credentials(pki: Path) -> None:
    """A mistyped credit code is refused here, not after its keys were written (``hubctl members add``)."""
    with pytest.raises(InvalidArgument, match="check character") as caught:
        issue_member(pki, "11130600MB0000099X")
    assert caught.value.field == "member_id"
    assert not (pki / "members").exists()


def test_safe_name_maps_subsystem_separator() -> None:
    assert safe_name(MEMBER) == "11130629MB1234567U__dibao"
    assert safe_name("hub") == "hub"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"suite": "rsa"}, "suite"), ({"hosts": ["bad host"]}, "hosts"), ({"days": 0}, "days")],
)
def test_issue_member_rejects_bad_parameters(pki: Path, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        issue_member(pki, "hub", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_member_certificate_never_outlives_the_ca(tmp_path: Path) -> None:
    ca = init_ca(tmp_path, days=10)

    creds = issue_member(tmp_path, "hub", days=825)

    assert creds.not_after == ca.certificate.not_valid_after_utc


def test_certificate_from_another_ca_is_rejected(pki: Path, tmp_path: Path) -> None:
    ours = issue_member(pki, "hub")
    other = tmp_path / "other"
    init_ca(other, name="Assistance Hub Dev CA")  # same name, different key
    foreign = issue_member(other, MEMBER)

    with pytest.raises(CertificateUntrusted) as caught:
        verify_issued_by(ours.ca_pem, foreign.cert_pem)
    assert caught.value.field == "certificate"
    assert caught.value.metadata["fingerprint"] == foreign.fingerprint
    assert MEMBER in caught.value.explanation
    verify_issued_by(ours.ca_pem, ours.cert_pem)


def test_expired_or_not_yet_valid_certificate_is_rejected(pki: Path) -> None:
    creds = issue_member(pki, "hub", days=1)
    now = dt.datetime.now(dt.UTC)

    verify_issued_by(creds.ca_pem, creds.cert_pem, at=now)
    for when in (now + dt.timedelta(days=2), now - dt.timedelta(days=1)):
        with pytest.raises(CertificateUntrusted, match="not valid"):
            verify_issued_by(creds.ca_pem, creds.cert_pem, at=when)


def test_ca_certificate_is_not_a_member_certificate(pki: Path) -> None:
    ca_pem = (pki / "ca" / "ca.cert.pem").read_bytes()

    with pytest.raises(CertificateUntrusted):
        verify_issued_by(ca_pem, ca_pem)


def test_fingerprint_is_sha256_of_der_whatever_the_encoding(pki: Path) -> None:
    creds = issue_member(pki, "hub")
    der = _cert(creds.cert_pem).public_bytes(serialization.Encoding.DER)

    assert fingerprint(creds.cert_pem) == hashlib.sha256(der).hexdigest()
    assert fingerprint(der) == fingerprint(creds.cert_pem.decode()) == creds.fingerprint
    assert member_id_of(der) == "hub"


def test_member_id_falls_back_to_common_name() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legacy-member")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier("https://x.example")]), False)
        .sign(key, hashes.SHA256())
    )

    assert member_id_of(certificate) == "legacy-member"


def test_unreadable_certificate_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"not a readable X\.509 certificate"):
        fingerprint(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_cli_init_and_issue(tmp_path: Path) -> None:
    runner = CliRunner()

    created = runner.invoke(main, ["--data-dir", str(tmp_path), "pki", "init"])
    assert created.exit_code == 0, created.output
    assert str(tmp_path / "pki" / "ca" / "ca.cert.pem") in created.output

    issued = runner.invoke(main, ["--data-dir", str(tmp_path), "pki", "issue", MEMBER, "--suite", "ecdsa-p256"])
    assert issued.exit_code == 0, issued.output
    creds = load_member(tmp_path / "pki", MEMBER)
    assert creds.fingerprint in issued.output
    assert creds.keyid in issued.output
    assert creds.signing_key.suite.name == "ecdsa-p256"


def test_cli_explicit_dir_and_hosts(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = tmp_path / "elsewhere"

    assert runner.invoke(main, ["pki", "init", "--dir", str(directory)]).exit_code == 0
    result = runner.invoke(main, ["pki", "issue", "hub", "--dir", str(directory), "--host", "hub.example"])

    assert result.exit_code == 0, result.output
    san = _cert(load_member(directory, "hub").cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["hub.example"]


def test_cli_errors_are_clear_messages_not_tracebacks(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path), "pki"]

    no_ca = runner.invoke(main, [*args, "issue", "hub"])
    assert no_ca.exit_code == 1
    assert "hubctl pki init" in no_ca.output
    assert runner.invoke(main, [*args, "init"]).exit_code == 0
    again = runner.invoke(main, [*args, "init"])
    assert again.exit_code == 1
    assert "already exists" in again.output and "--force" in again.output
    assert runner.invoke(main, [*args, "init", "--force"]).exit_code == 0
    bad = runner.invoke(main, [*args, "issue", "../x"])
    assert bad.exit_code == 1
    assert "not a member id" in bad.output

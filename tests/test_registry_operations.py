"""Registry and PKI operations an operator runs: an update keeps what it was not given, a revocation touches
only the named member's key, and a corrupt key, an expired CA or an unreachable database is a clear error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hub.cli import main
from hub.errors import FailedPrecondition, InvalidArgument, NotFound, UnknownMember
from hub.pki import init_ca, issue_member, load_ca, load_member
from hub.registry import Registry
from hub.store import Store

FIRST = "11130629MB00000118"
SECOND = "11130629MB0000027U"
MEMBER = "11130629MB1234567U"


def uscc(base17: str) -> str:
    from hub.identifiers import uscc_check_character

    return base17 + uscc_check_character(base17)


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_a_tie_goes_to_the_first_registered_even_after_it_was_updated(store: Store) -> None:
    """PostgreSQL returns an updated row after the others: the tie-break must not depend on the heap order."""
    registry = Registry(store)
    first, second = uscc("11130629MB0000011"), uscc("11130629MB0000022")
    registry.add_member(first, kind="civil-affairs", jurisdictions=["130629"])
    registry.add_member(second, kind="civil-affairs", jurisdictions=["130629"])
    assert registry.snapshot().route("civil-affairs", "130629").member_id == first

    registry.set_endpoint(first, "10.0.0.1:7443")

    assert registry.snapshot().route("civil-affairs", "130629").member_id == first


def test_updating_a_member_keeps_its_endpoint_and_name_unless_given(store: Store) -> None:
    registry = Registry(store)
    registry.add_member(SECOND, kind="civil-affairs", name="容城县民政局", endpoint="10.0.0.1:7443")

    member = registry.add_member(SECOND, kind="civil-affairs", jurisdictions=["130629"])

    assert (member.endpoint, member.name, member.jurisdictions) == ("10.0.0.1:7443", "容城县民政局", ("130629",))
    assert registry.add_member(SECOND, kind="civil-affairs", endpoint="").endpoint == ""


def test_revoking_a_key_or_certificate_names_its_member(store: Store, tmp_path: Path) -> None:
    registry = Registry(store)
    init_ca(tmp_path)
    credentials = issue_member(tmp_path, SECOND)
    registry.add_member(FIRST, kind="civil-affairs")
    registry.add_member(SECOND, kind="civil-affairs", signing_keys=[credentials.signing_key.public.pem()])
    registry.add_certificate(SECOND, credentials.cert_pem)

    with pytest.raises(NotFound):
        registry.revoke_key(credentials.keyid, FIRST)
    with pytest.raises(UnknownMember, match="no certificate of member"):
        registry.revoke_certificate(credentials.fingerprint, FIRST)
    snapshot = registry.snapshot()
    assert snapshot.lookup(credentials.keyid).owner == SECOND
    assert snapshot.certificate_owner(credentials.fingerprint) == SECOND


def test_a_certificate_that_is_not_one_is_invalid_argument(store: Store) -> None:
    registry = Registry(store)
    registry.add_member(FIRST, kind="civil-affairs")
    with pytest.raises(InvalidArgument):
        registry.add_certificate(FIRST, b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")


def test_cli_update_without_endpoint_keeps_the_agency_node_reachable(tmp_path: Path) -> None:
    assert run(tmp_path, "members", "add", MEMBER, "--kind", "civil-affairs", "--endpoint", "10.0.0.1:7443")[0] == 0
    assert run(tmp_path, "members", "add", MEMBER, "--kind", "civil-affairs", "--jurisdiction", "130629")[0] == 0
    code, listed = run(tmp_path, "members", "list")
    assert code == 0 and "10.0.0.1:7443" in listed and "130629" in listed


def test_cli_add_with_a_bad_key_leaves_no_member_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    code, output = run(tmp_path, "members", "add", MEMBER, "--kind", "civil-affairs", "--signing-key", str(bad))
    assert code == 1 and "PEM" in output
    code, output = run(tmp_path, "members", "add", MEMBER, "--kind", "civil-affairs", "--from-pki")
    assert code == 1 and "hubctl pki issue" in output
    assert "no members registered" in run(tmp_path, "members", "list")[1]


def test_cli_revoking_another_members_key_is_refused(tmp_path: Path) -> None:
    run(tmp_path, "pki", "init")
    run(tmp_path, "pki", "issue", MEMBER)
    assert run(tmp_path, "members", "add", MEMBER, "--kind", "civil-affairs", "--from-pki")[0] == 0
    assert run(tmp_path, "members", "add", SECOND, "--kind", "civil-affairs")[0] == 0
    keyid = load_member(tmp_path / "pki", MEMBER).keyid

    code, output = run(tmp_path, "members", "revoke", SECOND, "--key", keyid)

    assert code == 1 and SECOND in output
    from hub.store import open_store, sqlite_url

    store = open_store(sqlite_url(tmp_path))
    try:
        assert Registry(store).snapshot().lookup(keyid).owner == MEMBER  # not revoked
    finally:
        store.dispose()


def test_cli_db_errors_are_messages_not_tracebacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(tmp_path, "db", "upgrade", "--revision", "bogus")
    assert code == 1 and "bogus" in output
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    for args in (("db", "upgrade"), ("db", "current"), ("members", "list")):
        code, output = run(tmp_path, *args)
        assert code == 1 and "unavailable" in output, args


def test_a_corrupt_ca_or_signing_key_is_a_clear_error(tmp_path: Path) -> None:
    init_ca(tmp_path)
    issue_member(tmp_path, MEMBER)
    (tmp_path / "members" / MEMBER / "signing.key.pem").write_text("junk")
    with pytest.raises(FailedPrecondition, match=r"signing\.key\.pem"):
        load_member(tmp_path, MEMBER)
    (tmp_path / "ca" / "ca.key.pem").write_text("junk")
    with pytest.raises(FailedPrecondition, match=r"ca\.key\.pem"):
        load_ca(tmp_path)
    code, output = run(tmp_path, "pki", "issue", SECOND, "--dir", str(tmp_path))
    assert code == 1 and "ca.key.pem" in output


def test_an_expired_ca_issues_nothing(tmp_path: Path) -> None:
    ca = init_ca(tmp_path)
    now = dt.datetime.now(dt.UTC)
    expired = (
        x509.CertificateBuilder()
        .subject_name(ca.certificate.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(ca.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=20))
        .not_valid_after(now - dt.timedelta(days=10))
    )
    for extension in ca.certificate.extensions:
        expired = expired.add_extension(extension.value, extension.critical)
    ca.cert_path.write_bytes(expired.sign(ca.private_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))

    with pytest.raises(FailedPrecondition, match="expired"):
        issue_member(tmp_path, MEMBER)

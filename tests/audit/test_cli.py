"""``hubctl audit``: checkpoint, export, offline verify, access report, purge — through the real CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.audit import AuditLog
from hub.cli import main
from hub.privacy import SECRETS_FILE, load_secrets
from hub.store import open_store, sqlite_url

from .conftest import make_record

ID_NUMBER = "11010519491231002X"
MASKED = "110105********002X"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("HUB_CONFIG", "HUB_DATABASE_URL", "HUB_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "hub-data"
    assert run(data, "pki", "init").exit_code == 0
    assert run(data, "pki", "issue", "hub").exit_code == 0
    yield data


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


def append(data_dir: Path, *records_tokens: tuple[bytes, ...], age: dt.timedelta = dt.timedelta(0)) -> None:
    store = open_store(sqlite_url(data_dir))
    try:
        with store.session() as session:
            AuditLog(store, clock=lambda: dt.datetime.now(dt.UTC) - age).append_many(
                session, [make_record(n, tokens=t) for n, t in enumerate(records_tokens)]
            )
    finally:
        store.dispose()


def test_export_then_verify_offline(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    append(data_dir, (), (), ())
    signed = run(data_dir, "audit", "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert signed.output.splitlines()[:2] == ["assistance-hub/audit", "3"]
    out = tmp_path / "audit.jsonl"
    exported = run(data_dir, "audit", "export", str(out))
    assert exported.exit_code == 0, exported.output
    assert "exported 3 entries and 2 checkpoints" in exported.output

    public = data_dir / "pki" / "members" / "hub" / "signing.pub.pem"
    monkeypatch.setenv("HUB_CONFIG", str(tmp_path / "no-such-config.toml"))  # verify must not need any
    ok = CliRunner().invoke(main, ["audit", "verify", str(out), "--hub-key", str(public)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(
        "OK assistance-hub/audit: 3 entries, 2 checkpoints verified; the hub signed the first 3"
    )

    content = out.read_text().splitlines(keepends=True)
    content[2] = content[2].replace('"outcome":"ok"', '"outcome":"OK"')
    out.write_text("".join(content))
    bad = CliRunner().invoke(main, ["audit", "verify", str(out), "--hub-key", str(public)])
    assert bad.exit_code == 1
    assert "TAMPERED (hash_mismatch) line 3, seq 1" in bad.output


def test_verify_refuses_a_key_that_is_not_a_public_key(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert run(data_dir, "audit", "export", str(out)).exit_code == 0
    private = data_dir / "pki" / "members" / "hub" / "signing.key.pem"
    result = CliRunner().invoke(main, ["audit", "verify", str(out), "--hub-key", str(private)])
    assert result.exit_code == 1 and "not a public key PEM" in result.output


def test_a_missing_hub_key_is_explained(tmp_path: Path) -> None:
    result = run(tmp_path / "empty", "audit", "checkpoint")
    assert result.exit_code == 1
    assert "hubctl pki issue hub" in result.output


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_access_report_is_answered_from_tokens_and_logged(data_dir: Path, tmp_path: Path, fmt: str) -> None:
    person = load_secrets(data_dir).tokenizer.token(ID_NUMBER)
    other = load_secrets(data_dir).tokenizer.token("440308199901101512")
    append(data_dir, (person,), (other,), (person, other))
    report = tmp_path / f"report.{fmt}"
    result = run(
        data_dir, "audit", "access-report", ID_NUMBER, "--format", fmt, "--output", str(report), "--case-number", "P-1"
    )
    assert result.exit_code == 0, result.output
    text = report.read_text(encoding="utf-8")
    assert ID_NUMBER not in text and ID_NUMBER not in result.output
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["case_number"] for row in rows] == ["容民救〔2025〕0号", "容民救〔2025〕2号"]
        assert rows[0]["asker"] == "11130629MB1234567X/dibao"
    if fmt == "table":
        assert text.startswith(f"Access report for {MASKED}: 2 entries")
    if fmt == "json":
        document = json.loads(text)
        assert document["subject"] == MASKED and len(document["entries"]) == 2
    again = run(data_dir, "audit", "access-report", ID_NUMBER, "--format", "json")
    entries = json.loads(again.stdout)["entries"]
    assert [e["kind"] for e in entries] == ["request", "request", "access_report"]  # the first answer was logged
    assert entries[-1]["case_number"] == "P-1" and entries[-1]["asker"] == "hubctl"


def test_access_report_after_a_token_key_rotation_still_finds_what_was_logged_before(data_dir: Path) -> None:
    """The log's entries keep the token of their day (the chain covers it): the report asks under every key."""
    secrets = load_secrets(data_dir)
    before = secrets.tokenizer.token(ID_NUMBER)
    secrets.tokenizer.rotate()
    secrets.save(data_dir / SECRETS_FILE)
    after = secrets.tokenizer.token(ID_NUMBER)
    append(data_dir, (before,), (after,), (secrets.tokenizer.token("440308199901101512"),))
    result = run(data_dir, "audit", "access-report", ID_NUMBER, "--format", "json")
    assert result.exit_code == 0, result.output
    assert [e["seq"] for e in json.loads(result.stdout)["entries"]] == [0, 1]


def test_access_report_rejects_an_invalid_number_without_echoing_it(data_dir: Path) -> None:
    result = run(data_dir, "audit", "access-report", "110105194912310021")
    assert result.exit_code == 1
    assert "check character" in result.output and "110105194912310021" not in result.output


def test_purge_drops_bodies_past_retention(data_dir: Path) -> None:
    append(data_dir, (), (), age=dt.timedelta(days=181))
    append(data_dir, (), age=dt.timedelta(days=179))
    assert "purged 2 message bodies older than 180 days" in run(data_dir, "audit", "purge").output
    assert (
        "purged 1 message body older than 10 days" in run(data_dir, "audit", "purge", "--older-than-days", "10").output
    )

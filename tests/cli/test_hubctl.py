"""hubctl as a user meets it: help, PKI, members, migrations, configuration, insecure mode, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import COMMANDS, main
from hub.config import load_settings

MEMBER = "11130629MB1234567U"


def invoke(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_help_a_new_user_can_follow() -> None:
    top = CliRunner().invoke(main, ["--help"])
    assert top.exit_code == 0
    for name in COMMANDS:
        assert name in top.output
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "Usage:" in sub.output and len(sub.output.splitlines()) > 4


def test_pki_members_and_grants_through_the_cli(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", MEMBER)
    out = invoke(
        tmp_path,
        "members",
        "add",
        MEMBER,
        "--kind",
        "public-security",
        "--name",
        "容城县公安局",
        "--jurisdiction",
        "130629",
        "--from-pki",
    )
    assert "signing key" in out and "130629" in out
    invoke(
        tmp_path, "members", "grant", MEMBER, "hub.v1.Verification/AssistanceInquiry", "--purpose", "dibao.application"
    )
    listed = invoke(tmp_path, "members", "list")
    assert MEMBER in listed and "active" in listed and "容城县公安局" in listed
    invoke(tmp_path, "members", "revoke", MEMBER, "--reason", "test")
    assert "REVOKED" in invoke(tmp_path, "members", "list")


def test_bad_input_gets_a_clear_message_and_a_nonzero_exit(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path), "members", "add", "11130629MB1234567X", "--kind", "civil-affairs"]
    )
    assert result.exit_code != 0
    assert "check character" in result.output
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "members", "grant", MEMBER, "nonsense"])
    assert result.exit_code != 0 and "Error" in result.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    assert "was empty" in invoke(tmp_path, "db", "upgrade")
    out = invoke(tmp_path, "db", "current")
    current, head = re.findall(r"current: (\S+); head: (\S+)", out)[0]
    assert current == head


def test_configuration_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('data_dir = "/srv/hub"\n[server]\nlisten = "0.0.0.0:7443"\n[policy]\nclock_skew_seconds = 30\n')
    settings = load_settings(config)
    assert settings.server.listen == "0.0.0.0:7443" and settings.policy.clock_skew_seconds == 30
    assert str(settings.data_dir) == "/srv/hub"
    monkeypatch.setenv("HUB_POLICY__CLOCK_SKEW_SECONDS", "45")
    assert load_settings(config).policy.clock_skew_seconds == 45, "the environment overrides the file"
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.integration
def test_insecure_serve_warns_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", "hub")
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.cli",
                "--data-dir",
                str(tmp_path),
                "serve",
                "--insecure",
                "--listen",
                "127.0.0.1:0",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in log.read_text() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        text = log.read_text()
        assert "listening on" in text, text
        assert "INSECURE MODE" in text
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=15) == 0
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.integration
def test_several_workers_share_one_port_and_stop_together(tmp_path: Path) -> None:
    import asyncio

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from hub.grpc.credentials import channel_credentials
    from hub.pki import load_member

    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", "hub")
    invoke(tmp_path, "pki", "issue", MEMBER)
    invoke(tmp_path, "db", "upgrade")
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.cli",
                "--data-dir",
                str(tmp_path),
                "serve",
                "--workers",
                "2",
                "--listen",
                "127.0.0.1:0",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 30
        while len(re.findall(r"listening on", log.read_text())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        ports = set(re.findall(r"listening on 127\.0\.0\.1:(\d+)", text))
        pids = set(re.findall(r"\(pid (\d+),", text))
        assert len(ports) == 1 and len(pids) == 2, text

        async def healthy() -> int:
            creds = channel_credentials(load_member(tmp_path / "pki", MEMBER))
            served = 0
            for _ in range(6):  # separate connections: the kernel spreads them over the workers
                async with grpc.aio.secure_channel(f"127.0.0.1:{next(iter(ports))}", creds) as channel:
                    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                    served += reply.status == health_pb2.HealthCheckResponse.SERVING
            return served

        assert asyncio.run(healthy()) == 6
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(int(pid), 0)
    finally:
        if child.poll() is None:
            child.kill()


def test_counts_in_messages_take_the_noun_in_the_right_number() -> None:
    from hub.cli._context import counted

    assert counted(1, "chunk") == "1 chunk"
    assert counted(0, "chunk") == "0 chunks"
    assert counted(12_000, "entry", "entries") == "12,000 entries"
    assert counted(1, "message body", "message bodies") == "1 message body"

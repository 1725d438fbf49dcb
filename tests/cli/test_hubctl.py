"""hubctl as a user meets it: help, PKI, members, migrations, configuration, insecure mode, SIGTERM."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import COMMANDS, main
from hub.config import load_settings

MEMBER = "11130629MB1234567U"
HUBCTL = (sys.executable, "-m", "hub.cli")


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
            [*HUBCTL, "--data-dir", str(tmp_path), "serve", "--insecure", "--listen", "127.0.0.1:0"],
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


def serve_two_workers(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """``hubctl serve --workers 2`` on an ephemeral port, its output in ``log``, once both processes listen."""
    with log.open("wb") as handle:
        child = subprocess.Popen(
            [*HUBCTL, "--data-dir", str(data_dir), "serve", "--workers", "2", "--listen", "127.0.0.1:0"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 30
    while len(re.findall(r"listening on", log.read_text())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    return child


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
    child = serve_two_workers(tmp_path, log)
    try:
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


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """``serve`` and ``node`` configure the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)
    logging.captureWarnings(False)


def clear_failure(tmp_path: Path, *args: str) -> str:
    """The command fails with one ``Error:`` line and a non-zero exit, not with a traceback."""
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args])
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Error: " in result.output and "Traceback" not in result.output, result.output
    return result.output


@pytest.mark.usefixtures("restored_logging")
def test_serve_without_credentials_says_how_to_issue_them(tmp_path: Path) -> None:
    out = clear_failure(tmp_path, "serve", "--listen", "127.0.0.1:0")
    assert "hubctl pki issue hub" in out


@pytest.mark.usefixtures("restored_logging")
def test_node_mistakes_get_a_clear_message(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", MEMBER)
    out = clear_failure(tmp_path, "node", "--member", "11110115MB0000007E", "--adapter", "public-security")
    assert "hubctl pki issue 11110115MB0000007E" in out, "credentials never issued"
    out = clear_failure(tmp_path, "node", "--member", MEMBER, "--adapter", "public-security")
    assert "signing.pub.pem" in out, "the hub's public key is not in the PKI folder yet"
    invoke(tmp_path, "pki", "issue", "hub")
    out = clear_failure(tmp_path, "node", "--member", MEMBER, "--adapter", "no-such-adapter")
    assert "no-such-adapter" in out and "public-security" in out
    config = tmp_path / "adapter.toml"
    config.write_text("[backend\n")
    out = clear_failure(tmp_path, "node", "--member", MEMBER, "--adapter", "public-security", "--config", str(config))
    assert "adapter.toml" in out


def test_query_trusting_a_member_whose_key_is_missing_says_which_file(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", "hub")
    invoke(tmp_path, "pki", "issue", MEMBER)
    other = "11110115MB0000007E"
    out = clear_failure(
        tmp_path,
        "query",
        "--hub",
        "127.0.0.1:1",
        "--as",
        MEMBER,
        "--trust",
        other,
        "household-registration",
        "11010519491231002X",
        "--region",
        "110105",
    )
    assert other in out and "signing.pub.pem" in out


@pytest.mark.integration
def test_serve_on_a_taken_port_says_so(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", "hub")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            done = subprocess.run(
                [*HUBCTL, "--data-dir", str(tmp_path), "serve", "--listen", f"127.0.0.1:{port}"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("hubctl serve kept running on a port another process holds")
    assert done.returncode != 0
    assert f"could not listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.integration
def test_a_worker_that_dies_is_noticed_and_the_hub_stops_whole(tmp_path: Path) -> None:
    invoke(tmp_path, "pki", "init")
    invoke(tmp_path, "pki", "issue", "hub")
    invoke(tmp_path, "db", "upgrade")
    log = tmp_path / "serve.log"
    parent = serve_two_workers(tmp_path, log)
    try:
        pids = {int(pid) for pid in re.findall(r"\(pid (\d+),", log.read_text())}
        assert len(pids) == 2, log.read_text()
        (worker,) = pids - {parent.pid}
        os.kill(worker, signal.SIGKILL)
        try:
            code = parent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the first process went on serving after its worker died, and said nothing")
        text = log.read_text()
        assert code != 0 and "worker exited" in text and str(worker) in text, text
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.parametrize("command", [("findings", "list"), ("members", "list"), ("jobs", "history")])
def test_a_database_that_cannot_be_opened_is_one_line_naming_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """Whatever the command, the operator reads what failed, not a traceback (and not only "retry shortly")."""
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:9/test")  # discard: refused
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *command])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "database is unavailable" in result.output and "127.0.0.1" in result.output, result.output

"""``hubctl pki``: create the dev CA and issue member certificates with their separate signing keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hub.cli._context import CliContext, failure, pass_cli
from hub.envelope import SUITES
from hub.errors import HubError

F = TypeVar("F", bound=Callable[..., Any])


def _dir_option(function: F) -> F:
    option = click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        help="PKI folder (default: the configured pki_dir, i.e. <data_dir>/pki).",
    )
    return option(function)


def _resolve(cli: CliContext, directory: Path | None) -> Path:
    return directory if directory is not None else cli.settings.pki_dir


def _row(label: str, value: object) -> None:
    click.echo(f"  {label:<13}{value}")


@click.group(name="pki")
def command() -> None:
    """Create the dev CA and issue member certificates and signing keys.

    Dev and test only: production members get certificates from the operator's real CA (see
    certs/README.md). Private keys are written 0600 and must never be committed.
    """


@command.command(name="init", short_help="Create the hub's certificate authority.")
@_dir_option
@click.option("--name", default="Assistance Hub Dev CA", show_default=True, help="The CA's common name.")
@click.option("--days", type=click.IntRange(min=1), default=3650, show_default=True, help="Validity in days.")
@click.option("--force", is_flag=True, help="Replace an existing CA (every certificate it issued stops working).")
@pass_cli
def init(cli: CliContext, directory: Path | None, name: str, days: int, force: bool) -> None:
    """Create the hub's certificate authority."""
    from hub.pki import init_ca

    directory = _resolve(cli, directory)
    try:
        ca = init_ca(directory, name=name, days=days, force=force)
    except HubError as error:
        raise failure(error) from None
    click.echo(f"Created the CA {name!r} in {ca.directory}")
    _row("certificate", ca.cert_path)
    _row("private key", f"{ca.key_path}  (0600 — keep it secret, never commit it)")
    _row("fingerprint", ca.fingerprint)
    _row("valid until", f"{ca.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    click.echo(f"Next: hubctl pki issue hub --dir {directory}")


@command.command(name="issue", short_help="Issue a member's TLS certificate and signing key.")
@click.argument("member_id")
@_dir_option
@click.option(
    "--suite",
    type=click.Choice(sorted(SUITES)),
    default="ecdsa-p256",
    show_default=True,
    help="Algorithm of the envelope-signing key (the TLS key is always ECDSA P-256).",
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="HOST",
    help="DNS name or IP address the member serves on (repeatable; default: localhost and 127.0.0.1).",
)
@click.option("--days", type=click.IntRange(min=1), default=825, show_default=True, help="Validity in days.")
@click.option("--force", is_flag=True, help="Replace the member's existing certificate and signing key.")
@pass_cli
def issue(
    cli: CliContext,
    member_id: str,
    directory: Path | None,
    suite: str,
    hosts: tuple[str, ...],
    days: int,
    force: bool,
) -> None:
    """Issue MEMBER_ID a TLS certificate and a separate envelope-signing key (the hub itself is "hub")."""
    from hub.pki import DEFAULT_HOSTS, issue_member

    directory = _resolve(cli, directory)
    try:
        creds = issue_member(directory, member_id, hosts=hosts or DEFAULT_HOSTS, suite=suite, days=days, force=force)
    except HubError as error:
        raise failure(error) from None
    click.echo(f"Issued credentials for member {member_id} in {creds.directory}")
    _row("certificate", creds.cert_path)
    _row("TLS key", f"{creds.key_path}  (0600)")
    _row("fingerprint", creds.fingerprint)
    _row("valid until", f"{creds.not_after:%Y-%m-%d %H:%M} UTC")
    _row("hosts", ", ".join(hosts or DEFAULT_HOSTS))
    _row("signing key", f"{creds.signing_key_path}  (0600, {suite})")
    _row("public key", creds.signing_pub_path)
    _row("keyid", creds.keyid)

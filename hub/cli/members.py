"""``hubctl members``: the member registry — agencies, their keys, grants and revocation."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli._context import CliContext, failure, pass_cli
from hub.errors import HubError


def _fail(error: HubError) -> click.ClickException:
    return failure(error)


@click.group("members")
def command() -> None:
    """Add, list, grant and revoke members (agencies keyed by unified social credit code)."""


@command.command("add")
@click.argument("member_id")
@click.option("--kind", required=True, help="civil-affairs, public-security, education, hrss, housing, ...")
@click.option("--name", default=None, help="Human name, e.g. 容城县民政局 (an update keeps the stored one if omitted).")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="GB/T 2260 prefix; repeat for several.")
@click.option(
    "--endpoint",
    default=None,
    help="host:port of the member's agency node, if it runs one (an update keeps the stored one if omitted).",
)
@click.option(
    "--from-pki",
    is_flag=True,
    help="Also register the TLS certificate and signing key issued by `hubctl pki issue MEMBER_ID`.",
)
@click.option("--signing-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Public key PEM.")
@pass_cli
def add(
    cli: CliContext,
    member_id: str,
    kind: str,
    name: str | None,
    jurisdictions: tuple[str, ...],
    endpoint: str | None,
    from_pki: bool,
    signing_key: Path | None,
) -> None:
    """Register MEMBER_ID (or update its kind, name, endpoint and add jurisdictions)."""
    from hub.registry import Registry

    try:
        # Credentials are read before anything is written, and the keys go in with the member in one
        # transaction: a missing or unreadable key leaves no member behind without it.
        credentials = None
        if from_pki:
            from hub.pki import load_member

            credentials = load_member(cli.settings.pki_dir, member_id)
        keys = [credentials.signing_key.public.pem()] if credentials is not None else []
        if signing_key is not None:
            keys.append(signing_key.read_bytes())
        registry = Registry(cli.store)
        member = registry.add_member(
            member_id, kind=kind, name=name, jurisdictions=jurisdictions, endpoint=endpoint, signing_keys=keys
        )
        if credentials is not None:
            fingerprint = registry.add_certificate(member_id, credentials.cert_pem)
            click.echo(f"  signing key {credentials.keyid[:16]}…  TLS certificate {fingerprint[:16]}…")
        if signing_key is not None:
            from hub.envelope import VerifyingKey

            click.echo(f"  signing key {VerifyingKey.from_pem(keys[-1]).keyid[:16]}…")
    except HubError as error:
        raise _fail(error) from None
    except FileNotFoundError as error:
        raise click.ClickException(f"{error}; issue credentials with `hubctl pki issue {member_id}`") from None
    click.echo(f"member {member.member_id} ({member.kind}) jurisdictions: {', '.join(member.jurisdictions) or '-'}")


@command.command("list")
@click.option("--kind", default=None)
@pass_cli
def list_(cli: CliContext, kind: str | None) -> None:
    """List members with kind, jurisdictions, endpoint and status."""
    from hub.registry import Registry

    try:
        members = Registry(cli.store).members(kind)
    except HubError as error:
        raise _fail(error) from None
    if not members:
        click.echo("no members registered (add one with `hubctl members add`)")
        return
    for member in members:
        status = "REVOKED" if member.revoked else "active"
        click.echo(
            f"{member.member_id:<30} {member.kind:<22} {','.join(member.jurisdictions) or '-':<16} "
            f"{member.endpoint or '-':<22} {status}  {member.name}"
        )


@command.command("grant")
@click.argument("member_id")
@click.argument("service")
@click.option("--purpose", default="*", show_default=True, help="Purpose code, or * for any purpose.")
@pass_cli
def grant(cli: CliContext, member_id: str, service: str, purpose: str) -> None:
    """Allow MEMBER_ID to call SERVICE (e.g. hub.v1.Verification/HouseholdRegistration) for a purpose."""
    from hub.registry import Registry

    try:
        Registry(cli.store).grant(member_id, service, purpose)
    except HubError as error:
        raise _fail(error) from None
    click.echo(f"granted {service} ({purpose}) to {member_id}")


@command.command("revoke")
@click.argument("member_id")
@click.option("--key", "keyid", default="", help="Revoke only this signing key id.")
@click.option("--certificate", "fingerprint", default="", help="Revoke only this TLS certificate fingerprint.")
@click.option("--reason", default="", help="Why; kept in the registry.")
@pass_cli
def revoke(cli: CliContext, member_id: str, keyid: str, fingerprint: str, reason: str) -> None:
    """Revoke a member (with all its keys and certificates), or one key or certificate of it."""
    from hub.registry import Registry

    try:
        registry = Registry(cli.store)
        if keyid:
            registry.revoke_key(keyid, member_id)
            click.echo(f"revoked signing key {keyid[:16]}… of {member_id}")
        elif fingerprint:
            registry.revoke_certificate(fingerprint, member_id)
            click.echo(f"revoked certificate {fingerprint[:16]}… of {member_id}")
        else:
            registry.revoke_member(member_id, reason)
            click.echo(f"revoked member {member_id} with all its keys and certificates")
    except HubError as error:
        raise _fail(error) from None

"""``hubctl audit``: export and verify the audit log, sign checkpoints, answer access reports.

``verify`` needs nothing but the export and the hub's public key: no configuration, no database,
so an auditor outside the hub operator can run it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.cli._context import CliContext, counted, failure, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.audit import AuditLog
    from hub.envelope import SigningKey

KEY_OPTION = click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The hub's signing key PEM (default: <pki_dir>/members/<member_id>/signing.key.pem).",
)


def _hub_key(cli: CliContext, key_path: Path | None) -> SigningKey:
    from hub.envelope import SigningKey

    if key_path is not None:
        try:
            return SigningKey.load(key_path, owner=cli.settings.member_id)
        except ValueError as error:
            raise click.ClickException(f"{key_path} is not a private key PEM: {error}") from None
    from hub.pki import load_member

    try:
        return load_member(cli.settings.pki_dir, cli.settings.member_id).signing_key
    except HubError as error:
        raise failure(error) from None


def _log(cli: CliContext, signer: SigningKey | None = None) -> AuditLog:
    from hub.audit import AuditLog

    try:
        return AuditLog(cli.store, signer, origin=cli.settings.audit.origin)
    except HubError as error:
        raise failure(error) from None


@click.group("audit")
def command() -> None:
    """Export and verify the tamper-evident audit log (审计日志); checkpoints; access reports."""


@command.command("checkpoint")
@KEY_OPTION
@pass_cli
def checkpoint(cli: CliContext, key_path: Path | None) -> None:
    """Sign a checkpoint (Merkle tree head) over the log as it is now."""
    signed = _log(cli, _hub_key(cli, key_path)).checkpoint()
    click.echo(signed.note(), nl=False)


@command.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--with-payloads",
    is_flag=True,
    help="Include the message bodies still held (they may contain personal data; hashes suffice to verify).",
)
@click.option(
    "--checkpoint/--no-checkpoint",
    "sign_first",
    default=True,
    show_default=True,
    help="Sign a checkpoint first, so every exported entry is covered by a hub signature (needs the hub key).",
)
@KEY_OPTION
@pass_cli
def export_(cli: CliContext, file: Path, with_payloads: bool, sign_first: bool, key_path: Path | None) -> None:
    """Write the log to FILE as JSON Lines, for `hubctl audit verify`."""
    from hub.audit import export

    if sign_first:
        _log(cli, _hub_key(cli, key_path)).checkpoint()
    summary = export(cli.store, file, include_payloads=with_payloads)
    click.echo(
        f"exported {counted(summary.entries, 'entry', 'entries')} and {counted(summary.checkpoints, 'checkpoint')} "
        f"to {summary.path}"
    )


@command.command("verify")
@click.argument("export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--hub-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The hub's public signing key PEM (e.g. members/hub/signing.pub.pem).",
)
def verify(export_file: Path, hub_key: Path) -> None:
    """Check EXPORT_FILE offline: the hash chain, the Merkle roots and every checkpoint signature.

    Exits with status 1 naming the first bad line if anything was changed, inserted, removed or moved.
    """
    from hub.audit import AuditTampered, verify_export
    from hub.envelope import VerifyingKey

    try:
        key = VerifyingKey.from_pem(hub_key.read_bytes(), owner="hub")
    except (ValueError, TypeError) as error:
        raise click.ClickException(f"{hub_key} is not a public key PEM: {error}") from None
    try:
        report = verify_export(export_file, key)
    except AuditTampered as error:
        raise click.ClickException(f"TAMPERED ({error.problem}) {error.explanation}") from None
    click.echo(
        f"OK {report.origin}: {counted(report.entries, 'entry', 'entries')}, "
        f"{counted(report.checkpoints, 'checkpoint')} verified; "
        f"the hub signed the first {report.signed_size} (root {report.root_hash.hex()})"
    )
    if report.unsigned:
        click.echo(
            f"warning: the last {counted(report.unsigned, 'entry', 'entries')} chained but not yet under a signed "
            "checkpoint"
        )


@command.command("access-report")
@click.argument("id_number")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write to FILE.")
@click.option("--requested-by", default="hubctl", show_default=True, help="Who asks (recorded in the log).")
@click.option("--case-number", default="", help="The request's file number (recorded in the log).")
@click.option("--purpose-code", default="pipl.access_request", show_default=True)
@pass_cli
def access_report(
    cli: CliContext,
    id_number: str,
    fmt: str,
    output: Path | None,
    requested_by: str,
    case_number: str,
    purpose_code: str,
) -> None:
    """Which agency asked about ID_NUMBER, when, through which service and why (PIPL Art. 45).

    The number is tokenised, never stored or logged; that the report was given is itself logged.
    """
    from hub.audit import access_report_record, render_access_report
    from hub.identifiers import mask_id_number, validate_id_number
    from hub.privacy import load_secrets

    try:
        number = validate_id_number(id_number)
        tokens = load_secrets(cli.settings.data_dir).tokenizer.every_token(number)
        log = _log(cli)
        with cli.store.session() as session:
            entries = log.access_report(tokens, session=session)
            record = access_report_record(
                tokens[0], entries, asker=requested_by, purpose_code=purpose_code, case_number=case_number
            )
            seq = log.append(session, record)
    except HubError as error:
        raise failure(error) from None
    text = render_access_report(entries, fmt, subject=mask_id_number(number))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(entries)} entries written to {output}")
    click.echo(f"(this report is recorded as audit entry {seq})", err=True)


@command.command("purge")
@click.option("--older-than-days", type=click.IntRange(min=1), help="Default: audit.body_retention_days.")
@pass_cli
def purge(cli: CliContext, older_than_days: int | None) -> None:
    """Drop message bodies past retention; their hashes stay, so the log still verifies."""
    import datetime as dt

    days = older_than_days or cli.settings.audit.body_retention_days
    purged = _log(cli).purge_bodies(dt.timedelta(days=days))
    click.echo(f"purged {counted(purged, 'message body', 'message bodies')} older than {counted(days, 'day')}")

"""``hubctl feeds``: upload a departmental data feed (部门数据), pull one from an agency's system, show freshness,
re-tokenise stored ID numbers after a key rotation.

``upload`` and ``pull`` exit 2 when the hub refused rows (or rows could not be sent at all), so that a
scheduled export notices; any other failure exits 1.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TextIO, TypeVar

import click

from hub.cli._context import CliContext, counted, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.feeds import PreparedFeed, Receipt, UploadResult
    from hub.feeds._upload import Progress
    from hub.grpc.client import HubClient
    from hub.v1 import feeds_pb2

T = TypeVar("T")
P = ParamSpec("P")
#: Exit code of an upload or pull whose version has rejected (or unsendable) rows.
ROWS_REJECTED = 2


def _friendly(function: Callable[P, T]) -> Callable[P, T]:
    """Refusals and unreadable files end the command with their explanation (exit 1), not a traceback."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except HubError as error:
            raise click.ClickException(str(error)) from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise click.ClickException(f"the file cannot be read ({error}); check --encoding and --delimiter") from None

    return run


def _client(cli: CliContext, member: str, hub: str | None) -> HubClient:
    from hub.feeds._connect import member_client

    return member_client(cli.settings, member, hub)


class _Bar:
    """``click.progressbar`` fed with absolute record counts (a resumed stream starts part-way)."""

    def __init__(self, total: int, label: str, file: TextIO | None = None) -> None:
        self._bar = click.progressbar(length=max(total, 1), label=label, file=file or sys.stderr, show_pos=True)
        self._shown = 0

    def __enter__(self) -> Progress:
        self._bar.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def update(self, done: int) -> None:
        if done < self._shown:  # a retry resumed before what was handed over last time
            self._bar.pos = 0
            self._shown = 0
        self._bar.update(done - self._shown)
        self._shown = done


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r}: write FIELD=COLUMN, e.g. id_number=SFZH", param_hint="--column")
        columns[field.strip()] = column.strip()
    return columns


@click.group("feeds")
def command() -> None:
    """Departmental data feeds (部门数据): upload, pull, status, re-tokenise."""


HUB_OPTIONS = [
    click.option(
        "--as", "member", required=True, help="Your member id (the supplier); credentials from the PKI folder."
    ),
    click.option("--hub", "hub_address", default=None, help="host:port of the hub (default: server.listen)."),
]


def _hub_options(function: Any) -> Any:
    for option in reversed(HUB_OPTIONS):
        function = option(function)
    return function


@command.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", required=True, help="The supplying department, e.g. medical-insurance.")
@click.option("--kind", default=None, help="Record kind (default: the department's only one), e.g. wage.")
@click.option("--period-start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day covered.")
@click.option("--period-end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day covered.")
@click.option(
    "--policy",
    type=click.Choice(["accept_valid", "reject_version"]),
    default="accept_valid",
    show_default=True,
    help="What rejected rows do: leave the valid rows as the new version, or reject the whole version.",
)
@_hub_options
@click.option("--column", "columns", multiple=True, metavar="FIELD=COLUMN", help="Your column for a wire field.")
@click.option("--yuan", "yuan", multiple=True, metavar="FIELD", help="An amount field given in yuan, not fen.")
@click.option("--encoding", default="auto", show_default=True, help="File encoding; auto tells UTF-8 from GBK.")
@click.option("--delimiter", default=",", show_default=True)
@click.option("--chunk-rows", type=click.IntRange(1, 10_000), default=None, help="Rows per signed chunk.")
@click.option("--attempts", type=click.IntRange(1, 50), default=5, show_default=True, help="Streams to try.")
@click.option("--show", "shown", type=click.IntRange(0), default=20, show_default=True, help="Rejected rows listed.")
@pass_cli
@_friendly
def upload(
    cli: CliContext,
    file: Path,
    department: str,
    kind: str | None,
    period_start: dt.datetime,
    period_end: dt.datetime,
    policy: str,
    member: str,
    hub_address: str | None,
    columns: tuple[str, ...],
    yuan: tuple[str, ...],
    encoding: str,
    delimiter: str,
    chunk_rows: int | None,
    attempts: int,
    shown: int,
) -> None:
    """Upload FILE (CSV with a header row) as one feed version, with a progress bar and the signed receipt.

    Columns are named as the wire fields of the kind's rows (see proto/hub/v1/feeds.proto), or mapped with
    --column id_number=SFZH. The version id is derived from the data: uploading the same file again changes
    nothing and shows the same receipt. Exits 2 if rows were rejected.
    """
    from hub.feeds import DEFAULT_CHUNK_ROWS, FeedUploader, Policy, RowMapping, open_csv, prepare_feed
    from hub.feeds._kinds import kind_for

    record_kind = kind_for(department, kind)
    code = record_kind.code
    mapping = RowMapping(record_kind, _mapping(columns), {}, frozenset(yuan))
    click.echo(f"reading {file.name} as {department} / {code} rows …", err=True)
    with open_csv(file, encoding=encoding, delimiter=delimiter) as (header, records):
        feed = prepare_feed(
            mapping.reader(header).rows(records),
            department=department,
            kind=code,
            supplier=member,
            period_start=period_start.date(),
            period_end=period_end.date(),
            policy=Policy(policy),
            chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS,
        )
    with feed:
        click.echo(
            f"{counted(feed.records, 'row')} in {counted(len(feed.chunks), 'chunk')}; version {feed.version_id}",
            err=True,
        )

        async def send() -> UploadResult:
            client = _client(cli, member, hub_address)  # a gRPC channel belongs to the loop it is made in
            try:
                with _Bar(feed.records, "uploading") as progress:
                    return await FeedUploader(client, attempts=attempts).upload(feed, progress)
            finally:
                await client.aclose()

        result = asyncio.run(send())
        _summarise(result.receipt, feed, shown, signed_by=result.signed_by, streams=result.streams)
    if result.receipt.rejected_records or feed.left_out_count:
        sys.exit(ROWS_REJECTED)


@command.command("pull")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pull configuration (TOML): source, column mapping, member, department, period.",
)
@pass_cli
@_friendly
def pull(cli: CliContext, config_path: Path) -> None:
    """Read an agency's SQL table or CSV drop as configured and upload it as one feed version, once.

    What a scheduled pull does on each run. Exits 2 if rows were rejected.
    """
    from hub.feeds import load_pull_config, pull_once

    config = load_pull_config(config_path)
    click.echo(f"pulling {config.department} data for {config.member} …", err=True)
    read: list[PreparedFeed] = []  # kept for its rows left out and row numbers (its spool is closed by then)
    receipt = asyncio.run(pull_once(config, cli.settings, on_read=read.append))
    feed = read[0] if read else None
    _summarise(receipt, feed, 20)
    if receipt.rejected_records or (feed is not None and feed.left_out_count):
        sys.exit(ROWS_REJECTED)


@command.command("status")
@click.option("--department", default=None, help="Only this department's feeds.")
@click.option(
    "--as", "member", default=None, help="Ask the hub over the network as this member (else: local database)."
)
@click.option("--hub", "hub_address", default=None, help="host:port of the hub (with --as; default: server.listen).")
@pass_cli
@_friendly
def status(cli: CliContext, department: str | None, member: str | None, hub_address: str | None) -> None:
    """Per department and supplier: the current version of each feed, its age and row counts; stale ones flagged."""
    from hub.feeds import DEPARTMENTS
    from hub.feeds._kinds import department_wire
    from hub.v1 import feeds_pb2 as pb

    if department is not None:
        department_wire(department)
    if member is None:
        from hub.feeds import FeedIntake
        from hub.privacy import load_secrets

        secrets = load_secrets(cli.settings.data_dir)
        intake = FeedIntake(cli.store, secrets.tokenizer, secrets.cipher, cli.settings.feeds)
        feeds = [f.to_proto() for f in intake.status(department)]
    else:
        from hub import services
        from hub.feeds import FEED_PURPOSE

        query = pb.FeedStatusQuery(department=DEPARTMENTS[department] if department else 0)  # type: ignore[arg-type]

        async def ask() -> list[feeds_pb2.FeedFreshness]:
            client = _client(cli, member, hub_address)
            try:
                answer = await client.ask(
                    services.FEED_STATUS, query, pb.FeedStatusReport, recipient=client.hub_id, purpose=FEED_PURPOSE
                )
            finally:
                await client.aclose()
            return list(answer.body.feeds)

        feeds = asyncio.run(ask())
    _freshness_table(feeds)


@command.command("kinds")
@click.argument("department", required=False)
@pass_cli
@_friendly
def kinds(cli: CliContext, department: str | None) -> None:
    """The record kinds each department supplies, and the columns of their files (the rows' wire fields)."""
    from hub.feeds import KINDS
    from hub.feeds._kinds import FieldType, department_wire

    if department is not None:
        department_wire(department)
    forms = {
        FieldType.ID_NUMBER: "ID number",
        FieldType.REGION: "region code",
        FieldType.DATE: "YYYY-MM-DD",
        FieldType.MONTH: "YYYY-MM",
        FieldType.AMOUNT: "fen",
        FieldType.TEXT: "text",
        FieldType.USCC: "credit code",
    }
    for kind in KINDS:
        if department not in (None, kind.department):
            continue
        click.echo(f"{kind.department} / {kind.code}")
        for spec in kind.fields:
            form = "|".join(spec.codes.values()) if spec.type is FieldType.ENUM else forms[spec.type]
            click.echo(f"  {spec.name:<26} {form}{'' if spec.required else '  (optional)'}")


@command.command("retokenize")
@click.option(
    "--rotate/--no-rotate",
    default=True,
    show_default=True,
    help="Add a new token key first; --no-rotate finishes an earlier run (versions that were still receiving).",
)
@pass_cli
@_friendly
def retokenize_command(cli: CliContext, rotate: bool) -> None:
    """Rotate the token key and move every stored feed row to it (ID numbers are held only as keyed tokens).

    Hub processes keep the key they started with: restart them after a rotation.
    """
    from hub.feeds import key_versions_in_use, retokenize
    from hub.privacy import SECRETS_FILE, load_secrets

    settings = cli.settings
    secrets = load_secrets(settings.data_dir)
    if rotate:
        version = secrets.tokenizer.rotate()
        secrets.save(settings.data_dir / SECRETS_FILE)
        click.echo(f"token key version {version} is now current (saved to {settings.data_dir / SECRETS_FILE})")
    report = retokenize(cli.store, secrets.tokenizer, secrets.cipher)
    click.echo(
        f"re-tokenised {report.versions} feed versions to key version {report.key_version}: "
        f"{report.moved_rows:,} rows moved, {report.persons:,} persons mapped"
    )
    if report.unmapped_rows:
        click.echo(
            f"{report.unmapped_rows:,} rows stay on an older key (no number kept for their person); "
            "the next upload of their feed replaces them"
        )
    if report.skipped:
        click.echo(f"still receiving, run again later with --no-rotate: {', '.join(report.skipped)}")
    in_use = sorted(key_versions_in_use(cli.store))
    click.echo(f"key versions still used by feed rows: {', '.join(map(str, in_use)) or 'none'}")
    if rotate:
        click.echo("restart every hub process so that new uploads use the new key", err=True)


# --- output -----------------------------------------------------------------------------------------------


def _summarise(
    receipt: Receipt,
    feed: PreparedFeed | None,
    shown: int,
    *,
    signed_by: tuple[Any, ...] = (),
    streams: int = 1,
) -> None:
    from hub.feeds import VersionStatus

    outcome = {VersionStatus.COMPLETE: "COMPLETE", VersionStatus.REJECTED: "REJECTED (nothing kept)"}
    current = ", now the current version" if receipt.current else ""
    click.echo(f"feed version {receipt.version_id}: {outcome.get(receipt.status, receipt.status)}{current}")
    click.echo(
        f"  {receipt.department} / {receipt.kind} from {receipt.supplier}, "
        f"covering {receipt.period_start} – {receipt.period_end}"
    )
    click.echo(
        f"  rows: {receipt.received_records:,} received, {receipt.accepted_records:,} accepted, "
        f"{receipt.rejected_records:,} rejected"
        + (f"; {feed.left_out_count:,} could not be sent" if feed is not None and feed.left_out_count else "")
    )
    click.echo(f"  {counted(receipt.chunks, 'chunk')}, digest {receipt.digest.hex()} (matches the chunks sent)")
    signers = ", ".join(f"{key.owner} ({key.suite.name} {key.keyid[:12]}…)" for key in signed_by) or "the hub"
    resumed = f"; resumed {streams - 1} times" if streams > 1 else ""
    click.echo(f"  receipt signed by {signers}, completed {receipt.completed_at:%Y-%m-%d %H:%M:%S} UTC{resumed}")
    rows = [
        (feed.source_row(r.row_number) if feed else r.row_number, r.field, r.problem, r.reason)
        for r in receipt.rejections
    ]
    if feed is not None:
        rows += [(r.row_number, r.field, r.problem, f"not sent: {r.reason}") for r in feed.left_out]
    if not rows or shown == 0:
        return
    rows.sort()
    click.echo(f"rejected rows ({'row in the file, ' if feed else ''}field, rule, reason):")
    for row, field, problem, reason in rows[:shown]:
        click.echo(f"  row {row:<9} {field:<24} {problem:<16} {reason}")
    total = receipt.rejected_records + (feed.left_out_count if feed else 0)
    if total > min(shown, len(rows)):
        click.echo(
            f"  … {total - min(shown, len(rows)):,} more (the receipt lists the first {len(receipt.rejections):,})"
        )


def _age(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def _freshness_table(feeds: list[feeds_pb2.FeedFreshness]) -> None:
    from hub.feeds._kinds import department_code, kind_by_wire

    if not feeds:
        click.echo("no feed has a current version yet")
        return
    click.echo(
        f"{'department':<21}{'supplier':<20}{'kind':<21}{'period':<25}{'age':>9}{'accepted':>12}{'rejected':>10}  version"
    )
    for feed in feeds:
        flag = f"  STALE (older than {_age(feed.max_age_seconds)})" if feed.stale else ""
        click.echo(
            f"{department_code(feed.department):<21}{feed.supplier:<20}{kind_by_wire(feed.kind).code:<21}"
            f"{feed.period_start + ' – ' + feed.period_end:<25}{_age(feed.age_seconds):>9}"
            f"{feed.accepted_records:>12,}{feed.rejected_records:>10,}  {feed.version_id}{flag}"
        )
    stale = sum(feed.stale for feed in feeds)
    if stale:
        click.echo(f"{stale} of {len(feeds)} feeds are stale")

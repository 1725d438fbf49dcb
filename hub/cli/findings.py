"""``hubctl findings``: run the comparison, list, show, review and export findings, draw the statistics report.

Works on the hub's own database, as its operator. ``--bureau`` narrows every command to one bureau's findings,
as the Findings RPCs do for the bureau calling them. Persons are shown masked; ``export --with-id-numbers``
writes full ID numbers for field visits.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli._context import CliContext, counted, failure, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.findings import Finding, FindingBook, PersonNames, RuleBook

STATUSES = ("open", "under_review", "confirmed", "dismissed")
BUREAU = click.option("--bureau", help="Only this bureau's findings (its member id).")


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD") from None


def _rules(cli: CliContext) -> RuleBook:
    from hub.findings import rules_for

    try:
        return rules_for(cli.settings)
    except HubError as error:
        raise failure(error) from None


def _names(cli: CliContext, *, reveal: bool = False) -> PersonNames:
    """Names from the rosters when the hub's key file is there (never creates one)."""
    from hub.findings import PersonNames
    from hub.privacy import SECRETS_FILE, load_secrets

    secrets_file = cli.settings.data_dir / SECRETS_FILE
    cipher = load_secrets(cli.settings.data_dir).cipher if secrets_file.exists() else None
    return PersonNames(cli.store, cipher, reveal=reveal)


def _book(cli: CliContext) -> FindingBook:
    from hub.findings import FindingBook

    return FindingBook(cli.store)


@click.group("findings")
def command() -> None:
    """Comparisons and findings (数据比对和信息预警): run, list, show, review, export, statistics."""


@command.command("run")
@click.option("--as-of", "as_of", help="Compare as of this day (YYYY-MM-DD; default: today in China).")
@click.option("--region", help="Only localities under this GB/T 2260 prefix.")
@pass_cli
def run(cli: CliContext, as_of: str | None, region: str | None) -> None:
    """Run the comparison now; running it again raises nothing twice."""
    from hub.findings import run_comparison
    from hub.findings._engine import china_today
    from hub.store._base import utcnow

    try:
        summary = run_comparison(
            cli.store,
            _rules(cli),
            as_of=_day(as_of) or china_today(utcnow()),
            region=region,
            due_days=cli.settings.findings.due_days,
        )
    except HubError as error:
        raise failure(error) from None
    click.echo(f"run {summary.run_id} as of {summary.as_of} in {summary.seconds:.2f} s")
    click.echo(f"{'rule':32}{'new':>8}{'reopened':>10}{'updated':>9}{'unchanged':>11}")
    for rule, counts in sorted(summary.counts.items()):
        click.echo(f"{rule:32}{counts.new:8}{counts.reopened:10}{counts.updated:9}{counts.unchanged:11}")
    for rule, why in sorted(summary.skipped.items()):
        click.echo(f"{rule:32}skipped: {why}")


@command.command("list")
@BUREAU
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Repeat for several.")
@click.option("--rule", "rules", multiple=True, help="Rule code; repeat for several.")
@click.option("--locality", default="", help="Localities under this prefix.")
@click.option("--overdue", is_flag=True, help="Only undecided findings past their due date.")
@click.option("--after", "after_id", type=int, default=0, help="Findings with a larger id (paging).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@pass_cli
def list_(
    cli: CliContext,
    bureau: str | None,
    statuses: tuple[str, ...],
    rules: tuple[str, ...],
    locality: str,
    overdue: bool,
    after_id: int,
    limit: int,
) -> None:
    """List findings, one line each."""
    from hub.findings import FindingFilter, Status

    book = _book(cli)
    query = FindingFilter(tuple(Status(s) for s in statuses), rules, locality, overdue, (), after_id, limit)
    found = book.find(query, bureau=bureau)
    names = _names(cli)
    names.load([f.household for f in found] + [f.person for f in found])
    today = book.today()
    for finding in found:
        late = " OVERDUE" if finding.overdue(today) else ""
        click.echo(
            f"{finding.id:>7}  {finding.status.value:12} {finding.rule:28} {finding.locality}  "
            f"{names.show(finding.person or finding.household):20} due {finding.due_on}{late}  {finding.bureau or '-'}"
        )
    if not found:
        click.echo("no findings")


def _show(finding: Finding, names: PersonNames, titles: dict[str, str], today: dt.date) -> dict[str, Any]:
    from hub.findings._labels import title_of

    return {
        "id": finding.id,
        "rule": finding.rule,
        "title": title_of(titles, finding.rule, finding.region),
        "signal": finding.signal.value,
        "severity": finding.severity,
        "status": finding.status.value,
        "locality": finding.locality,
        "programme": finding.programme,
        "household_head": names.show(finding.household),
        "person": names.show(finding.person),
        "bureau": finding.bureau,
        "raised_at": finding.raised_at.isoformat(),
        "due_on": finding.due_on.isoformat(),
        "overdue": finding.overdue(today),
        "previous": finding.previous,
        "evidence": dict(finding.evidence),
        "reviewer": finding.reviewer,
        "reviewed_at": finding.reviewed_at.isoformat() if finding.reviewed_at else None,
        "reason": finding.reason,
        "overpayment_fen": finding.overpayment_fen,
    }


@command.command("show")
@click.argument("finding_id", type=int)
@BUREAU
@pass_cli
def show(cli: CliContext, finding_id: int, bureau: str | None) -> None:
    """One finding with its evidence and history, as JSON."""
    from hub.findings import rule_titles

    book = _book(cli)
    try:
        finding = book.get(finding_id, bureau=bureau)
        history = book.history(finding_id, bureau=bureau)
    except HubError as error:
        raise failure(error) from None
    names = _names(cli)
    names.load([finding.household, finding.person])
    document = _show(finding, names, rule_titles(_rules(cli)), book.today())
    document["history"] = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "from": e.from_status.value,
            "to": e.to_status.value,
            "actor": e.actor,
            "reason": e.reason,
        }
        for e in history
    ]
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@command.command("review")
@click.argument("finding_id", type=int)
@click.argument("action", type=click.Choice(["start", "confirm", "dismiss"]))
@click.option("--reviewer", required=True, help="The person taking this step (name or staff number).")
@click.option("--reason", default="", help="Why (required to confirm or dismiss).")
@BUREAU
@pass_cli
def review(cli: CliContext, finding_id: int, action: str, reviewer: str, reason: str, bureau: str | None) -> None:
    """Take a review step: start (open → under review), confirm or dismiss (under review → decided)."""
    from hub.audit import AuditLog, operator_review_record
    from hub.findings import Action

    try:
        with cli.store.session() as session:  # the step and its audit entry commit together
            finding = _book(cli).review(
                finding_id,
                Action(action),
                reviewer=reviewer,
                reason=reason,
                bureau=bureau,
                member=bureau,
                session=session,
            )
            record = operator_review_record(
                finding_id=finding.id,
                action=action,
                reviewer=finding.reviewer or reviewer,
                reason=finding.reason or "",
                subject=finding.subject,
                bureau=finding.bureau or "",
                operator=cli.settings.member_id,
            )
            AuditLog(cli.store).append(session, record)
    except HubError as error:
        raise failure(error) from None
    line = f"finding {finding.id} is now {finding.status.value} (by {finding.reviewer})"
    if finding.overpayment_fen is not None:
        line += f"; overpayment {finding.overpayment_fen / 100:.2f} yuan"
    click.echo(line)


@command.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: from FILE's suffix.")
@BUREAU
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Repeat for several.")
@click.option("--overdue", is_flag=True, help="Only undecided findings past their due date.")
@click.option("--with-id-numbers", is_flag=True, help="Full ID numbers (for field visits) instead of masked ones.")
@pass_cli
def export(
    cli: CliContext,
    file: Path,
    fmt: str | None,
    bureau: str | None,
    statuses: tuple[str, ...],
    overdue: bool,
    with_id_numbers: bool,
) -> None:
    """Write findings to FILE as CSV or XLSX, columns named in Chinese and English."""
    from hub.findings import ExportFormat, FindingFilter, Status, rule_titles, write_findings

    chosen = fmt or file.suffix.lstrip(".").lower()
    if chosen not in ("csv", "xlsx"):
        raise click.BadParameter("give --format csv|xlsx or a FILE ending in .csv or .xlsx")
    book = _book(cli)
    query = FindingFilter(tuple(Status(s) for s in statuses), overdue_only=overdue)
    rows = write_findings(
        book.iterate(query, bureau=bureau),
        file,
        ExportFormat(chosen),
        names=_names(cli, reveal=with_id_numbers),
        titles=rule_titles(_rules(cli)),
        today=book.today(),
    )
    click.echo(f"exported {counted(rows, 'finding')} to {file}")


@command.command("stats")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--period-end", help="The report day (YYYY-MM-DD; default: today in China).")
@click.option("--region", help="Only localities under this GB/T 2260 prefix.")
@pass_cli
def stats(cli: CliContext, folder: Path, period_end: str | None, region: str | None) -> None:
    """Write the statistics report (14th / 28th) to FOLDER: statistics.csv, statistics.xlsx and trend.png."""
    from hub.findings import statistics_report
    from hub.findings._engine import china_today
    from hub.store._base import utcnow

    try:
        report = statistics_report(
            cli.store,
            period_end=_day(period_end) or china_today(utcnow()),
            region=region,
            trend=cli.settings.findings.trend_periods,
        )
    except HubError as error:
        raise failure(error) from None
    folder.mkdir(parents=True, exist_ok=True)
    report.to_csv(folder / "statistics.csv")
    report.to_xlsx(folder / "statistics.xlsx")
    report.chart_png(folder / "trend.png")
    totals = report.totals()
    click.echo(
        f"period {report.period_start} – {report.period_end}: {totals.households} households, "
        f"{totals.persons} persons, {totals.findings_opened} findings opened, {totals.findings_overdue} overdue"
    )
    click.echo(f"wrote statistics.csv, statistics.xlsx and trend.png to {folder}")


@command.command("rules")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help="Check this folder.")
@pass_cli
def rules(cli: CliContext, directory: Path | None) -> None:
    """Check a folder of rule files (default: the configured rules) and list what applies where."""
    from hub.findings import load_rules

    try:
        book = load_rules(directory) if directory is not None else _rules(cli)
    except HubError as error:
        raise failure(error) from None
    for region in book.regions:
        click.echo(
            f"{region.prefix or '(default)':10} {region.name}: standard {region.standard_fen / 100:.2f} yuan, "
            f"{len(region.rules)} rules ({' < '.join(region.sources)})"
        )
        for rule in region.rules:
            click.echo(f"    {rule.code:28} {rule.shape.value:10} {rule.signal.value:10} {rule.severity.value}")

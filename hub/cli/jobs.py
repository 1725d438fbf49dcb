"""``hubctl jobs``: the scheduled jobs, their runs, and running one now.

``run`` executes the job in this process (a cross-check asks the members through the hub's own routing and
keys, so it needs the hub's credentials); it takes the job's lease like a scheduled run, so it never overlaps
a run a hub replica is doing, and Ctrl-C leaves a run the next hub resumes from its checkpoint.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from hub.cli._context import CliContext, failure, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.app import HubApp
    from hub.jobs import HubJobs, RunRecord


def _app(cli: CliContext) -> HubApp:
    from hub.app import build_hub

    settings = cli.settings
    settings.jobs.enabled = False  # this process runs what it is told, and schedules nothing
    try:
        return build_hub(settings, store=cli.store)
    except FileNotFoundError as error:
        raise click.ClickException(f"{error}. Run `hubctl pki init` and `hubctl pki issue hub` first.") from None
    except HubError as error:
        raise failure(error) from None


def _jobs(app: HubApp) -> HubJobs:
    assert app.jobs is not None
    return app.jobs


def _local(moment: dt.datetime | None, cli: CliContext) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(cli.settings.jobs.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def _record_json(record: RunRecord) -> dict[str, object]:
    return {
        "run_id": record.run_id,
        "job": record.job,
        "status": str(record.status),
        "trigger": record.trigger,
        "scheduled_for": record.scheduled_for.isoformat(),
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "holder": record.holder,
        "attempts": record.attempts,
        "progress": [record.progress_done, record.progress_total],
        "counts": dict(record.counts),
        "error": record.error,
        "report": dict(record.report),
    }


@click.group("jobs")
def command() -> None:
    """Scheduled runs (定时任务): annual cross-check, re-checks, comparisons, statistics, housekeeping."""


@command.command("list")
@pass_cli
def list_(cli: CliContext) -> None:
    """Every job with its schedule, next due time and last run (times in jobs.timezone)."""
    app = _app(cli)
    try:
        jobs = _jobs(app)
        last = jobs.runner.last_runs()
        for planned in jobs.planned():
            job = jobs.runner.jobs[planned.name]
            run = last.get(planned.name)
            when = _local(planned.next_run_at, cli)
            click.echo(f"{planned.name:<20} {planned.cron or '(on demand)':<16} next {when}")
            click.echo(f"    {job.description}")
            if run is not None:
                click.echo(f"    last: {run.summary()}")
    finally:
        asyncio.run(app.stop())


@command.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the finished run as JSON.")
@pass_cli
def run(cli: CliContext, name: str, as_json: bool) -> None:
    """Run job NAME now, in this process, and print its outcome and report."""
    app = _app(cli)
    runner = _jobs(app).runner

    async def go() -> RunRecord:
        try:
            return await runner.run_now(name)
        finally:
            await app.stop()

    try:
        record = asyncio.run(go())
    except HubError as error:
        raise failure(error) from None
    if as_json:
        click.echo(json.dumps(_record_json(record), ensure_ascii=False, indent=2))
    else:
        click.echo(record.summary())
        if record.report:
            click.echo(json.dumps(dict(record.report), ensure_ascii=False, indent=2))
    if record.status != "succeeded":
        raise SystemExit(1)


@command.command("history")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run, with its report.")
@pass_cli
def history(cli: CliContext, name: str | None, limit: int, as_json: bool) -> None:
    """Runs of job NAME (or of every job), newest first."""
    from hub.jobs import JobRunner

    runner = JobRunner(cli.store, {}, cli.settings)
    for record in runner.history(name, limit):
        click.echo(json.dumps(_record_json(record), ensure_ascii=False) if as_json else record.summary())

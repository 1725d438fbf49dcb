"""``hubctl db``: schema migrations (Alembic)."""

from __future__ import annotations

import click

from hub.cli._context import CliContext, pass_cli


@click.group("db")
def command() -> None:
    """Database migrations. The hub also migrates an empty database on first start."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_cli
def upgrade(cli: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from hub.store import make_engine, migrate

    engine = make_engine(cli.settings.resolved_database_url)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    click.echo(f"database at {migrate.current_revision(engine)} (was {before or 'empty'})")
    engine.dispose()


@command.command("current")
@pass_cli
def current(cli: CliContext) -> None:
    """Show the database's revision and whether it is up to date."""
    from hub.store import make_engine, migrate

    engine = make_engine(cli.settings.resolved_database_url)
    now, head = migrate.current_revision(engine), migrate.head_revision(engine)
    click.echo(f"current: {now or 'empty'}; head: {head}{'' if now == head else ' (run: hubctl db upgrade)'}")
    engine.dispose()

"""``hubctl db``: schema migrations (Alembic)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from hub.cli._context import CliContext, failure, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from sqlalchemy import Engine


@contextmanager
def _engine(cli: CliContext) -> Iterator[Engine]:
    """The configured database's engine; an unreachable database or an unknown revision is a message, not a
    traceback."""
    from alembic.util import CommandError

    from hub.store import make_engine

    engine = make_engine(cli.settings.resolved_database_url)
    try:
        yield engine
    except HubError as error:
        raise failure(error) from None
    except CommandError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()


@click.group("db")
def command() -> None:
    """Database migrations. The hub also migrates an empty database on first start."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_cli
def upgrade(cli: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from hub.store import migrate

    with _engine(cli) as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, revision)
        click.echo(f"database at {migrate.current_revision(engine)} (was {before or 'empty'})")


@command.command("current")
@pass_cli
def current(cli: CliContext) -> None:
    """Show the database's revision and whether it is up to date."""
    from hub.store import migrate

    with _engine(cli) as engine:
        now, head = migrate.current_revision(engine), migrate.head_revision(engine)
    click.echo(f"current: {now or 'empty'}; head: {head}{'' if now == head else ' (run: hubctl db upgrade)'}")

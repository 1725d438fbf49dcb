"""What every ``hubctl`` command shares: settings loaded once, the store opened on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from hub.config import Settings
    from hub.errors import HubError
    from hub.store import Store


@dataclass
class CliContext:
    config_path: Path | None = None
    data_dir: Path | None = None
    verbose: int = 0
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from hub.config import load_settings

            overrides: dict[str, Any] = {}
            if self.data_dir is not None:
                overrides["data_dir"] = self.data_dir
            try:
                self._settings = load_settings(self.config_path, **overrides)
            except (FileNotFoundError, ValueError) as error:
                raise click.ClickException(str(error)) from None
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from hub.store import open_store

            self._store = open_store(self.settings.resolved_database_url)
        return self._store


pass_cli = click.make_pass_decorator(CliContext)


def counted(number: int, singular: str, plural: str = "") -> str:
    """``1 chunk``, ``2 chunks``, ``1,000 entries``: a count with its noun in the right number."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def failure(error: HubError) -> click.ClickException:
    """A core error as the one line a command ends with (exit 1). The operator is local, so a database that cannot
    be reached also says why (the driver's first line, which a caller over gRPC never sees); ID numbers masked."""
    from hub.errors import StorageUnavailable
    from hub.logs import redact

    cause = f" ({error.detail})" if isinstance(error, StorageUnavailable) and error.detail else ""
    return click.ClickException(redact(error.explanation + cause))

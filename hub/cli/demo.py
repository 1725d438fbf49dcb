"""``hubctl demo``: the 居住地申办 story between real processes on loopback, as a readable transcript."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from hub.cli._context import CliContext, pass_cli


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the demo folder (PKI, database, logs) instead of deleting it.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help="Use this folder.")
@pass_cli
def command(cli: CliContext, keep: bool, directory: Path | None) -> None:
    """Generate a dev PKI and a SQLite database in a temporary folder, start the hub and agency nodes
    over mutual TLS, tell the residence-based application story as signed queries, verify every
    counter-signed answer, and shut everything down cleanly.
    """
    from hub.demo import run

    root = directory or Path(tempfile.mkdtemp(prefix="hub-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        outcome = run(root, click.echo)
    finally:
        if not keep and directory is None:
            shutil.rmtree(root, ignore_errors=True)
    if any(code != 0 for code in outcome.exit_codes.values()):
        raise click.ClickException(f"a process did not shut down cleanly: {outcome.exit_codes}")

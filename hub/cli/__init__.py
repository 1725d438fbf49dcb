"""``hubctl``: run the hub, manage its PKI, members and database, and try it with a demo.

Every command reads configuration from ``--config FILE`` (TOML), then ``HUB_…`` environment
variables; see ``hub.config``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from hub.cli._context import CliContext

#: Command groups, each in its own module, imported when first used so ``--help`` stays fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("hub.cli.serve", "Run the hub's gRPC server."),
    "node": ("hub.cli.node", "Run an agency node that answers the hub through an adapter."),
    "pki": ("hub.cli.pki", "Create the dev CA and issue member certificates and signing keys."),
    "members": ("hub.cli.members", "Add, list, grant and revoke members."),
    "db": ("hub.cli.db", "Database migrations."),
    "demo": ("hub.cli.demo", "Run a self-contained demo on loopback and print a transcript."),
    "audit": ("hub.cli.audit", "Export and verify the audit log; access reports."),
    "jobs": ("hub.cli.jobs", "Scheduled jobs: list, run now, history."),
    "query": ("hub.cli.query", "Ask the hub one question by hand (户籍, 居住证, 函询, 转接, 一键核对, 授权书)."),
    "feeds": ("hub.cli.feeds", "Departmental data feeds (部门数据): upload, pull, status, re-tokenise."),
    "findings": (
        "hub.cli.findings",
        "Comparisons and findings (数据比对和信息预警): run, list, review, export, stats.",
    ),
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        """A core error no command caught (the database down, say) is a one-line message, not a traceback."""
        from hub.cli._context import failure
        from hub.errors import HubError

        try:
            return super().invoke(ctx)
        except HubError as error:
            raise failure(error) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HUB_CONFIG",
    help="TOML configuration file (default: none; HUB_… environment variables apply on top).",
)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Override data_dir.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, data_dir: Path | None, verbose: int) -> None:
    """hubctl — the assistance-verification hub (社会救助核查数据交换平台)."""
    ctx.obj = CliContext(config_path=config_path, data_dir=data_dir, verbose=verbose)

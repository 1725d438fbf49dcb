"""``hubctl node``: run an agency node that answers the hub through one adapter."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import click

from hub.cli._context import CliContext, pass_cli
from hub.errors import HubError


@click.command("node")
@click.option("--member", "member_id", required=True, help="This agency's member id (USCC[/subsystem]).")
@click.option("--adapter", "adapter_name", required=True, help="Adapter name, e.g. public-security, civil-affairs.")
@click.option(
    "--config",
    "adapter_config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the adapter's configuration (see adapters/examples/).",
)
@click.option("--listen", default="127.0.0.1:0", show_default=True, help="host:port; port 0 picks a free one.")
@click.option("--insecure", is_flag=True, help="No TLS. Local experiments only; warns on every start.")
@pass_cli
def command(
    cli: CliContext, member_id: str, adapter_name: str, adapter_config: Path | None, listen: str, insecure: bool
) -> None:
    """Serve this agency's side of the exchange over mutual TLS.

    The node accepts only requests counter-signed by the hub, asks its adapter, drops every field
    the declared purpose does not need, and signs the answer with the member's signing key.
    Prints the bound port so the hub's registry can be pointed at it (`hubctl members add --endpoint`).
    """
    from hub.app import start_node
    from hub.grpc.server import serve_until_signalled
    from hub.logs import configure_logging

    configure_logging(max(cli.verbose, 1), json=True)
    try:
        config = tomllib.loads(adapter_config.read_text()) if adapter_config else {}
    except tomllib.TOMLDecodeError as error:
        raise click.ClickException(f"{adapter_config} is not valid TOML: {error}") from None
    if adapter_config is not None:  # relative folders and URLs in the file are relative to the file
        config.setdefault("base_dir", str(adapter_config.resolve().parent))
    settings = cli.settings

    async def run() -> None:
        running, node = await start_node(
            settings.pki_dir,
            member_id,
            adapter_name,
            config,
            listen=listen,
            insecure=insecure,
            hub_id=settings.member_id,
            max_message_bytes=settings.policy.max_message_bytes,
        )
        click.echo(f"node {member_id} listening on port {running.port}", err=True)
        try:
            await serve_until_signalled(running, settings.server.shutdown_grace_seconds)
        finally:  # the adapter's pooled connections to the agency's database end with the node
            await node.adapter.aclose()

    try:
        asyncio.run(run())
    except FileNotFoundError as error:  # the hub's public signing key, which the node needs to verify requests
        raise click.ClickException(
            f"{error}. Copy the hub's public signing key into the PKI folder (`hubctl pki issue hub` creates it)."
        ) from None
    except (HubError, OSError) as error:  # no credentials (NOT_FOUND), an unknown adapter, a bad config, the port taken
        raise click.ClickException(str(error)) from None

"""``hubctl serve``: run the hub until SIGTERM, in one process or several sharing the port."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

import click

from hub.cli._context import CliContext, counted, pass_cli
from hub.errors import HubError

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--listen", help="host:port to listen on (default: server.listen from the configuration).")
@click.option("--insecure", is_flag=True, help="No TLS at all. Local experiments only; warns on every start.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Hub processes sharing the port (SO_REUSEPORT; the kernel spreads connections). Default: server.workers.",
)
@click.option("--reuse-port", is_flag=True, hidden=True, help="Internal: a worker joining a shared port.")
@pass_cli
def command(cli: CliContext, listen: str | None, insecure: bool, workers: int | None, reuse_port: bool) -> None:
    """Run the hub's gRPC server (mutual TLS) until SIGTERM or Ctrl-C.

    Needs the hub's credentials from `hubctl pki init` and `hubctl pki issue hub`. An empty
    database is migrated on first start. With --workers N, N processes serve one port; SIGTERM to
    the first stops them all gracefully; if a worker dies on its own, the first stops the others and
    exits with status 1, so that a supervisor restarts the hub whole.
    """
    from hub.app import build_hub
    from hub.grpc.server import serve_until_signalled
    from hub.logs import configure_logging

    configure_logging(max(cli.verbose, 1), json=True)
    settings = cli.settings
    if listen:
        settings.server.listen = listen
    if insecure:
        settings.server.insecure = True
    if workers is not None:
        settings.server.workers = workers
    if reuse_port:
        settings.server.workers = max(settings.server.workers, 2)
    spawn = 0 if reuse_port else settings.server.workers - 1

    async def run() -> None:
        app = build_hub(settings)
        running = await app.start()
        host = settings.server.listen.rsplit(":", 1)[0]
        children = [_spawn_worker(cli, f"{host}:{running.port}", settings.server.insecure) for _ in range(spawn)]
        click.echo(
            f"hub listening on {host}:{running.port} (pid {os.getpid()}, {counted(1 + len(children), 'process', 'processes')})",
            err=True,
        )
        stopping = asyncio.Event()
        lost: list[int] = []  # pids of workers that died on their own
        watcher = asyncio.create_task(_watch(children, lost, stopping)) if children else None
        try:
            await serve_until_signalled(running, settings.server.shutdown_grace_seconds, stopping=stopping)
        finally:
            if watcher is not None:
                watcher.cancel()
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=settings.server.shutdown_grace_seconds + 5)
                except subprocess.TimeoutExpired:
                    child.kill()
            await app.stop()
        if lost:
            raise WorkerLost()

    try:
        asyncio.run(run())
    except WorkerLost:
        raise click.ClickException(
            "a worker process exited on its own (see the log); all workers were stopped so that a supervisor "
            "restarts the hub whole"
        ) from None
    except FileNotFoundError as error:
        raise click.ClickException(f"{error}. Run `hubctl pki init` and `hubctl pki issue hub` first.") from None
    except (HubError, OSError) as error:  # no credentials (NOT_FOUND), the port taken, …
        raise click.ClickException(str(error)) from None


class WorkerLost(Exception):
    """A worker process ended without being asked to."""


async def _watch(children: list[subprocess.Popen[bytes]], lost: list[int], stopping: asyncio.Event) -> None:
    """Notice a worker that dies (killed, out of memory, failed to start): log it and stop the rest.

    Left alone, the hub would go on with fewer processes than it says, and nobody would know.
    """
    while True:
        await asyncio.sleep(0.5)
        if stopping.is_set():  # a shutdown under way (a supervisor may signal every process of the group at once)
            return
        for child in children:
            code = child.poll()
            if code is not None:
                log.error("worker exited", extra={"pid": child.pid, "exit_code": code})
                lost.append(child.pid)
                stopping.set()
                return


def _spawn_worker(cli: CliContext, address: str, insecure: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "hub.cli"]
    if cli.config_path is not None:
        args += ["--config", str(cli.config_path)]
    if cli.data_dir is not None:
        args += ["--data-dir", str(cli.data_dir)]
    args += ["serve", "--listen", address, "--reuse-port"]
    if insecure:
        args.append("--insecure")
    return subprocess.Popen(args)

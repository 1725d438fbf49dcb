"""The gRPC face of the hub and of agency nodes: thin byte-level handlers around a core object.

Requests are registered without a deserializer, so the core receives the exact bytes that were
signed (it checks the size, verifies, and only then parses). Errors are mapped once, here, by
``hub.grpc.status``. The standard health service and server reflection are always on.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from hub.errors import HubError
from hub.exchange import Peer
from hub.grpc.status import to_status
from hub.v1 import admin_pb2, audit_pb2, feeds_pb2, findings_pb2, jobs_pb2, verification_pb2
from hub.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)

PROTO_FILES = (verification_pb2, feeds_pb2, findings_pb2, jobs_pb2, audit_pb2, admin_pb2)


class UnaryCore(Protocol):
    async def handle(self, service: str, data: bytes, peer: Peer | None) -> Envelope: ...


StreamHandler = Callable[[str, AsyncIterator[bytes], "Peer | None"], Awaitable[Envelope]]


def method_paths() -> dict[str, bool]:
    """Every ``<package>.<Service>/<Method>`` in the contract, with whether it is client-streaming."""
    paths: dict[str, bool] = {}
    for module in PROTO_FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                paths[f"{service.full_name}/{method.name}"] = method.client_streaming
    return paths


def peer_of(context: grpc.aio.ServicerContext[Any, Any]) -> Peer | None:
    from hub.grpc.credentials import peer_identity

    identity = peer_identity(context)
    if identity is None:
        return None
    return Peer(fingerprint=identity.fingerprint, member_id=identity.member_id)


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: HubError) -> None:
    status = to_status(error)
    await context.abort(status.code, status.details, status.trailing_metadata)


#: What the caller hears of a fault that is not a refusal; the details stay in this process's (redacted) log.
INTERNAL_DETAILS = "the server failed to answer; its operator can find the cause in its log"


async def _fail(context: grpc.aio.ServicerContext[Any, Any], service: str) -> None:
    """An unexpected exception: logged with its traceback here, sent as a bare INTERNAL.

    Left to gRPC it would travel as UNKNOWN with the exception's text (a driver's SQL and parameters, a
    path, an ID number) to the caller, and from a node on to the asking member.
    """
    log.exception("failed", extra={"service": service})
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_DETAILS)


def _unary(core: UnaryCore, service: str) -> grpc.RpcMethodHandler[bytes, bytes]:
    async def handler(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        try:
            answer = await core.handle(service, request, peer_of(context))
        except HubError as error:
            log.info("rejected", extra={"service": service, "reason": error.reason})
            await _abort(context, error)
            raise AssertionError("unreachable") from None
        except Exception:
            await _fail(context, service)
            raise AssertionError("unreachable") from None
        return answer.SerializeToString()

    return grpc.unary_unary_rpc_method_handler(handler)


def _stream(stream_handler: StreamHandler, service: str) -> grpc.RpcMethodHandler[bytes, bytes]:
    async def handler(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        try:
            answer = await stream_handler(service, requests, peer_of(context))
        except HubError as error:
            log.info("rejected", extra={"service": service, "reason": error.reason})
            await _abort(context, error)
            raise AssertionError("unreachable") from None
        except Exception:
            await _fail(context, service)
            raise AssertionError("unreachable") from None
        return answer.SerializeToString()

    return grpc.stream_unary_rpc_method_handler(handler)


def generic_handlers(
    core: UnaryCore, services: Iterable[str], stream_handlers: dict[str, StreamHandler] | None = None
) -> list[grpc.GenericRpcHandler[bytes, bytes]]:
    streaming = method_paths()
    by_service: dict[str, dict[str, grpc.RpcMethodHandler[bytes, bytes]]] = {}
    stream_handlers = stream_handlers or {}
    for path in services:
        service_name, method = path.split("/")
        if streaming.get(path):
            if path not in stream_handlers:
                continue
            handler = _stream(stream_handlers[path], path)
        else:
            handler = _unary(core, path)
        by_service.setdefault(service_name, {})[method] = handler
    return [grpc.method_handlers_generic_handler(name, methods) for name, methods in by_service.items()]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: Any  # grpc_health.v1.health.aio.HealthServicer (untyped)

    async def stop(self, grace: float = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


def server_options(max_message_bytes: int, *, reuse_port: bool = False) -> list[tuple[str, Any]]:
    """``reuse_port`` lets several hub processes share one port (the kernel spreads connections);
    off by default so that a second server on a taken port fails instead of silently sharing it."""
    # gRPC's own limit sits above ours so that a moderately oversized message reaches the core
    # and is refused with the TOO_LARGE reason; a huge one is cut by gRPC itself.
    limit = max_message_bytes * 2 + 1024
    return [
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


async def start_server(
    core: UnaryCore,
    *,
    services: Iterable[str],
    listen: str,
    credentials: grpc.ServerCredentials | None,
    max_message_bytes: int,
    stream_handlers: dict[str, StreamHandler] | None = None,
    reuse_port: bool = False,
) -> RunningServer:
    """Start serving on ``listen`` (``host:0`` picks a free port); returns the bound port."""
    services = list(services)
    server = grpc.aio.server(options=server_options(max_message_bytes, reuse_port=reuse_port))
    server.add_generic_rpc_handlers(generic_handlers(core, services, stream_handlers))
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = sorted({path.split("/")[0] for path in services})
    for name in names:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    try:  # grpcio reports a port it cannot bind as RuntimeError (older versions returned 0)
        port = (
            server.add_secure_port(listen, credentials) if credentials is not None else server.add_insecure_port(listen)
        )
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(f"could not listen on {listen}: the port is taken or the address is not this machine's")
    await server.start()
    return RunningServer(server, port, health_servicer)


async def serve_until_signalled(running: RunningServer, grace: float, *, stopping: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM or SIGINT (or ``stopping`` is set), then stop gracefully: in-flight calls get
    ``grace`` seconds."""
    loop = asyncio.get_running_loop()
    stopping = stopping or asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down", extra={"grace_seconds": grace})
    await running.stop(grace)

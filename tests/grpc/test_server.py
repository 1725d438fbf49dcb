"""The byte-level handlers: a fault that is not a refusal reaches the caller as INTERNAL, without its text."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import grpc
import pytest

from hub import errors, services
from hub.exchange import Peer
from hub.grpc.server import start_server
from hub.grpc.status import from_rpc_error
from hub.logs import configure_logging
from hub.v1.envelope_pb2 import Envelope

ID_NUMBER = "11010519491231002X"
LEAK = (
    f"(sqlite3.OperationalError) no such table [SQL: SELECT * FROM persons WHERE id = ?] [parameters: ('{ID_NUMBER}',)]"
)


class Broken:
    """A core (or an agency node's adapter) failing the way a driver does: with SQL and parameters in its text."""

    async def handle(self, service: str, data: bytes, peer: Peer | None) -> Envelope:
        raise RuntimeError(LEAK)


async def broken_stream(service: str, chunks: AsyncIterator[bytes], peer: Peer | None) -> Envelope:
    async for _ in chunks:
        raise RuntimeError(LEAK)
    return Envelope()


@pytest.mark.parametrize("service", [services.HOUSEHOLD_REGISTRATION, services.FEED_UPLOAD])
def test_an_unexpected_exception_is_internal_and_its_text_stays_in_the_redacted_log(service: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_level = root.level
    handler = configure_logging(0, json=True, stream=stream)
    try:
        call = asyncio.run(call_failing(service))
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        logging.captureWarnings(False)
    assert call.code() == grpc.StatusCode.INTERNAL
    details = call.details() or ""
    assert ID_NUMBER not in details and "SQL" not in details and "RuntimeError" not in details
    error = from_rpc_error(call, "11130629MB1234567U")
    assert isinstance(error, errors.MemberUnavailable) and error.member == "11130629MB1234567U"
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [r for r in records if r["message"] == "failed" and r.get("service") == service]
    assert failed and "RuntimeError" in failed[0]["exception"], records
    assert ID_NUMBER not in stream.getvalue()


async def call_failing(service: str) -> grpc.aio.AioRpcError:
    running = await start_server(
        Broken(),
        services=[service],
        listen="127.0.0.1:0",
        credentials=None,
        max_message_bytes=1 << 20,
        stream_handlers={services.FEED_UPLOAD: broken_stream},
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                if service == services.FEED_UPLOAD:

                    async def chunks() -> AsyncIterator[bytes]:
                        yield b"chunk"

                    await channel.stream_unary(f"/{service}")(chunks(), timeout=10)
                else:
                    await channel.unary_unary(f"/{service}")(b"question", timeout=10)
            return raised.value
    finally:
        await running.stop(0)

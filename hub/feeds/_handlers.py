"""The Feeds service, answered by the hub itself: ``Upload`` (client-streaming) and ``Status``.

Thin over ``FeedIntake``, whose work is synchronous database work: it runs off the event loop, in two
worker threads that make each upload a two-stage pipeline. Chunk n + 1 is parsed, validated and tokenised
(Python, holding the GIL) while chunk n is written (SQLite's B-tree work and PostgreSQL's COPY run without
it). One thread per stage per hub process: concurrent uploads take turns chunk by chunk, and each of the
intake's caches is only ever touched by one thread at a time. If chunk n turns out not to be writable as
prepared (another stream moved the version), ``FeedIntake.store`` prepares it again itself.

A chunk is acknowledged only by the receipt: if the stream breaks, the supplier asks ``Status`` for the
version's ``next_sequence`` and resumes there on a new stream (chunks already stored are acknowledged
again without being written). The hub seals the receipt body returned here as its signed answer to the
stream's last message.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from google.protobuf.message import Message as ProtoMessage

from hub import services
from hub.envelope import Opened
from hub.errors import InvalidArgument
from hub.feeds._intake import FeedIntake
from hub.feeds._receipt import ChunkAck
from hub.feeds._writes import PreparedChunk
from hub.v1 import feeds_pb2 as pb

if TYPE_CHECKING:
    from hub.exchange import LocalHandler, StreamHandler
    from hub.policy import Call

T = TypeVar("T")


class FeedService:
    """``Upload`` and ``Status`` over one intake; see the module docstring."""

    def __init__(self, intake: FeedIntake) -> None:
        self.intake = intake
        self._preparing = ThreadPoolExecutor(1, thread_name_prefix="feed-prepare")
        self._writing = ThreadPoolExecutor(1, thread_name_prefix="feed-write")

    async def upload(self, chunks: AsyncIterator[Opened], call: Call) -> ProtoMessage:
        """Store every chunk of one version, then complete it; the receipt is the answer.

        The schedule: pulling chunk n + 1 journals chunk n (the core does it as the handler asks for the next
        message), so chunk n is written only after that, alongside the preparation of chunk n + 1. No two
        database writes of one stream (the journal's, the chunk's) then ever wait for each other.
        """
        version_id: str | None = None
        pending: PreparedChunk | None = None  # prepared, to be written once the next chunk is in hand
        writing: asyncio.Future[ChunkAck] | None = None
        try:
            async for opened in chunks:
                chunk = opened.body(pb.FeedChunk)
                if version_id is None:
                    version_id = chunk.version_id
                elif chunk.version_id != version_id:
                    raise InvalidArgument(
                        "version_id", f"this stream uploads {version_id}; send one version per stream"
                    )
                assume = None
                if pending is not None:
                    writing = self._start(self._writing, functools.partial(self.intake.store, pending))
                    if chunk.sequence == pending.sequence + 1:
                        assume = pending.after
                    else:  # a repeat or a gap: judge it on the stored state, not on one still being written
                        await writing
                        writing = None
                prepare = functools.partial(self.intake.prepare_received, chunk, sender=opened.sender, assume=assume)
                prepared = await self._run(self._preparing, prepare)
                if writing is not None:
                    await writing
                    writing = None
                pending = prepared if isinstance(prepared, PreparedChunk) else None  # an ack: stored before
            if pending is not None:
                writing = self._start(self._writing, functools.partial(self.intake.store, pending))
                await writing
                writing = None
        finally:
            if writing is not None:  # the stream failed or was cut: the chunk in hand still commits or not, alone
                writing.add_done_callback(_consume)
        if version_id is None:
            raise InvalidArgument("stream", "the stream carried no chunk")
        receipt = await self._run(self._writing, functools.partial(self.intake.complete, version_id))
        return receipt.to_proto()

    async def status(self, request: Opened, call: Call) -> ProtoMessage:
        """Freshness of the feeds and, for the supplier asking, the progress of one of its uploads."""
        query = request.body(pb.FeedStatusQuery)
        report = functools.partial(self.intake.status_report, query, requester=request.sender)
        return await asyncio.to_thread(report)

    def handlers(self) -> tuple[dict[str, LocalHandler], dict[str, StreamHandler]]:
        return {services.FEED_STATUS: self.status}, {services.FEED_UPLOAD: self.upload}

    @staticmethod
    def _start(executor: ThreadPoolExecutor, work: Callable[[], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(executor, work)

    async def _run(self, executor: ThreadPoolExecutor, work: Callable[[], T]) -> T:
        return await self._start(executor, work)


def _consume(future: asyncio.Future[ChunkAck]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: its stream has already failed for a reason of its own


def feed_handlers(intake: FeedIntake) -> tuple[dict[str, LocalHandler], dict[str, StreamHandler]]:
    """``(unary handlers, stream handlers)`` of the Feeds service, for ``HubCore.register`` / ``register_stream``."""
    return FeedService(intake).handlers()

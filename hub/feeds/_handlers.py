"""The Feeds service, answered by the hub itself: ``Upload`` (client-streaming) and ``Status``.

Thin over ``FeedIntake``, whose work is synchronous database work: it runs off the event loop, in two
worker threads that make each upload a two-stage pipeline. Chunk n + 1 is parsed, validated and tokenised
(Python, holding the GIL) while chunk n is written (SQLite's B-tree work and PostgreSQL's COPY run without
it). One thread per stage per hub process: concurrent uploads take turns chunk by chunk, and each of the
intake's caches is only ever touched by one thread at a time. If chunk n turns out not to be writable as
prepared (another stream moved the version), ``FeedIntake.store`` prepares it again itself.

Each chunk's message is journaled (replay memory, audit entry) in the transaction that writes the chunk, so
the log never shows a chunk the database lacks, nor the other way round.

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
from hub.errors import InvalidArgument, NotGranted
from hub.feeds._intake import FeedIntake
from hub.feeds._kinds import department_code
from hub.feeds._receipt import ChunkAck
from hub.feeds._writes import PreparedChunk
from hub.v1 import feeds_pb2 as pb

if TYPE_CHECKING:
    from hub.exchange import Admitted, LocalHandler, StreamHandler
    from hub.policy import Call

T = TypeVar("T")


def _check_supplies(call: Call, sender: str, meta: pb.FeedVersionMeta) -> None:
    """A department's data comes from a member of that department: an education bureau holding the upload grant
    must not supply death records (and raise exclusion findings against living people), nor a roster."""
    department = department_code(meta.department)
    kind = call.directory.member(sender).kind
    if kind != department:
        raise NotGranted(f"{sender} is a {kind} member; only a {department} member supplies {department} feeds")


class FeedService:
    """``Upload`` and ``Status`` over one intake; see the module docstring."""

    def __init__(self, intake: FeedIntake) -> None:
        self.intake = intake
        self._preparing = ThreadPoolExecutor(1, thread_name_prefix="feed-prepare")
        self._writing = ThreadPoolExecutor(1, thread_name_prefix="feed-write")

    async def upload(self, chunks: AsyncIterator[Admitted], call: Call) -> ProtoMessage:
        """Store every chunk of one version, then complete it; the receipt is the answer.

        The schedule: chunk n is written (with its message's journal entry, in one transaction) alongside the
        preparation of chunk n + 1. A chunk stored before (a repeat on a resumed stream) is journaled alone.
        """
        version_id: str | None = None
        pending: tuple[PreparedChunk, Admitted] | None = None  # prepared, to be written once the next is in hand
        writing: asyncio.Future[ChunkAck] | None = None
        try:
            async for message in chunks:
                chunk = message.opened.body(pb.FeedChunk)
                if chunk.HasField("meta"):
                    _check_supplies(call, message.opened.sender, chunk.meta)
                if version_id is None:
                    version_id = chunk.version_id
                elif chunk.version_id != version_id:
                    raise InvalidArgument(
                        "version_id", f"this stream uploads {version_id}; send one version per stream"
                    )
                assume = None
                if pending is not None:
                    writing = self._write(*pending)
                    if chunk.sequence == pending[0].sequence + 1:
                        assume = pending[0].after
                    else:  # a repeat or a gap: judge it on the stored state, not on one still being written
                        await _journaled(pending[1], await writing)
                        writing = None
                prepare = functools.partial(
                    self.intake.prepare_received, chunk, sender=message.opened.sender, assume=assume
                )
                prepared = await self._run(self._preparing, prepare)
                if writing is not None and pending is not None:
                    await _journaled(pending[1], await writing)
                    writing = None
                if isinstance(prepared, PreparedChunk):
                    pending = (prepared, message)
                else:  # an ack: stored before, so journaled on its own
                    pending = None
                    await message.settle()
            if pending is not None:
                writing = self._write(*pending)
                await _journaled(pending[1], await writing)
                writing = None
        finally:
            if writing is not None:  # the stream failed or was cut: the chunk in hand still commits or not, alone
                writing.add_done_callback(_consume)
        if version_id is None:
            raise InvalidArgument("stream", "the stream carried no chunk")
        receipt = await self._run(self._writing, functools.partial(self.intake.complete, version_id))
        return receipt.to_proto()

    def _write(self, prepared: PreparedChunk, message: Admitted) -> asyncio.Future[ChunkAck]:
        return self._start(self._writing, functools.partial(self.intake.store, prepared, journal=message.record_on))

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


async def _journaled(message: Admitted, ack: ChunkAck) -> None:
    """After a chunk's write: its message was journaled in it, unless the chunk turned out stored before."""
    if ack.duplicate:
        await message.settle()
    else:
        message.committed()


def _consume(future: asyncio.Future[ChunkAck]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: its stream has already failed for a reason of its own


def feed_handlers(intake: FeedIntake) -> tuple[dict[str, LocalHandler], dict[str, StreamHandler]]:
    """``(unary handlers, stream handlers)`` of the Feeds service, for ``HubCore.register`` / ``register_stream``."""
    return FeedService(intake).handlers()

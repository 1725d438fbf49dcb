"""The supplier's upload client: stream a prepared version to the hub, resume a broken stream, check the receipt.

One attempt asks ``Feeds/Status`` where the version stands (its ``next_sequence``, or not found: from chunk
0), then streams the remaining chunks, each sealed in its own envelope when it is sent, the first one
carrying the declaration. A broken connection or an unreachable hub (``MemberUnavailable``) starts another
attempt after a pause, up to ``attempts`` in all; so does a hub that reports the version incomplete or
expecting another chunk. A version the hub has already finished is asked for its receipt by sending its
last chunk again, which the hub acknowledges without storing anything.

The receipt must be the hub's signed answer to the stream's last message, and must account for exactly the
chunks prepared: same digest, same record and chunk counts. Nothing here imports gRPC: the client is any
object shaped like ``hub.grpc.client.HubClient``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub import services
from hub.envelope import VerifyingKey, new_header, seal
from hub.errors import FailedPrecondition, MemberUnavailable, NotFound, RequestHashMismatch
from hub.feeds._kinds import DEPARTMENTS
from hub.feeds._meta import STATUS_WIRE, VersionStatus
from hub.feeds._prepared import PreparedFeed
from hub.feeds._receipt import Receipt
from hub.v1 import feeds_pb2 as pb
from hub.v1.envelope_pb2 import Envelope, Purpose

if TYPE_CHECKING:
    from hub.grpc.client import HubClient

log = logging.getLogger(__name__)

#: The purpose feed messages declare; the supplier needs grants for ``Feeds/Upload`` and ``Feeds/Status`` with it.
FEED_PURPOSE = Purpose(code="feed.supply", legal_basis="社会救助暂行办法 第五十八条")
#: A stream may take this long plus a second per ``_RECORDS_PER_SECOND`` records.
_BASE_TIMEOUT = 120.0
_RECORDS_PER_SECOND = 5_000
_FINISHED = {STATUS_WIRE[VersionStatus.COMPLETE], STATUS_WIRE[VersionStatus.REJECTED]}

Progress = Callable[[int], None]
"""Called with the number of records handed to the connection so far (again from the resume point on a retry)."""


@dataclass(frozen=True)
class UploadResult:
    """A verified receipt and how it was obtained."""

    receipt: Receipt
    #: Keys whose signatures over the receipt verified (the hub's).
    signed_by: tuple[VerifyingKey, ...]
    #: Streams opened; more than one means the upload was resumed.
    streams: int
    #: The chunk the last stream started from.
    resumed_from: int


class FeedUploader:
    """Uploads prepared versions through one client (see the module docstring)."""

    def __init__(
        self,
        client: HubClient,
        *,
        purpose: Purpose = FEED_PURPOSE,
        attempts: int = 5,
        pause: float = 0.5,
        timeout: float | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("at least one attempt")
        self.client = client
        self.purpose = purpose
        self.attempts = attempts
        self.pause = pause
        self.timeout = timeout

    async def upload(self, feed: PreparedFeed, on_progress: Progress | None = None) -> UploadResult:
        start = 0
        for attempt in range(1, self.attempts + 1):
            try:
                start = await self.resume_point(feed)
                receipt, signers = await self._stream(feed, start, on_progress)
                return UploadResult(receipt, signers, attempt, start)
            except (MemberUnavailable, FailedPrecondition) as error:
                retry = isinstance(error, MemberUnavailable) or "expected_sequence" in error.metadata
                if not retry or attempt == self.attempts:
                    raise
                delay = min(self.pause * 2 ** (attempt - 1), 10.0)
                log.warning(
                    "feed upload interrupted; resuming",
                    extra={"version_id": feed.version_id, "attempt": attempt, "reason": error.reason, "pause": delay},
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def resume_point(self, feed: PreparedFeed) -> int:
        """The chunk to start from: the hub's ``next_sequence`` for the version, the last chunk if it is finished."""
        query = pb.FeedStatusQuery(department=DEPARTMENTS[feed.meta.department], version_id=feed.version_id)
        try:
            answer = await self.client.ask(
                services.FEED_STATUS, query, pb.FeedStatusReport, recipient=self.client.hub_id, purpose=self.purpose
            )
        except NotFound:
            return 0
        upload = answer.body.upload
        last = len(feed.chunks) - 1
        if upload.status in _FINISHED:
            return last  # sent again only to be given the receipt
        return min(upload.next_sequence, last)

    async def _stream(
        self, feed: PreparedFeed, start: int, on_progress: Progress | None
    ) -> tuple[Receipt, tuple[VerifyingKey, ...]]:
        sent: list[Envelope] = []
        correlation = ""

        async def messages() -> AsyncIterator[bytes]:
            nonlocal correlation
            done = feed.records_before(start)
            for sequence in range(start, len(feed.chunks)):
                header = new_header(
                    sender=self.client.member_id,
                    recipient=self.client.hub_id,
                    service=services.FEED_UPLOAD,
                    purpose=self.purpose,
                    correlation_id=correlation,
                )
                correlation = correlation or header.message_id  # one correlation id per stream, for the audit log
                envelope = seal(header, feed.chunk(sequence, declare=sequence == start), self.client.signer)
                sent[:] = [envelope]
                yield envelope.SerializeToString()
                done += feed.chunks[sequence].records
                if on_progress is not None:
                    on_progress(done)

        timeout = self.timeout or _BASE_TIMEOUT + math.ceil(feed.records / _RECORDS_PER_SECOND)
        data = await self.client.stream_raw(services.FEED_UPLOAD, messages(), timeout=timeout)
        opened = self.client.open_answer(sent[0], data)
        receipt = Receipt.from_proto(opened.body(pb.FeedReceipt))
        _accounts_for(receipt, feed)
        return receipt, opened.signers


def _accounts_for(receipt: Receipt, feed: PreparedFeed) -> None:
    """The receipt must be for this version and cover exactly the chunks prepared."""
    if receipt.version_id != feed.version_id:
        raise RequestHashMismatch(f"the receipt is for {receipt.version_id}, not {feed.version_id}")
    counted = (receipt.received_records, receipt.chunks) == (feed.records, len(feed.chunks))
    if receipt.digest != feed.digest or not counted:
        raise RequestHashMismatch(
            f"the receipt of {feed.version_id} covers {receipt.chunks} chunks and {receipt.received_records:,} "
            f"records with digest {receipt.digest.hex()[:16]}…; {len(feed.chunks)} chunks and {feed.records:,} "
            f"records with digest {feed.digest.hex()[:16]}… were sent"
        )

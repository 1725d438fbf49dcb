"""Helpers for feed tests through the real server: a sandbox with two suppliers, hand-made streams."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.message import Message

from hub import services
from hub.envelope import SigningKey, new_header, seal
from hub.feeds import FEED_PURPOSE, PreparedFeed, Rejection, prepare_feed
from hub.grpc.client import HubClient
from hub.pki import load_member
from hub.sandbox import MemberSpec, Sandbox
from hub.v1 import feeds_pb2 as pb
from tests.feeds.conftest import OTHER_SUPPLIER, ROSTER_SUPPLIER, SUPPLIER

T = TypeVar("T")
GRANTS = ((services.FEED_UPLOAD, FEED_PURPOSE.code), (services.FEED_STATUS, FEED_PURPOSE.code))
PERIOD = (dt.date(2025, 6, 1), dt.date(2025, 6, 30))


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def suppliers() -> list[MemberSpec]:
    return [
        MemberSpec(SUPPLIER, "medical-insurance", "医保局", ("130629",), grants=GRANTS),
        MemberSpec(OTHER_SUPPLIER, "medical-insurance", "另一医保局", ("110105",), grants=GRANTS),
        MemberSpec(ROSTER_SUPPLIER, "civil-affairs", "容城县民政局", ("130629",), grants=GRANTS),
    ]


def sandbox_at(root: Path, database_url: str, **settings: Any) -> Sandbox:
    sandbox = Sandbox(root, suppliers(), database_url=database_url, settings_overrides=settings)
    sandbox.provision()
    return sandbox


def prepared(
    rows: Iterable[Message | Rejection],
    *,
    kind: str = "medical_settlement",
    supplier: str = SUPPLIER,
    chunk_rows: int = 5,
    **declared: Any,
) -> PreparedFeed:
    from hub.feeds import kind_by_code

    options: dict[str, Any] = {"period_start": PERIOD[0], "period_end": PERIOD[1]} | declared
    return prepare_feed(
        rows, department=kind_by_code(kind).department, kind=kind, supplier=supplier, chunk_rows=chunk_rows, **options
    )


def signer_of(sandbox: Sandbox, member: str) -> SigningKey:
    return load_member(sandbox.pki_dir, member).signing_key


async def send_chunks(
    client: HubClient, chunks: Iterable[pb.FeedChunk], *, signer: SigningKey | None = None, sender: str = ""
) -> bytes:
    """Stream ``chunks`` as given (each sealed by ``signer``, by default the client's), returning the raw answer."""

    async def messages() -> AsyncIterator[bytes]:
        for chunk in chunks:
            header = new_header(
                sender=sender or client.member_id,
                recipient=client.hub_id,
                service=services.FEED_UPLOAD,
                purpose=FEED_PURPOSE,
            )
            yield seal(header, chunk, signer or client.signer).SerializeToString()

    return await client.stream_raw(services.FEED_UPLOAD, messages(), timeout=30)


async def status(client: HubClient, version_id: str = "", department: int = 0) -> pb.FeedStatusReport:
    query = pb.FeedStatusQuery(version_id=version_id, department=department)  # type: ignore[arg-type]
    answer = await client.ask(
        services.FEED_STATUS, query, pb.FeedStatusReport, recipient=client.hub_id, purpose=FEED_PURPOSE
    )
    return answer.body

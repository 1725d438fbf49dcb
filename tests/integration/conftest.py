"""A small federation on loopback: the hub over mutual TLS, an asking bureau and an answering registry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from hub import services
from hub.envelope import open_envelope, reply_header, seal
from hub.pki import load_member
from hub.registry import Member
from hub.sandbox import MemberSpec, Sandbox
from hub.store import Store
from hub.store.models import Base
from hub.transport import MockTransport
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Envelope

T = TypeVar("T")

ASKER = "11110115MB0000007E"  # 大兴区民政局
ANSWERER = "11130629MB1234567U"  # 容城县公安局
PURPOSE = "dibao.application"


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def members() -> list[MemberSpec]:
    return [
        MemberSpec(
            ASKER,
            "civil-affairs",
            "大兴区民政局",
            ("110115",),
            grants=((services.HOUSEHOLD_REGISTRATION, PURPOSE), (services.RESIDENCE_PERMIT, "*")),
        ),
        MemberSpec(ANSWERER, "public-security", "容城县公安局", ("130629",)),
    ]


def answering_transport(sandbox: Sandbox) -> MockTransport:
    """Plays 容城县公安局's node: verifies the hub's counter-signature and answers, signed."""
    answerer = load_member(sandbox.pki_dir, ANSWERER).signing_key
    from hub.envelope import StaticKeyRing

    ring = StaticKeyRing([sandbox.hub_key()])

    async def handler(member: Member, service: str, envelope: Envelope) -> Envelope:
        request = open_envelope(envelope, ring, required_signers=["hub"])
        result = verification_pb2.HouseholdRegistrationResult(registered=True, region_code="130629")
        return seal(reply_header(request, sender=member.member_id), result, answerer)

    return MockTransport(handler)


def stored_rows(store: Store) -> dict[str, int]:
    """Row counts of every table that a request could write to (replay memory, audit log, ...)."""
    watched = [
        t
        for t in Base.metadata.sorted_tables
        if t.name not in {"members", "jurisdictions", "signing_keys", "certificates", "grants"}
    ]
    with store.engine.connect() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in watched}


@pytest.fixture
def federation(tmp_path: Path, database_url: str) -> Callable[..., Awaitable[tuple[Sandbox, MockTransport]]]:
    """Returns an async factory: ``sandbox, transport = await federation()``; stopped by the caller."""

    async def start(**overrides: Any) -> tuple[Sandbox, MockTransport]:
        sandbox = Sandbox(tmp_path / "world", members(), database_url=database_url, settings_overrides=overrides)
        sandbox.provision()
        transport = answering_transport(sandbox)
        await sandbox.start(transport=transport, with_nodes=False)
        return sandbox, transport

    return start

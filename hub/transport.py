"""How the hub reaches agency nodes: one tiny interface, a gRPC implementation, and in-memory twins.

Like httpx's ``BaseTransport``: the hub core calls ``deliver`` and never knows whether the node is
across mutual TLS (``hub.grpc.transport.GrpcTransport``), in the same process (``LocalTransport``),
or a test's function (``MockTransport``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from google.protobuf.message import DecodeError

from hub.envelope import Opened, StaticKeyRing, VerifyingKey, open_envelope
from hub.errors import MemberUnavailable
from hub.registry import Member
from hub.v1.envelope_pb2 import Envelope


class NodeTransport(Protocol):
    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        """Send ``envelope`` to ``member``'s node; raise ``MemberUnavailable`` if it does not answer in time."""
        ...

    async def aclose(self) -> None: ...


Handler = Callable[[Member, str, Envelope], Awaitable[Envelope]]


def parse_answer(data: bytes, member: Member) -> Envelope:
    """A node's reply as an envelope. Bytes that are not one mean the member gave no usable answer
    (``MemberUnavailable``): the asker's request was fine, so it must not see the member's fault as its own."""
    answer = Envelope()
    try:
        answer.ParseFromString(data)
    except DecodeError:
        raise MemberUnavailable(member.member_id, "its answer is not a readable envelope") from None
    return answer


@dataclass
class MockTransport:
    """Calls ``handler`` instead of a node, and records every delivery (tests assert on ``calls``)."""

    handler: Handler
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        self.calls.append((member.member_id, service))
        return await self.handler(member, service, envelope)

    async def aclose(self) -> None:
        return None


class NodeLike(Protocol):
    async def handle(self, service: str, data: bytes) -> bytes: ...


class InProcessNode(Protocol):
    async def answer(self, request: Opened, service: str, *, checked: bool = False) -> Envelope: ...


@runtime_checkable
class TrustedTransport(Protocol):
    """Nodes inside the hub's own process: the hub hands over the request it already verified and
    takes the member-signed answer without re-verifying its own process's work."""

    async def deliver_opened(self, member: Member, service: str, request: Opened) -> Envelope: ...


@dataclass
class LocalTransport:
    """Delivers to ``hub.node.Node`` objects in this process, through real bytes (benchmarks, demos)."""

    nodes: Mapping[str, NodeLike]

    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        node = self.nodes.get(member.member_id)
        if node is None:
            raise MemberUnavailable(member.member_id, "no node is running for it in this process")
        return parse_answer(await node.handle(service, envelope.SerializeToString()), member)

    async def aclose(self) -> None:
        return None


@dataclass
class InProcessTransport:
    """Agency nodes hosted in the hub process (a member that runs its adapter at the hub).

    Skips only what crossing a process boundary needs: the hub's counter-signature on the
    forwarded request and the re-verification of an answer signed in this very process. The
    answer is still signed with the member's own key and counter-signed by the hub.
    """

    nodes: Mapping[str, InProcessNode]
    hub_key: VerifyingKey

    async def deliver_opened(self, member: Member, service: str, request: Opened) -> Envelope:
        node = self.nodes.get(member.member_id)
        if node is None:
            raise MemberUnavailable(member.member_id, "no node is running for it in this process")
        return await node.answer(request, service, checked=request.header.sender != self.hub_key.owner)

    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        """Questions the hub itself asks (a household check's fan-out), signed by the hub."""
        request = open_envelope(envelope, StaticKeyRing([self.hub_key]), required_signers=[self.hub_key.owner])
        return await self.deliver_opened(member, service, request)

    async def aclose(self) -> None:
        return None

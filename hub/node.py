"""The agency node: the agency's side of the exchange, hosting one adapter.

A node trusts the hub, not the world: it accepts a request only if the hub counter-signed it (the
hub has verified the asking member, its grant and consent), checks that the request is meant for
it and still valid, asks its adapter, keeps only what the purpose needs (``hub.disclosure``), and
signs the answer with its own key, bound to the request's bytes by ``request_hash``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from google.protobuf.message import Message as ProtoMessage

from adapters import Adapter, QueryContext
from hub import services
from hub.disclosure import Disclosure
from hub.envelope import Opened, SigningKey, StaticKeyRing, VerifyingKey, open_envelope, reply_header, seal
from hub.errors import Expired, NotYetValid, Replayed, ServiceMismatch, WrongRecipient
from hub.policy import epoch
from hub.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)


@dataclass
class Node:
    member_id: str
    signer: SigningKey
    hub_key: VerifyingKey
    adapter: Adapter
    disclosure: Disclosure = field(default_factory=Disclosure)
    hub_id: str = "hub"
    skew: dt.timedelta = dt.timedelta(minutes=2)
    max_message_bytes: int = 4 * 1024 * 1024
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._keyring = StaticKeyRing([self.hub_key])

    async def handle(self, service: str, data: bytes) -> bytes:
        return (await self.handle_envelope(service, data)).SerializeToString()

    async def handle_envelope(self, service: str, data: bytes | Envelope) -> Envelope:
        request = open_envelope(data, self._keyring, max_bytes=self.max_message_bytes, required_signers=[self.hub_id])
        return await self.answer(request, service)

    async def answer(self, request: Opened, service: str, *, checked: bool = False) -> Envelope:
        """Answer a request already verified: by this node, or by the hub when the node runs inside it
        (``checked``: the hub has applied every header policy, replay included, moments ago)."""
        if not checked:
            self._check(request, service)
        request_type, _ = services.BODY_TYPES[service]
        body = request.body(request_type)
        header = request.header
        context = QueryContext(
            requester=header.sender,
            service=service,
            purpose_code=header.purpose.code,
            correlation_id=header.correlation_id,
            deadline=None,
        )
        started = time.perf_counter()
        answer: ProtoMessage = await self.adapter.answer(body, context)
        self.disclosure.apply(service, header.purpose.code, answer)
        log.info(
            "answered",
            extra={
                "service": service,
                "requester": header.sender,
                "correlation_id": header.correlation_id,
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return seal(reply_header(request, sender=self.member_id), answer, self.signer)

    def _check(self, request: Opened, service: str) -> None:
        header = request.header
        if header.service != service:
            raise ServiceMismatch(f"the message is for {header.service} but was sent to {service}")
        if header.recipient != self.member_id and "@" not in header.recipient:
            raise WrongRecipient(f"this node is {self.member_id}, not {header.recipient}")
        now, skew = time.time(), self.skew.total_seconds()
        if epoch(header.issued_at) - skew > now:
            raise NotYetValid("the request is issued in the future")
        expires = epoch(header.expires_at)
        if expires + skew < now:
            raise Expired("the request has expired")
        if header.message_id in self._seen:
            raise Replayed(f"message {header.message_id} was already answered")
        self._seen[header.message_id] = expires
        while len(self._seen) > 50_000 or (self._seen and next(iter(self._seen.values())) + skew < now):
            self._seen.popitem(last=False)

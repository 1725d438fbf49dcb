"""The hub core: verify, apply policy, route, forward, check the answer, counter-sign, record.

Transport-free: the gRPC layer hands in the raw request bytes and the authenticated TLS peer, and
gets back the answer envelope or a ``hub.errors.HubError``. Services the hub answers itself
(administration, audit, consent, feeds) register a ``LocalHandler``; the rest are routed to the
recipient member's node through a ``NodeTransport``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.message import Message as ProtoMessage
from sqlalchemy import Connection

from hub import services, validation
from hub.asking import HubQuestions
from hub.envelope import Opened, SigningKey, countersign, open_envelope, reply_header, seal
from hub.errors import (
    ConsentMissing,
    HubError,
    InvalidArgument,
    KeyRevoked,
    Malformed,
    MemberUnavailable,
    PeerMismatch,
    RequestHashMismatch,
    UnknownSender,
    WrongRecipient,
)
from hub.household_check import DEFAULT_SOURCES, HouseholdCheck
from hub.journal import Journal
from hub.policy import Call, HeaderPolicy, resolve_recipient
from hub.ratelimit import RateLimits
from hub.registry import KINDS, Directory, Member
from hub.transport import NodeTransport
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """The mutually authenticated TLS client: its certificate's fingerprint and claimed member id."""

    fingerprint: str
    member_id: str


class Consents(Protocol):
    def require(
        self, consent_ref: str, *, requester: str, subjects: Iterable[str], scopes: Iterable[str]
    ) -> object: ...


LocalHandler = Callable[[Opened, Call], Awaitable[ProtoMessage]]
#: A local handler whose effect is a database write. It runs inside the journal's transaction, on the
#: connection given, so the effect, the replay memory and the audit entries of request and answer commit
#: together (or, on a refusal, none of them). It runs on the event loop: keep it to a few statements.
EffectHandler = Callable[[Opened, Call, Connection], ProtoMessage]


@dataclass
class Admitted:
    """One verified message of a client stream, and the means to journal it with its effect.

    A handler that stores the message's effect calls ``record_on`` inside that transaction and ``committed``
    after it, so the message's replay memory and audit entry commit with what it caused. A message with no
    effect of its own (a chunk stored before) is journaled alone with ``settle``; the core settles any message
    the handler left unjournaled once the stream ends.
    """

    opened: Opened
    journal: Journal
    recorded: bool = False

    def record_on(self, connection: Connection) -> None:
        self.journal.record_on(connection, self.opened)

    def committed(self) -> None:
        self.recorded = True
        self.journal.noted(self.opened)

    async def settle(self) -> None:
        if not self.recorded:
            await self.journal.settle(self.opened, None, "ok", [])
            self.recorded = True


#: A client-streaming service: takes the stream's verified messages, returns the receipt body.
StreamHandler = Callable[[AsyncIterator[Admitted], Call], Awaitable[ProtoMessage]]


@dataclass
class HubCore:
    hub_id: str
    signer: SigningKey
    directory: Directory
    policy: HeaderPolicy
    journal: Journal
    transport: NodeTransport
    consents: Consents | None = None
    consent_required: frozenset[str] = frozenset({services.HOUSEHOLD_CHECK})
    max_message_bytes: int = 4 * 1024 * 1024
    node_timeout: float = 5.0
    idempotent_retries: int = 2
    require_peer: bool = True
    rate_limits: RateLimits | None = None
    local_handlers: dict[str, LocalHandler] = field(default_factory=dict)
    effect_handlers: dict[str, EffectHandler] = field(default_factory=dict)
    stream_handlers: dict[str, StreamHandler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.questions = HubQuestions(self.hub_id, self.signer, self.directory, self.transport, self.journal)
        self.household_check = HouseholdCheck(self.questions)

    def register(self, service: str, handler: LocalHandler) -> None:
        self.local_handlers[service] = handler

    def register_effect(self, service: str, handler: EffectHandler) -> None:
        self.effect_handlers[service] = handler

    def register_stream(self, service: str, handler: StreamHandler) -> None:
        self.stream_handlers[service] = handler

    def services(self) -> frozenset[str]:
        return (
            services.ROUTED
            | {services.HOUSEHOLD_CHECK}
            | frozenset(self.local_handlers)
            | frozenset(self.effect_handlers)
            | frozenset(self.stream_handlers)
        )

    async def handle_stream(self, service: str, messages: AsyncIterator[bytes], peer: Peer | None) -> Envelope:
        """A client stream of envelopes (a feed upload): each is verified and admitted like a unary request.

        Each message is journaled by the handler in the transaction that stores its effect (``Admitted``), so
        a stream cut midway leaves exactly the messages whose effects were stored. The receipt answers the
        last message and is logged after it.
        """
        handler = self.stream_handlers[service]
        unsettled: list[Admitted] = []  # only those not yet journaled: a stream's chunks are not all kept

        async def admitted() -> AsyncIterator[Admitted]:
            async for data in messages:
                request = self.admit(service, data, peer)
                self.inspect(service, request)
                self.journal.check_fresh(request)
                unsettled[:] = [message for message in unsettled if not message.recorded]
                unsettled.append(Admitted(request, self.journal))
                yield unsettled[-1]

        body = await handler(admitted(), self.call(service))
        if not unsettled:
            raise InvalidArgument("stream", "the stream carried no message")
        final = unsettled[-1].opened
        for message in unsettled:
            await message.settle()
        answer = self.reply(final, body)
        await self.journal.settle_answer(answer)
        return answer

    async def handle(self, service: str, data: bytes, peer: Peer | None) -> Envelope:
        """Answer one unary call. Raises ``HubError``; nothing is stored for a refused request.

        Order matters: verify the signature before reading anything, check the header before the
        body, and remember the message id last, so that a refused message leaves no trace. Refused
        means anything the hub itself turns down before a member is asked: the header and body checks,
        a local handler's refusal (its writes are one transaction, rolled back; an effect handler's are the
        journal's own transaction), an unroutable recipient.
        Such a request is logged, never journaled. Once a member has been asked, the exchange took place
        and is journaled with its outcome, answered or not (``ask_members``).
        """
        request = self.admit(service, data, peer)
        call = self.call(service)
        subjects, sources = self.inspect(service, request)
        self.journal.check_fresh(request)
        handler = self.local_handlers.get(service)
        effect = self.effect_handlers.get(service)
        try:
            if effect is not None:
                return await self.journal.settle_effect(
                    request, lambda connection: self.reply(request, effect(request, call, connection)), subjects
                )
            if handler is not None:
                answer = self.reply(request, await handler(request, call))
            else:
                answer = await self.ask_members(request, service, subjects, sources)
        except HubError as error:  # a refusal is only logged; ask_members journals what a member was asked
            log.info(
                "not answered",
                extra={
                    "service": service,
                    "sender": request.sender,
                    "message_id": request.header.message_id,
                    "reason": error.reason,
                },
            )
            raise
        await self.journal.settle(request, answer, "ok", subjects)
        return answer

    async def ask_members(self, request: Opened, service: str, subjects: list[str], sources: list[str]) -> Envelope:
        """Route the request to its member (or fan it out to the sources) and return the hub's answer.

        A recipient that cannot be routed to is a refusal: nobody was asked, so nothing is journaled. A
        failure after that (the member unavailable, its own refusal, an answer that does not fit) ends an
        exchange that happened, and is journaled with its reason before it is raised.
        """
        member = None if service == services.HOUSEHOLD_CHECK else self.recipient_member(request)
        try:
            if member is None:
                body = request.body(verification_pb2.HouseholdCheckRequest)
                report = await self.household_check.run(request, body, sources, subjects)
                return self.reply(request, report)
            return await self.route(request, member, service)
        except HubError as error:
            await self.journal.settle(request, None, error.reason, subjects)
            raise

    def reply(self, request: Opened, body: ProtoMessage) -> Envelope:
        return seal(reply_header(request, sender=self.hub_id), body, self.signer)

    def call(self, service: str) -> Call:
        return Call(service=service, now=dt.datetime.now(dt.UTC), directory=self.directory.current, hub_id=self.hub_id)

    def admit(self, service: str, data: bytes | Envelope, peer: Peer | None) -> Opened:
        """Verify the envelope, bind it to the TLS peer, and apply every header policy."""
        if self.rate_limits is not None and peer is not None:
            self.rate_limits.per_member.take(peer.member_id)
        request = open_envelope(data, self.directory, max_bytes=self.max_message_bytes)
        self.check_peer(request, peer)
        self.policy.check(request, self.call(service))
        if self.rate_limits is not None:
            self.rate_limits.per_purpose.take(f"{request.sender} for {request.header.purpose.code or '(no purpose)'}")
        return request

    def inspect(self, service: str, request: Opened) -> tuple[list[str], list[str]]:
        """Validate the body at the edge and check consent; return its subjects and (fan-out) sources."""
        request_type = validation.REQUEST_TYPES.get(service)
        if request_type is None:
            return [], []
        body = request.body(request_type)
        subjects = validation.subjects(service, body)
        sources: list[str] = []
        scopes = [service]
        if isinstance(body, verification_pb2.HouseholdCheckRequest):
            sources = list(dict.fromkeys(body.sources)) or list(DEFAULT_SOURCES)
            unknown = sorted(set(sources) - set(KINDS))
            if unknown:
                raise InvalidArgument("sources", f"unknown source kinds: {', '.join(unknown)}")
            scopes = sources
        if service in self.consent_required:
            if self.consents is None:
                raise ConsentMissing("this hub has no consent register configured")
            self.consents.require(
                request.header.consent_ref, requester=request.sender, subjects=subjects, scopes=scopes
            )
        return subjects, sources

    def check_peer(self, request: Opened, peer: Peer | None) -> None:
        if peer is None:
            if self.require_peer:
                raise PeerMismatch("the connection carries no client certificate")
            return
        snapshot = self.directory.current
        try:
            owner = snapshot.certificate_owner(peer.fingerprint)
        except UnknownSender:
            owner = peer.member_id  # issued by our CA but not registered: trust the CA's naming
            if owner in snapshot.members and snapshot.members[owner].revoked:
                raise KeyRevoked(f"member {owner} is revoked") from None
        if owner != request.sender:
            raise PeerMismatch(f"the TLS client is {owner} but the envelope is signed as {request.sender}", peer=owner)

    async def route(self, request: Opened, member: Member, service: str) -> Envelope:
        # A ``TrustedTransport``? Asked by attribute: a runtime Protocol check costs ~15 µs a call.
        deliver_opened = getattr(self.transport, "deliver_opened", None)
        if deliver_opened is not None:
            return countersign(await deliver_opened(member, service, request), self.signer)
        forwarded = Envelope()
        forwarded.CopyFrom(request.envelope)
        countersign(forwarded, self.signer)
        answer = await self.deliver(member, service, forwarded)
        return self.accept_answer(request, member, answer)

    def recipient_member(self, request: Opened) -> Member:
        recipient = request.header.recipient
        if recipient == self.hub_id:
            raise WrongRecipient(f"{request.header.service} is answered by a member, not by the hub itself")
        return resolve_recipient(recipient, self.directory.current)

    async def deliver(self, member: Member, service: str, envelope: Envelope) -> Envelope:
        attempts = 1 + (self.idempotent_retries if service in services.IDEMPOTENT else 0)
        deadline = time.monotonic() + self.node_timeout
        for attempt in range(attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return await self.transport.deliver(member, service, envelope, timeout=remaining)
            except MemberUnavailable:
                if attempt + 1 == attempts:
                    raise
                log.warning("member did not answer; retrying", extra={"member": member.member_id, "attempt": attempt})
                await asyncio.sleep(min(0.05 * 2**attempt, max(0.0, deadline - time.monotonic())))
        raise MemberUnavailable(member.member_id, f"no answer within {self.node_timeout:.1f} s")

    def accept_answer(self, request: Opened, member: Member, answer: Envelope) -> Envelope:
        """The answer must be signed by the member asked, addressed back, and bound to this request."""
        opened = open_envelope(answer, self.directory, max_bytes=self.max_message_bytes)
        header = opened.header
        if header.sender != member.member_id:
            raise PeerMismatch(f"asked {member.member_id} but the answer is signed as {header.sender}")
        if header.request_hash != request.payload_sha256:
            raise RequestHashMismatch(f"the answer from {member.member_id} does not answer this request")
        if header.recipient != request.sender or header.correlation_id != request.header.correlation_id:
            raise RequestHashMismatch(f"the answer from {member.member_id} is addressed to another exchange")
        for name in ("issued_at", "expires_at"):  # the audit record converts them; an impossible time is refused
            try:
                validation.check_timestamp(getattr(header, name), f"header.{name}")
            except InvalidArgument:
                raise Malformed(f"the answer from {member.member_id} carries an impossible {name}") from None
        return countersign(answer, self.signer)

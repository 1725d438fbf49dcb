"""A member's client of the hub: seal a question, call, and verify the counter-signed answer."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message as ProtoMessage

from hub.envelope import (
    DEFAULT_TTL,
    Opened,
    SigningKey,
    StaticKeyRing,
    VerifyingKey,
    new_header,
    open_envelope,
    seal,
)
from hub.errors import RequestHashMismatch, WrongRecipient
from hub.grpc.status import from_rpc_error
from hub.v1.envelope_pb2 import Envelope, Header, Purpose

R = TypeVar("R", bound=ProtoMessage)


@dataclass(frozen=True)
class Answer(Generic[R]):
    """A verified answer: its body, the envelope it came in, and the keys that vouched for it."""

    body: R
    opened: Opened
    request: Envelope

    @property
    def verified_by(self) -> tuple[VerifyingKey, ...]:
        return self.opened.signers


class HubClient:
    def __init__(
        self,
        target: str,
        *,
        member_id: str,
        signer: SigningKey,
        hub_key: VerifyingKey,
        credentials: grpc.ChannelCredentials | None,
        known_keys: Iterable[VerifyingKey] = (),
        hub_id: str = "hub",
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.member_id = member_id
        self.signer = signer
        self.hub_id = hub_id
        self.keyring = StaticKeyRing([hub_key, *known_keys])
        self._known = {key.owner for key in known_keys}
        options = options or []
        self.channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=options)
        )

    def header(
        self,
        service: str,
        *,
        recipient: str,
        purpose: Purpose,
        consent_ref: str = "",
        ttl: dt.timedelta = DEFAULT_TTL,
    ) -> Header:
        return new_header(
            sender=self.member_id,
            recipient=recipient,
            service=service,
            purpose=purpose,
            consent_ref=consent_ref,
            ttl=ttl,
        )

    async def ask(
        self,
        service: str,
        body: ProtoMessage,
        response_type: type[R],
        *,
        recipient: str,
        purpose: Purpose,
        consent_ref: str = "",
        timeout: float = 10.0,
    ) -> Answer[R]:
        request = seal(
            self.header(service, recipient=recipient, purpose=purpose, consent_ref=consent_ref), body, self.signer
        )
        data = await self.call_raw(service, request.SerializeToString(), timeout=timeout)
        opened = self.open_answer(request, data)
        return Answer(opened.body(response_type), opened, request)

    async def call_raw(self, service: str, data: bytes, *, timeout: float = 10.0) -> bytes:
        """Send bytes as they are (tests use it to send broken envelopes); raise the core error on failure."""
        call = self.channel.unary_unary(f"/{service}", request_serializer=None, response_deserializer=None)
        try:
            result: bytes = await call(data, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error, self.hub_id) from None
        return result

    async def stream_raw(self, service: str, chunks: AsyncIterator[bytes], *, timeout: float = 60.0) -> bytes:
        call = self.channel.stream_unary(f"/{service}", request_serializer=None, response_deserializer=None)
        try:
            result: bytes = await call(chunks, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error, self.hub_id) from None
        return result

    def open_answer(self, request: Envelope, data: bytes) -> Opened:
        """The answer must carry the hub's counter-signature (and the answerer's, where its key is known)."""
        opened = open_envelope(data, self.keyring, required_signers=[self.hub_id])  # Malformed if not an envelope
        if opened.sender in self._known:
            opened.signed_by(opened.sender)
        if opened.header.request_hash != hashlib.sha256(request.payload).digest():
            raise RequestHashMismatch("the answer is bound to a different request")
        if opened.header.recipient != self.member_id:
            raise WrongRecipient(f"the answer is addressed to {opened.header.recipient}, not {self.member_id}")
        return opened

    async def aclose(self) -> None:
        await self.channel.close(None)

"""``NodeTransport`` over gRPC with mutual TLS: one channel per node endpoint, reused."""

from __future__ import annotations

from typing import Any

import grpc

from hub.errors import MemberUnavailable, StorageUnavailable
from hub.grpc.status import from_rpc_error
from hub.registry import Member
from hub.transport import parse_answer
from hub.v1.envelope_pb2 import Envelope


class GrpcTransport:
    def __init__(
        self, credentials: grpc.ChannelCredentials | None, *, options: list[tuple[str, Any]] | None = None
    ) -> None:
        self._credentials = credentials
        self._options = options or []
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, endpoint: str) -> grpc.aio.Channel:
        channel = self._channels.get(endpoint)
        if channel is None:
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(endpoint, options=self._options)
            else:
                channel = grpc.aio.secure_channel(endpoint, self._credentials, options=self._options)
            self._channels[endpoint] = channel
        return channel

    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        if not member.endpoint:
            raise MemberUnavailable(member.member_id, "it has no agency node endpoint registered")
        call = self._channel(member.endpoint).unary_unary(
            f"/{service}", request_serializer=None, response_deserializer=None
        )
        try:
            data = await call(envelope.SerializeToString(), timeout=timeout)
        except grpc.aio.AioRpcError as error:
            failure = from_rpc_error(error, member.member_id)
            if isinstance(failure, StorageUnavailable):  # the node's database, not the hub's: the member is down
                failure = MemberUnavailable(member.member_id, "its database is unavailable")
            raise failure from None
        return parse_answer(data, member)

    async def aclose(self) -> None:
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close(None)

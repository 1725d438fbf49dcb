"""Mutual TLS end to end: a grpc.aio health server accepts only clients holding a certificate from the hub's CA."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from hub.grpc.credentials import (
    PeerIdentity,
    channel_credentials,
    channel_options,
    peer_identity,
    server_credentials,
    server_options,
)
from hub.pki import MemberCredentials, init_ca, issue_member

MEMBER = "11130629MB1234567U/dibao"
RPC_TIMEOUT = 5.0
TEST_TIMEOUT = 30.0


class RecordingHealth(health_aio.HealthServicer):  # type: ignore[misc]
    """The standard health service, noting who each caller was according to mutual TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[PeerIdentity | None] = []

    async def Check(
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.aio.ServicerContext[health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse],
    ) -> health_pb2.HealthCheckResponse:
        self.peers.append(peer_identity(context))
        return await super().Check(request, context)


@dataclasses.dataclass
class Pki:
    hub: MemberCredentials
    member: MemberCredentials
    foreign: MemberCredentials  # issued by another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ours = tmp_path_factory.mktemp("pki")
    theirs = tmp_path_factory.mktemp("other-pki")
    init_ca(ours)
    init_ca(theirs)
    return Pki(issue_member(ours, "hub"), issue_member(ours, MEMBER), issue_member(theirs, MEMBER))


async def _check(server_creds: MemberCredentials, client: grpc.ChannelCredentials) -> tuple[object, RecordingHealth]:
    """Serve health over mTLS on an ephemeral port, make one Check call, return (status or error, servicer)."""
    server = grpc.aio.server(options=server_options())
    servicer = RecordingHealth()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(server_creds))
    assert port > 0
    await server.start()
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client, options=channel_options()) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT)
            except grpc.aio.AioRpcError as error:
                return error, servicer
            return response.status, servicer
    finally:
        await server.stop(None)


def _run(server_creds: MemberCredentials, client: grpc.ChannelCredentials) -> tuple[object, RecordingHealth]:
    return asyncio.run(asyncio.wait_for(_check(server_creds, client), TEST_TIMEOUT))


def test_server_options_refuse_port_sharing() -> None:
    assert ("grpc.so_reuseport", 0) in server_options()


@pytest.mark.integration
def test_member_with_a_certificate_from_the_ca_connects_and_is_identified(pki: Pki) -> None:
    outcome, servicer = _run(pki.hub, channel_credentials(pki.member))

    assert outcome == health_pb2.HealthCheckResponse.SERVING
    assert servicer.peers == [PeerIdentity(MEMBER, pki.member.fingerprint, pki.member.cert_pem)]


@pytest.mark.integration
def test_client_certificate_from_another_ca_is_refused(pki: Pki) -> None:
    # The client trusts the hub's CA, so only its own certificate can make the handshake fail.
    impostor = dataclasses.replace(pki.foreign, ca_pem=pki.hub.ca_pem)

    outcome, servicer = _run(pki.hub, channel_credentials(impostor))

    assert isinstance(outcome, grpc.aio.AioRpcError)
    assert outcome.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.peers == []


@pytest.mark.integration
def test_client_without_a_certificate_is_refused(pki: Pki) -> None:
    outcome, servicer = _run(pki.hub, grpc.ssl_channel_credentials(root_certificates=pki.hub.ca_pem))

    assert isinstance(outcome, grpc.aio.AioRpcError)
    assert outcome.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.peers == []


@pytest.mark.integration
def test_client_refuses_a_server_from_another_ca(pki: Pki) -> None:
    rogue_server = dataclasses.replace(pki.foreign, ca_pem=pki.hub.ca_pem)

    outcome, servicer = _run(rogue_server, channel_credentials(pki.member))

    assert isinstance(outcome, grpc.aio.AioRpcError)
    assert outcome.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.peers == []


class _Context:
    def __init__(self, properties: Mapping[str, object]) -> None:
        self._properties = properties

    def auth_context(self) -> Mapping[str, object]:
        return self._properties


def test_peer_identity_is_none_without_a_peer_certificate() -> None:
    assert peer_identity(_Context({})) is None
    assert peer_identity(_Context({"x509_pem_cert": []})) is None
    assert peer_identity(_Context({"transport_security_type": [b"insecure"]})) is None


def test_peer_identity_reads_the_certificate(pki: Pki) -> None:
    identity = peer_identity(_Context({"x509_pem_cert": [pki.member.cert_pem]}))

    assert identity is not None
    assert (identity.member_id, identity.fingerprint) == (MEMBER, pki.member.fingerprint)


def test_channel_options_carry_the_message_limit_and_server_name() -> None:
    options = dict(channel_options(1024, server_name="hub.example"))

    assert options["grpc.max_receive_message_length"] == 1024
    assert options["grpc.max_send_message_length"] == 1024
    assert options["grpc.ssl_target_name_override"] == "hub.example"
    assert "grpc.ssl_target_name_override" not in dict(channel_options())

"""The standard gRPC health service and server reflection answer over mutual TLS, so grpcurl-style tools work."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hub.grpc.credentials import channel_credentials
from hub.pki import load_member
from hub.sandbox import Sandbox
from tests.integration.conftest import ASKER, members, run

pytestmark = pytest.mark.integration


def test_health_and_reflection(tmp_path: Path) -> None:
    async def scenario() -> None:
        sandbox = Sandbox(tmp_path / "world", members())
        sandbox.provision()
        await sandbox.start(with_nodes=False)
        channel = grpc.aio.secure_channel(sandbox.hub_address, channel_credentials(load_member(sandbox.pki_dir, ASKER)))
        try:
            health = health_pb2_grpc.HealthStub(channel)
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert overall.status == health_pb2.HealthCheckResponse.SERVING
            verification = await health.Check(health_pb2.HealthCheckRequest(service="hub.v1.Verification"), timeout=5)
            assert verification.status == health_pb2.HealthCheckResponse.SERVING

            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            requests = [
                reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol="hub.v1.Verification"),
            ]
            answers = [answer async for answer in reflection.ServerReflectionInfo(iter(requests), timeout=5)]
            listed = {s.name for s in answers[0].list_services_response.service}
            assert {
                "hub.v1.Verification",
                "hub.v1.Consent",
                "hub.v1.Audit",
                "hub.v1.Admin",
                "grpc.health.v1.Health",
            } <= listed
            files = [
                descriptor_pb2.FileDescriptorProto.FromString(b)
                for b in answers[1].file_descriptor_response.file_descriptor_proto
            ]
            described = {m.name for f in files for s in f.service for m in s.method}
            assert "HouseholdRegistration" in described
        finally:
            await channel.close()
            await sandbox.stop()

    run(scenario())

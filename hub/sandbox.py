"""A whole exchange on loopback in one folder: dev CA, hub, members, their nodes and clients.

Used by ``hubctl demo``, the integration tests and the benchmarks, so that all three exercise the
same real path: mutual TLS, signed envelopes, the registry, policies and routing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.app import HubApp, build_hub, hub_public_key_path, start_node
from hub.config import Settings
from hub.envelope import VerifyingKey
from hub.grpc.client import HubClient
from hub.grpc.server import RunningServer
from hub.node import Node
from hub.pki import init_ca, issue_member, load_member
from hub.registry import Registry
from hub.store import open_store
from hub.transport import NodeTransport


@dataclass(frozen=True)
class MemberSpec:
    member_id: str
    kind: str
    name: str
    jurisdictions: tuple[str, ...] = ()
    #: Adapter that answers for this member through an agency node; empty: the member only asks.
    adapter: str = ""
    adapter_config: Mapping[str, Any] = field(default_factory=dict)
    #: (service, purpose code) pairs this member may call.
    grants: tuple[tuple[str, str], ...] = ()
    suite: str = "ecdsa-p256"


@dataclass
class Sandbox:
    root: Path
    members: list[MemberSpec]
    database_url: str = ""
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    hub: HubApp | None = None
    hub_server: RunningServer | None = None
    nodes: dict[str, tuple[RunningServer, Node]] = field(default_factory=dict)
    clients: list[HubClient] = field(default_factory=list)
    #: Port of a hub running in another process (``hubctl serve``), when not started here.
    external_hub_port: int | None = None

    @property
    def pki_dir(self) -> Path:
        return self.root / "pki"

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": self.root,
            "database_url": self.database_url,
            "pki": {"dir": self.pki_dir},
            "server": {"listen": "127.0.0.1:0"},
            "jobs": {"enabled": False},  # a sandbox runs scheduled jobs only when a test asks for them
            **self.settings_overrides,
            **overrides,
        }
        return Settings(**values)

    def provision(self) -> None:
        """Create the CA, issue credentials to the hub and every member, and register them."""
        init_ca(self.pki_dir)
        issue_member(self.pki_dir, "hub")
        store = open_store(self.settings().resolved_database_url)
        registry = Registry(store)
        for spec in self.members:
            credentials = issue_member(self.pki_dir, spec.member_id, suite=spec.suite)
            registry.add_member(spec.member_id, kind=spec.kind, name=spec.name, jurisdictions=spec.jurisdictions)
            registry.add_signing_key(spec.member_id, credentials.signing_key.public.pem())
            registry.add_certificate(spec.member_id, credentials.cert_pem)
            for service, purpose in spec.grants:
                registry.grant(spec.member_id, service, purpose)
        store.dispose()

    async def start(
        self, *, transport: NodeTransport | None = None, audit: bool = True, with_nodes: bool = True
    ) -> HubApp:
        """Start the hub server and (unless ``with_nodes`` is false) a node for each answering member."""
        settings = self.settings()
        if with_nodes:
            await self.start_nodes(spec for spec in self.members if spec.adapter)
        self.hub = build_hub(settings, transport=transport, audit=audit)
        self.hub_server = await self.hub.start()
        return self.hub

    async def start_nodes(self, specs: Iterable[MemberSpec]) -> None:
        registry = Registry(open_store(self.settings().resolved_database_url))
        try:
            for spec in specs:
                running, node = await start_node(
                    self.pki_dir, spec.member_id, spec.adapter, spec.adapter_config, listen="127.0.0.1:0"
                )
                self.nodes[spec.member_id] = (running, node)
                registry.set_endpoint(spec.member_id, f"127.0.0.1:{running.port}")
        finally:
            registry.store.dispose()
        if self.hub is not None:
            self.hub.directory.invalidate()

    @property
    def hub_address(self) -> str:
        if self.external_hub_port is not None:
            return f"127.0.0.1:{self.external_hub_port}"
        assert self.hub_server is not None, "start() the sandbox first"
        return f"127.0.0.1:{self.hub_server.port}"

    def hub_key(self) -> VerifyingKey:
        return VerifyingKey.from_pem(hub_public_key_path(self.pki_dir).read_bytes(), owner="hub")

    def client(self, member_id: str, *, known: Iterable[str] = ()) -> HubClient:
        """A client for ``member_id`` over mutual TLS, trusting the hub's key and those of ``known``."""
        from hub.grpc.credentials import channel_credentials

        credentials = load_member(self.pki_dir, member_id)
        known_keys = [load_member(self.pki_dir, other).signing_key.public for other in known]
        client = HubClient(
            self.hub_address,
            member_id=member_id,
            signer=credentials.signing_key,
            hub_key=self.hub_key(),
            credentials=channel_credentials(credentials),
            known_keys=known_keys,
        )
        self.clients.append(client)
        return client

    async def stop(self) -> None:
        for client in self.clients:
            await client.aclose()
        self.clients.clear()
        if self.hub is not None:
            await self.hub.stop(grace=0.5)
            self.hub = None
        for running, node in self.nodes.values():
            await running.stop(0.5)
            await node.adapter.aclose()
        self.nodes.clear()

"""Assembling a running hub or agency node from settings: the only place that wires parts together."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.admin import admin_handlers
from hub.audit import AuditLog
from hub.audit._handlers import audit_handlers
from hub.config import Settings
from hub.consent import ConsentBook, consent_handlers
from hub.envelope import SigningKey, VerifyingKey
from hub.errors import PeerMismatch
from hub.exchange import HubCore, Peer
from hub.feeds import FeedIntake, feed_handlers
from hub.findings import findings_handlers, rules_for
from hub.grpc.server import RunningServer, start_server
from hub.jobs import HubJobs, JobEnvironment, hub_jobs
from hub.journal import Journal
from hub.node import Node
from hub.pki import MemberCredentials, load_member, safe_name
from hub.policy import ReplayGuard, default_policy
from hub.privacy import load_secrets
from hub.ratelimit import RateLimits
from hub.registry import Directory, Registry
from hub.store import Store, open_store
from hub.store._writer import GroupCommitWriter
from hub.transport import NodeTransport
from hub.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)

INSECURE_WARNING = (
    "INSECURE MODE: no TLS, no client certificates. Anyone on this network can connect and every "
    "message travels in clear text. Use only for local experiments, never with real data."
)


@dataclass
class HubApp:
    settings: Settings
    store: Store
    registry: Registry
    directory: Directory
    core: HubCore
    credentials: MemberCredentials | None
    server: RunningServer | None = None
    jobs: HubJobs | None = None

    async def start(self) -> RunningServer:
        from hub.grpc.credentials import server_credentials

        insecure = self.settings.server.insecure
        if insecure:
            warnings.warn(INSECURE_WARNING, stacklevel=1)
            log.warning(INSECURE_WARNING)
        credentials = None if insecure or self.credentials is None else server_credentials(self.credentials)
        self.server = await start_server(
            self.core,
            services=self.core_services(),
            listen=self.settings.server.listen,
            credentials=credentials,
            max_message_bytes=self.settings.policy.max_message_bytes,
            stream_handlers={service: self.core.handle_stream for service in self.core.stream_handlers},
            reuse_port=self.settings.server.workers > 1,
        )
        if self.jobs is not None:
            await self.jobs.start()
        return self.server

    def core_services(self) -> list[str]:
        return sorted(self.core.services())

    async def stop(self, grace: float = 1.0) -> None:
        if self.jobs is not None:
            await self.jobs.stop()
        if self.server is not None:
            await self.server.stop(grace)
        await self.core.transport.aclose()
        self.core.journal.close()
        self.store.dispose()


def hub_signer(settings: Settings) -> tuple[MemberCredentials, SigningKey]:
    credentials = load_member(settings.pki_dir, settings.member_id)
    return credentials, credentials.signing_key


def ensure_hub_member(registry: Registry, hub_id: str, signer: SigningKey) -> None:
    """The hub is a member of its own registry so its counter-signatures verify like anyone's."""
    registry.add_member(hub_id, kind="hub", name="the hub")
    registry.add_signing_key(hub_id, signer.public.pem())


def build_hub(
    settings: Settings,
    *,
    transport: NodeTransport | None = None,
    audit: bool = True,
    store: Store | None = None,
) -> HubApp:
    from hub.grpc.credentials import channel_credentials
    from hub.grpc.transport import GrpcTransport

    store = store or open_store(settings.resolved_database_url)
    credentials, signer = hub_signer(settings)
    registry = Registry(store)
    ensure_hub_member(registry, settings.member_id, signer)
    directory = Directory(registry, ttl=settings.directory.cache_seconds)
    skew = dt.timedelta(seconds=settings.policy.clock_skew_seconds)
    policy = default_policy(skew=skew, longest=dt.timedelta(seconds=settings.policy.max_validity_seconds))
    secrets = load_secrets(settings.data_dir)
    consents = ConsentBook(store, secrets.tokenizer)
    if transport is None:
        node_credentials = None if settings.server.insecure else channel_credentials(credentials)
        transport = GrpcTransport(node_credentials)
    core = HubCore(
        hub_id=settings.member_id,
        signer=signer,
        directory=directory,
        policy=policy,
        journal=Journal(
            ReplayGuard(store, skew=skew, in_audit_log=audit),
            GroupCommitWriter(store.engine),
            secrets.tokenizer,
            AuditLog(store, signer, origin=settings.audit.origin) if audit else None,
        ),
        transport=transport,
        consents=consents,
        consent_required=frozenset(settings.consent.required_for),
        max_message_bytes=settings.policy.max_message_bytes,
        node_timeout=settings.routing.node_deadline_seconds,
        idempotent_retries=settings.routing.idempotent_retries,
        require_peer=not settings.server.insecure,
        rate_limits=RateLimits.of(
            settings.rate_limits.per_member_per_second,
            settings.rate_limits.per_member_burst,
            settings.rate_limits.per_purpose_per_second,
            settings.rate_limits.per_purpose_burst,
        ),
    )
    core.household_check.default_deadline = settings.routing.household_check_deadline_seconds
    findings_local, findings_effects = findings_handlers(
        store, rules_for(settings), cipher=secrets.cipher, due_days=settings.findings.due_days
    )
    for service, effect in (consent_handlers(consents) | findings_effects).items():
        core.register_effect(service, effect)  # writes that commit with their audit entries
    handlers = admin_handlers(registry, directory)
    if core.journal.audit is not None:
        handlers |= audit_handlers(core.journal.audit, secrets.tokenizer)
    handlers |= findings_local
    feed_unary, feed_streams = feed_handlers(FeedIntake(store, secrets.tokenizer, secrets.cipher, settings.feeds))
    handlers |= feed_unary
    for service, stream in feed_streams.items():
        core.register_stream(service, stream)
    for service, handler in handlers.items():
        core.register(service, handler)
    jobs = hub_jobs(JobEnvironment(store, settings, directory, core.questions, secrets, core.journal.audit))
    for service, handler in jobs.handlers().items():
        core.register(service, handler)
    return HubApp(settings, store, registry, directory, core, credentials, jobs=jobs)


def hub_public_key_path(pki_dir: Path, hub_id: str = "hub") -> Path:
    """Nodes and auditors need only the hub's public signing key, never its private key."""
    return pki_dir / "members" / safe_name(hub_id) / "signing.pub.pem"


@dataclass
class NodeServer:
    """Serves a ``Node`` over gRPC, accepting calls only from the hub's TLS certificate."""

    node: Node
    require_hub_peer: bool = True

    async def handle(self, service: str, data: bytes, peer: Peer | None) -> Envelope:
        if self.require_hub_peer and (peer is None or peer.member_id != self.node.hub_id):
            raise PeerMismatch("agency nodes answer only the hub")
        return await self.node.handle_envelope(service, data)


async def start_node(
    pki_dir: Path,
    member_id: str,
    adapter_name: str,
    adapter_config: Mapping[str, Any],
    *,
    listen: str,
    insecure: bool = False,
    hub_id: str = "hub",
    max_message_bytes: int = 4 * 1024 * 1024,
) -> tuple[RunningServer, Node]:
    from adapters import load_adapter
    from hub.grpc.credentials import server_credentials

    credentials = load_member(pki_dir, member_id)
    hub_key = VerifyingKey.from_pem(hub_public_key_path(pki_dir, hub_id).read_bytes(), owner=hub_id)
    adapter = load_adapter(adapter_name, adapter_config)
    node = Node(member_id, credentials.signing_key, hub_key, adapter, hub_id=hub_id)
    if insecure:
        warnings.warn(INSECURE_WARNING, stacklevel=1)
        log.warning(INSECURE_WARNING)
    running = await start_server(
        NodeServer(node, require_hub_peer=not insecure),
        services=sorted(adapter.services()),
        listen=listen,
        credentials=None if insecure else server_credentials(credentials),
        max_message_bytes=max_message_bytes,
    )
    return running, node

"""Mutual TLS for the hub and agency nodes: credentials from the dev PKI, the peer's identity, channel options.

Both sides present a certificate from the hub's CA and accept only that CA, so a connection
always has an authenticated member at each end. ``peer_identity`` tells a servicer which member
that is, so it can refuse revoked certificates and peers that are not the envelope's sender.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import grpc

from hub.pki import MemberCredentials, fingerprint, member_id_of

#: Auth-context key under which gRPC exposes the verified peer certificate (PEM).
PEER_CERT_KEY = "x509_pem_cert"

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

ChannelOption = tuple[str, int | str]


def server_credentials(creds: MemberCredentials) -> grpc.ServerCredentials:
    """TLS credentials for a server that demands a client certificate issued by the hub's CA."""
    return grpc.ssl_server_credentials(
        [(creds.key_pem, creds.cert_pem)], root_certificates=creds.ca_pem, require_client_auth=True
    )


def channel_credentials(creds: MemberCredentials) -> grpc.ChannelCredentials:
    """TLS credentials for a client that presents its member certificate and trusts only the hub's CA."""
    return grpc.ssl_channel_credentials(
        root_certificates=creds.ca_pem, private_key=creds.key_pem, certificate_chain=creds.cert_pem
    )


def channel_options(
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    *,
    keepalive_seconds: float = 60.0,
    keepalive_timeout_seconds: float = 20.0,
    server_name: str | None = None,
) -> list[ChannelOption]:
    """Options for a channel to the hub or an agency node.

    Keepalive pings only while calls are in flight (a long feed upload notices a dead peer; an idle
    channel does not wake the server), and no more often than ``server_options`` permits.
    ``server_name`` checks the server certificate against that name instead of the dialled host.
    """
    options: list[ChannelOption] = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", int(keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", int(keepalive_timeout_seconds * 1000)),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    return options


def server_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[ChannelOption]:
    """Options for the hub's (or a node's) server, matching ``channel_options``.

    ``so_reuseport`` is off so a second server on the same port fails loudly instead of silently
    sharing its traffic.
    """
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.so_reuseport", 0),
        ("grpc.keepalive_time_ms", 120_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
    ]


class _HasAuthContext(Protocol):
    """What ``peer_identity`` needs from a ``grpc.ServicerContext`` or ``grpc.aio.ServicerContext``."""

    def auth_context(self) -> Mapping[str, object]: ...


@dataclass(frozen=True)
class PeerIdentity:
    """The member authenticated by mutual TLS on this call, and which of its certificates it used."""

    member_id: str
    fingerprint: str
    cert_pem: bytes = field(repr=False)


def peer_identity(context: _HasAuthContext) -> PeerIdentity | None:
    """The TLS-authenticated peer of a call, or ``None`` when the call carries no client certificate.

    gRPC has already checked the certificate against the CA during the handshake; this only reads
    who it names. The caller decides whether ``None`` (an insecure demo channel) is acceptable.
    """
    pem = _first_value(context.auth_context().get(PEER_CERT_KEY))
    if pem is None:
        return None
    return _identity_of(pem)


@functools.lru_cache(maxsize=4096)
def _identity_of(pem: bytes) -> PeerIdentity:
    """Parsing a certificate costs ~0.2 ms; a member presents the same one on every call."""
    return PeerIdentity(member_id=member_id_of(pem), fingerprint=fingerprint(pem), cert_pem=pem)


def _first_value(value: object) -> bytes | None:
    """gRPC gives each auth property as a list of bytes; tolerate a bare value too."""
    if isinstance(value, bytes):
        return value or None
    if isinstance(value, Iterable):
        for item in value:
            if isinstance(item, bytes) and item:
                return item
    return None

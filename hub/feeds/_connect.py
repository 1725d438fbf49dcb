"""A supplier's client of the hub, built from the PKI folder: what ``hubctl feeds`` and pull runs connect with.

Imported only when a connection is made, so that importing ``hub.feeds`` never imports gRPC.
"""

from __future__ import annotations

from hub.config import Settings
from hub.envelope import VerifyingKey
from hub.grpc.client import HubClient
from hub.grpc.credentials import channel_credentials
from hub.pki import load_member


def member_client(settings: Settings, member: str, hub: str | None = None) -> HubClient:
    """A client signing as ``member`` over mutual TLS to ``hub`` (default: ``server.listen``), trusting the hub's key.

    Insecure mode (``server.insecure``) connects without TLS, as the hub it talks to listens.
    """
    from hub.app import hub_public_key_path

    pki = settings.pki_dir
    credentials = load_member(pki, member)
    hub_id = settings.member_id
    hub_key = VerifyingKey.from_pem(hub_public_key_path(pki, hub_id).read_bytes(), owner=hub_id)
    return HubClient(
        hub or settings.server.listen,
        member_id=member,
        signer=credentials.signing_key,
        hub_key=hub_key,
        credentials=None if settings.server.insecure else channel_credentials(credentials),
        hub_id=hub_id,
    )

"""The assistance-verification hub (社会救助核查数据交换平台).

A small public surface, like httpx's: seal and open envelopes, the keys that sign them, the errors
they raise, and the pieces to run a hub or an agency node. Everything else is private to its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.envelope import Opened, SigningKey, StaticKeyRing, VerifyingKey, countersign, new_header, open_envelope, seal
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.app import HubApp, build_hub, start_node
    from hub.grpc.client import HubClient

__all__ = [
    "HubApp",
    "HubClient",
    "HubError",
    "Opened",
    "SigningKey",
    "StaticKeyRing",
    "VerifyingKey",
    "build_hub",
    "countersign",
    "new_header",
    "open_envelope",
    "seal",
    "start_node",
]

_LAZY = {
    "HubApp": "hub.app",
    "build_hub": "hub.app",
    "start_node": "hub.app",
    "HubClient": "hub.grpc.client",
}


def __getattr__(name: str) -> Any:
    """The server side is imported on first use, so ``import hub`` stays light for tools."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hub' has no attribute {name!r}")

"""The published adapter interface: the only thing the agency node and the hub know of an adapter.

An adapter turns one hub question (a protobuf body from ``hub.v1.verification_pb2``) into a lookup in
the agency's own system and returns the answer body. It is deliberately tiny, like an httpx transport:
what to ask (``services``), how to answer (``answer``), how to let go of resources (``aclose``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from google.protobuf.message import Message

#: Member kinds an adapter can serve (DOMAIN.md, "Who talks to whom").
KINDS = frozenset(
    {
        "public-security",
        "civil-affairs",
        "education",
        "hrss",
        "housing",
        "medical-insurance",
        "rural-revitalisation",
    }
)


@dataclass(frozen=True)
class QueryContext:
    """Who asks, for what, and until when; the adapter may use it to scope or log (never raw IDs)."""

    requester: str
    """Member id of the asking agency."""
    service: str
    """Full service name, e.g. ``hub.services.HOUSEHOLD_REGISTRATION``."""
    purpose_code: str
    correlation_id: str
    deadline: float | None = None
    """A ``time.monotonic()`` instant after which the answer is no longer wanted, if any."""


@runtime_checkable
class Adapter(Protocol):
    """One agency's answering side; instances come from ``load_adapter(name, config)``."""

    name: str
    """Registry name, e.g. ``"public-security"`` or ``"sql"``."""
    kind: str
    """Member kind served, one of ``KINDS``."""

    def services(self) -> frozenset[str]:
        """The services this adapter answers (names from ``hub.services``)."""
        ...

    async def answer(self, body: Message, context: QueryContext) -> Message:
        """Answer one request body for ``context.service``.

        Raises ``hub.errors.InvalidArgument`` (naming the field) on bad input; an unknown person is
        not an error (empty result, ``not_found`` or no facts).
        """
        ...

    async def aclose(self) -> None:
        """Release connections and caches; calling it twice is harmless."""
        ...

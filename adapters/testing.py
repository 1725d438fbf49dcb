"""Adapters for tests: a handler-driven ``MockAdapter`` and a deliberately ``OversharingAdapter``.

Like httpx's ``MockTransport``: a hub or node test plugs in a function instead of an agency system.
Neither is registered by default; register one with ``register_adapter`` when a test needs a name.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from google.protobuf.message import Message

from adapters._interface import QueryContext
from adapters._values import timestamp
from hub import services
from hub.errors import InvalidArgument
from hub.identifiers import validate_id_number
from hub.v1 import verification_pb2 as pb

MockHandler = Callable[[Any, QueryContext], Message | Awaitable[Message]]


class MockAdapter:
    """Answers every service in ``services`` with ``handler(body, context)`` (plain or async)."""

    def __init__(
        self,
        handler: MockHandler,
        services: Iterable[str],
        *,
        name: str = "mock",
        kind: str = "civil-affairs",
    ) -> None:
        self.name = name
        self.kind = kind
        self._handler = handler
        self._services = frozenset(services)
        self.calls: list[tuple[Message, QueryContext]] = []
        self.closed = False

    def services(self) -> frozenset[str]:
        return self._services

    async def answer(self, body: Message, context: QueryContext) -> Message:
        if context.service not in self._services:
            raise InvalidArgument("service", f"{self.name} does not answer {context.service}")
        self.calls.append((body, context))
        result = self._handler(body, context)
        return await result if inspect.isawaitable(result) else result

    async def aclose(self) -> None:
        self.closed = True


#: Fields the ``OversharingAdapter`` fills that the default purpose does not need (``hub.disclosure``).
OVERSHARED: Mapping[str, tuple[str, ...]] = {
    services.HOUSEHOLD_REGISTRATION: ("household_id", "members"),
    services.RESIDENCE_PERMIT: ("permit_number",),
    services.ASSISTANCE_INQUIRY: ("records.monthly_amount_fen",),
}


class OversharingAdapter:
    """Fills every field of every answer, whatever the purpose: proves the node drops what is not needed.

    It knows everybody: every person asked is registered in 容城县 (130629), holds a valid permit in
    大兴区 (110115) and receives 低保. The values are fixed so a test can look for them.
    """

    name = "oversharing"
    kind = "public-security"
    REGION = "130629"
    RESIDENCE = "110115"
    HOUSEHOLD_ID = "HH-OVERSHARED"
    PERMIT_NUMBER = "JZZ-OVERSHARED"
    MONTHLY_AMOUNT_FEN = 62_800

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.closed = False

    def services(self) -> frozenset[str]:
        return frozenset(OVERSHARED)

    async def answer(self, body: Message, context: QueryContext) -> Message:
        since = timestamp(dt.date(2020, 1, 1))
        if isinstance(body, pb.HouseholdRegistrationQuery):
            number = validate_id_number(body.person.id_number, "person.id_number")
            return pb.HouseholdRegistrationResult(
                registered=True,
                region_code=self.REGION,
                household_id=self.HOUSEHOLD_ID,
                members=[pb.HouseholdMember(id_number=number, name=body.person.name or "某某", relation="户主")],
            )
        if isinstance(body, pb.ResidencePermitQuery):
            validate_id_number(body.person.id_number, "person.id_number")
            return pb.ResidencePermitResult(
                valid=True,
                endorsed_this_year=True,
                living_since=since,
                address_region_code=self.RESIDENCE,
                permit_number=self.PERMIT_NUMBER,
            )
        if isinstance(body, pb.AssistanceInquiry):
            return pb.AssistanceAnswer(
                records=[
                    pb.AssistanceRecord(
                        id_number=validate_id_number(p.id_number, f"persons[{i}].id_number"),
                        programme=pb.DIBAO,
                        locality=self.REGION,
                        since=since,
                        monthly_amount_fen=self.MONTHLY_AMOUNT_FEN,
                        status=pb.ACTIVE,
                    )
                    for i, p in enumerate(body.persons)
                ]
            )
        raise InvalidArgument("service", f"{self.name} does not answer {context.service}")

    async def aclose(self) -> None:
        self.closed = True

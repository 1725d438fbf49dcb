"""The test adapters: MockAdapter plugs a function in; OversharingAdapter fills what no purpose needs."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.message import Message

from adapters import Adapter, QueryContext
from adapters.testing import OVERSHARED, MockAdapter, OversharingAdapter
from hub import services
from hub.disclosure import Disclosure
from hub.errors import InvalidArgument
from hub.v1 import verification_pb2 as pb

from .adapter_requests import answer, ask

PERSON = "11010519491231002X"


def _has(message: Message, path: str) -> bool:
    head, _, rest = path.partition(".")
    descriptor = message.DESCRIPTOR.fields_by_name[head]
    if descriptor.is_repeated:
        items = getattr(message, head)
        return bool(items) and (not rest or all(_has(item, rest) for item in items))
    if descriptor.message_type is not None:
        return message.HasField(head) and (not rest or _has(getattr(message, head), rest))
    return bool(getattr(message, head))


@pytest.mark.parametrize("service", sorted(OVERSHARED))
def test_oversharing_adapter_fills_fields_the_default_purpose_drops(service: str) -> None:
    adapter = OversharingAdapter()
    assert isinstance(adapter, Adapter)
    reply = ask(adapter, service, [PERSON], purpose="any.purpose")
    for path in OVERSHARED[service]:
        assert _has(reply, path), path
    disclosed = Disclosure().apply(service, "any.purpose", reply)
    for path in OVERSHARED[service]:
        assert not _has(disclosed, path), f"{path} is outside the default disclosure, so it should be dropped"


def test_oversharing_adapter_still_validates_input() -> None:
    with pytest.raises(InvalidArgument) as caught:
        ask(OversharingAdapter(), services.ASSISTANCE_INQUIRY, ["123"])
    assert caught.value.field == "persons[0].id_number"


def test_mock_adapter_with_plain_and_async_handlers() -> None:
    def plain(body: pb.HouseholdRegistrationQuery, ctx: QueryContext) -> Message:
        return pb.HouseholdRegistrationResult(registered=body.person.id_number == PERSON)

    async def slow(body: pb.HouseholdRegistrationQuery, ctx: QueryContext) -> Message:
        await asyncio.sleep(0)
        return pb.HouseholdRegistrationResult(registered=False)

    for handler, expected in ((plain, True), (slow, False)):
        adapter = MockAdapter(handler, [services.HOUSEHOLD_REGISTRATION])
        assert isinstance(adapter, Adapter)
        assert ask(adapter, services.HOUSEHOLD_REGISTRATION, [PERSON]).registered is expected
        assert [c.service for _, c in adapter.calls] == [services.HOUSEHOLD_REGISTRATION]
        with pytest.raises(InvalidArgument):
            answer(adapter, pb.AssistanceInquiry(), services.ASSISTANCE_INQUIRY)
        asyncio.run(adapter.aclose())
        assert adapter.closed

"""``HubClient``'s checks on what comes back, without a server: the hub's answer is opened or refused, never
half-read."""

from __future__ import annotations

import asyncio

import pytest

from hub.envelope import SigningKey, new_header, seal
from hub.errors import Malformed
from hub.grpc.client import HubClient
from hub.v1 import verification_pb2 as v

ASKER = "11110115MB0000007E"


def test_an_answer_that_is_not_an_envelope_is_malformed_not_a_parse_error() -> None:
    async def scenario() -> None:
        signer, hub = SigningKey.generate(owner=ASKER), SigningKey.generate(owner="hub")
        client = HubClient("127.0.0.1:9", member_id=ASKER, signer=signer, hub_key=hub.public, credentials=None)
        try:
            header = new_header(sender=ASKER, recipient="hub", service="hub.v1.Verification/HouseholdRegistration")
            request = seal(header, v.HouseholdRegistrationQuery(), signer)
            with pytest.raises(Malformed):
                client.open_answer(request, b"\xff\xff\xff")
        finally:
            await client.aclose()

    asyncio.run(scenario())

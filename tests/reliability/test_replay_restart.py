"""The replay memory survives a restart: a request accepted before the hub stopped is refused after it started
again, for every RPC, without reaching any member and without a trace."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from tests.reliability.conftest import RPCS, Rpc, World, changed, drive, rpc_param, snapshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def accepted_before_restart(loop: asyncio.AbstractEventLoop, world: World) -> dict[str, bytes]:
    """One good request per RPC, accepted; then the hub is stopped and started again on the same database."""
    sent: dict[str, bytes] = {}
    for rpc in RPCS:
        data = rpc.seal(world).SerializeToString()
        outcome = drive(loop, world.call(rpc.service, data))
        assert outcome.ok, f"{rpc.name}: {outcome.reason} {outcome.details}"
        sent[rpc.service] = data
    drive(loop, world.restart())
    return sent


@pytest.mark.parametrize("rpc", [rpc_param(rpc) for rpc in RPCS])
def test_replay_across_a_restart(
    loop: asyncio.AbstractEventLoop, world: World, accepted_before_restart: dict[str, bytes], rpc: Rpc
) -> None:
    before, asked = snapshot(world.store), len(world.transport.calls)
    outcome = drive(loop, world.call(rpc.service, accepted_before_restart[rpc.service]))
    assert (outcome.code, outcome.reason) == (grpc.StatusCode.ALREADY_EXISTS, "REPLAYED"), outcome.details
    assert changed(before, snapshot(world.store)) == {}
    assert world.transport.calls[asked:] == []


def test_a_fresh_request_is_still_answered_after_the_restart(
    loop: asyncio.AbstractEventLoop, world: World, accepted_before_restart: dict[str, bytes]
) -> None:
    """The control: the restarted hub refuses replays because it remembers them, not because it is broken."""
    rpc = RPCS[0]
    outcome = drive(loop, world.call(rpc.service, rpc.seal(world).SerializeToString()))
    assert outcome.ok, outcome.details

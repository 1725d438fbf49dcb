"""Faults: the hub killed in the middle of a burst of queries, and an agency node that never answers.

After the kill and a restart: every query was either answered with a verified answer or failed with
UNAVAILABLE; nothing answered was lost; nothing is recorded twice; the replay memory and the audit log agree
(a query is remembered exactly when its two audit entries exist); resending every query is refused as a
replay exactly when it was remembered, and answered otherwise; the exported audit log verifies offline.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from adapters import register_adapter
from adapters.testing import MockAdapter
from bench.load import (
    ASKER,
    CIVIL,
    NEIGHBOUR,
    PEOPLE,
    POLICE,
    QUESTIONS,
    HubProcess,
    message_id_of,
    provision,
    sandbox_env,
    send,
    verify_audit,
)
from hub import services
from hub.audit._models import AuditEntryRow
from hub.envelope import new_header, seal
from hub.errors import MemberUnavailable
from hub.grpc.client import HubClient
from hub.grpc.status import error_info
from hub.policy import remembered_ids
from hub.sandbox import MemberSpec, Sandbox
from hub.store import open_store
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Purpose
from tests.reliability.conftest import uscc

pytestmark = pytest.mark.integration


def prepared(client: HubClient, count: int) -> list[tuple[str, Envelope]]:
    """``count`` signed questions, routed to both answering members in turn."""
    requests = []
    for i in range(count):
        service, recipient, body = QUESTIONS[i % len(QUESTIONS)]
        header = new_header(
            sender=client.member_id, recipient=recipient, service=service, purpose=Purpose(code="dibao.application")
        )
        requests.append((service, seal(header, body(PEOPLE[i % len(PEOPLE)]), client.signer)))
    return requests


def recorded(sandbox: Sandbox) -> tuple[set[str], Counter[tuple[str, str]]]:
    """Message ids in the replay memory, and audit entries counted by (the request's id, kind): a response
    entry carries its own message id and the request's as correlation id."""
    store = open_store(sandbox.settings().resolved_database_url)
    try:
        with store.session() as session:
            seen = remembered_ids(session)
            rows = session.execute(
                select(AuditEntryRow.correlation_id, AuditEntryRow.kind, func.count()).group_by(
                    AuditEntryRow.correlation_id, AuditEntryRow.kind
                )
            ).all()
    finally:
        store.dispose()
    return seen, Counter({(mid, kind): count for mid, kind, count in rows})


@pytest.mark.fault
def test_the_hub_killed_mid_burst_loses_nothing_answered_and_doubles_nothing(tmp_path: Path, database_url: str) -> None:
    async def scenario() -> None:
        sandbox = provision(
            tmp_path / "world",
            database_url=database_url,
            settings={"rate_limits": {"per_member_per_second": 0, "per_purpose_per_second": 0}},
        )
        await sandbox.start_nodes(spec for spec in sandbox.members if spec.adapter)
        hub = HubProcess(sandbox.root, sandbox_env(sandbox))
        try:
            sandbox.external_hub_port = hub.start()
            clients = [sandbox.client(m, known=[POLICE, CIVIL]) for m in (ASKER, NEIGHBOUR) for _ in range(4)]
            burst = [(client, *request) for client in clients for request in prepared(client, 50)]
            outcome: dict[str, str] = {}
            answered = 0

            async def one(client: HubClient, service: str, envelope: Envelope) -> None:
                nonlocal answered
                status, data, _ = await send(client, service, envelope.SerializeToString(), timeout=10)
                if status == "OK":
                    client.open_answer(envelope, data)  # raises unless genuine and bound to this question
                    answered += 1
                outcome[message_id_of(envelope)] = status

            async def killer() -> None:
                while answered < 60:
                    await asyncio.sleep(0.005)
                hub.kill()

            await asyncio.gather(killer(), *(one(*request) for request in burst))
            statuses = Counter(outcome.values())
            assert set(statuses) <= {"OK", "UNAVAILABLE"}, statuses
            assert statuses["OK"] >= 60 and statuses["UNAVAILABLE"] > 0, statuses

            seen, entries = recorded(sandbox)
            ok = {mid for mid, status in outcome.items() if status == "OK"}
            assert ok <= seen, "an answered query was lost"
            assert all(count == 1 for count in entries.values()), "an audit entry was written twice"
            assert {mid for mid, _ in entries} == seen, "the replay memory and the audit log disagree"
            assert all(entries[mid, "request"] == entries[mid, "response"] == 1 for mid in seen)

            asked = {  # questions a node answered, whether or not the hub lived to record and return the answer
                context.correlation_id
                for member in (POLICE, CIVIL)
                for _, context in sandbox.nodes[member][1].adapter.calls  # type: ignore[attr-defined]
            }
            assert ok <= asked

            sandbox.external_hub_port = hub.start()  # the same data folder and database
            for client in clients:
                await client.aclose()
            sandbox.clients.clear()
            again = sandbox.client(ASKER, known=[POLICE, CIVIL]), sandbox.client(NEIGHBOUR, known=[POLICE, CIVIL])
            resent: Counter[tuple[str, str]] = Counter()
            for client, service, envelope in burst:
                retry = again[0] if client.member_id == ASKER else again[1]
                status, data, reason = await send(retry, service, envelope.SerializeToString())
                if status == "OK":
                    retry.open_answer(envelope, data)
                mid = message_id_of(envelope)
                where = "recorded" if mid in seen else "answered by a node" if mid in asked else "new"
                resent[where, reason or status] += 1
            # Recorded by the hub: refused as a replay. Answered by a node but lost with the hub: the node, which
            # remembers message ids, refuses the resend as a replay too (the asker must ask anew). Else: answered.
            assert set(resent) <= {("recorded", "REPLAYED"), ("answered by a node", "REPLAYED"), ("new", "OK")}, resent
            assert resent["recorded", "REPLAYED"] == len(seen)
            lost_answers = resent["answered by a node", "REPLAYED"]
            print(f"\nkilled mid-burst of {len(burst)}: {dict(statuses)}; recorded {len(seen)}; resent: {dict(resent)}")
        finally:
            await sandbox.stop()
            exit_code = hub.stop()
        assert exit_code == 0, "the restarted hub did not shut down cleanly"
        audit = verify_audit(sandbox, tmp_path)
        assert audit.seen_messages == len(burst), "every question is now remembered once"
        assert audit.entries == 2 * len(burst) - lost_answers, "request and response each, or the refused request"
        assert audit.duplicates == 0 and audit.signed_size == audit.entries

    asyncio.run(asyncio.wait_for(scenario(), 120))


HANGING = uscc("11130632MB0000016")  # 安新县公安局: its node never answers
DEADLINE = 1.0


def never_answers(config: object) -> MockAdapter:
    async def hang(body: object, context: object) -> v.HouseholdRegistrationResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return MockAdapter(hang, services.ROUTED, kind="public-security")


async def hanging_world(root: Path, database_url: str) -> Sandbox:
    register_adapter("reliability-never-answers", never_answers)
    sandbox = provision(
        root,
        database_url=database_url,
        settings={"routing": {"node_deadline_seconds": DEADLINE}},
        extra=[
            MemberSpec(HANGING, "public-security", "安新县公安局", ("130632",), "reliability-never-answers"),
        ],
    )
    await sandbox.start(audit=True)  # the hub in this process, every node over mutual TLS
    return sandbox


def registration(client: HubClient, region: str) -> bytes:
    header = new_header(
        sender=client.member_id,
        recipient=f"public-security@{region}",
        service=services.HOUSEHOLD_REGISTRATION,
        purpose=Purpose(code="dibao.application"),
    )
    return seal(
        header, v.HouseholdRegistrationQuery(person=v.Person(id_number=PEOPLE[0])), client.signer
    ).SerializeToString()


@pytest.mark.fault
def test_a_node_that_hangs_is_named_unavailable_within_the_deadline_while_others_answer(
    tmp_path: Path, database_url: str
) -> None:
    async def scenario() -> None:
        sandbox = await hanging_world(tmp_path / "world", database_url)
        try:
            client = sandbox.client(ASKER, known=[POLICE])
            call = client.channel.unary_unary(
                f"/{services.HOUSEHOLD_REGISTRATION}", request_serializer=None, response_deserializer=None
            )

            async def to_the_hung_node() -> tuple[float, grpc.aio.AioRpcError]:
                started = time.monotonic()
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await call(registration(client, "130632"), timeout=10)
                return time.monotonic() - started, raised.value

            async def to_the_others() -> tuple[list[float], float]:
                await asyncio.sleep(0.1)  # the hung calls are in flight
                latencies = []
                for _ in range(10):
                    started = time.monotonic()
                    status, _, _ = await send(client, services.HOUSEHOLD_REGISTRATION, registration(client, "130629"))
                    assert status == "OK"
                    latencies.append(time.monotonic() - started)
                return latencies, time.monotonic()

            began = time.monotonic()
            hung, (others, last_answer) = await asyncio.gather(
                asyncio.gather(*(to_the_hung_node() for _ in range(3))), to_the_others()
            )
            answered_by = last_answer - began
            for elapsed, error in hung:
                info = error_info(error)
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                assert info is not None and info.reason == "MEMBER_UNAVAILABLE"
                assert info.metadata["member"] == HANGING
                assert DEADLINE * 0.9 <= elapsed <= DEADLINE + 0.75, elapsed
            print(
                f"\nhung calls failed after {[round(e, 2) for e, _ in hung]} s; others answered in <= {max(others):.3f} s"
            )
            # The healthy member's answers all came while the hung calls still waited, and came at once. (Not each
            # one under a bound: in the full suite one of the ten once took 0.53 s and the others 3-10 ms, a pause of
            # the test process or the machine, the hung calls still pending.)
            assert answered_by < min(elapsed for elapsed, _ in hung), (
                f"a healthy member waited behind the hung one: {others}"
            )
            assert statistics.median(others) < DEADLINE / 10, f"the healthy member answered slowly: {others}"
            assert sandbox.nodes[POLICE][1].adapter.calls, "the healthy node was asked"  # type: ignore[attr-defined]

            assert sandbox.hub is not None
            with sandbox.hub.store.session() as session:
                outcomes = Counter(
                    session.scalars(select(AuditEntryRow.outcome).where(AuditEntryRow.recipient.like("%130632")))
                )
            assert outcomes == {"MEMBER_UNAVAILABLE": 3}, "each hung query is recorded with its outcome"
        finally:
            await sandbox.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_client_names_the_member_that_did_not_answer(tmp_path: Path, database_url: str) -> None:
    async def scenario() -> None:
        sandbox = await hanging_world(tmp_path / "world", database_url)
        try:
            client = sandbox.client(ASKER)
            with pytest.raises(MemberUnavailable) as raised:
                await client.call_raw(services.HOUSEHOLD_REGISTRATION, registration(client, "130632"))
            assert raised.value.member == HANGING, raised.value
        finally:
            await sandbox.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))

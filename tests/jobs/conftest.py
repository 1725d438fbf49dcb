"""Fixtures for the scheduled runs: settings with short leases, small jobs, a hand-driven clock, and an
in-process federation (the demo's agencies answering through real nodes) for the cross-check."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from adapters import load_adapter
from adapters.demo import Demo, build_demo
from hub import services
from hub.asking import HubQuestions
from hub.config import JobSettings, Settings
from hub.envelope import SigningKey
from hub.feeds import FeedIntake, FeedMeta, Policy, chunked
from hub.jobs import JOBSTORE_TABLE, JobContext, JobOutcome, JobRunner, RunStatus
from hub.node import Node
from hub.privacy import Secrets
from hub.registry import Directory, Member, Registry
from hub.store import Store
from hub.transport import LocalTransport
from hub.v1 import feeds_pb2 as fpb
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Message

T = TypeVar("T")

DAXING_CA = "11110115MB0000007E"  # 大兴区民政局: pays the residence-based enrolments
DAXING_PS = "11110115MB0000037H"  # 大兴区公安分局
RONGCHENG_PS = "11130629MB1234567U"  # 容城县公安局
RONGCHENG_CA = "11130629MB0000027U"  # 容城县民政局
TODAY = dt.date(2025, 6, 16)


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def job_settings(tmp_path: Path, **jobs: Any) -> Settings:
    values: dict[str, Any] = {
        "lease_seconds": 5.0,
        "heartbeat_seconds": 0.05,
        "takeover_check_seconds": 0.05,
        "misfire_grace_seconds": 3600,
        "batch_size": 2,
        "concurrency": 1,
        "question_timeout_seconds": 5.0,
    }
    return Settings(data_dir=tmp_path, jobs=JobSettings(**(values | jobs)))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return job_settings(tmp_path)


class Clock:
    """A clock tests move by hand (leases expire when told to)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2025, 6, 16, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clean_jobstore(store: Store) -> Iterator[Store]:
    """The shared PostgreSQL database keeps tables between tests, and APScheduler's is not ours to migrate:
    start without it and leave none behind."""
    drop_jobstore(store)
    yield store
    drop_jobstore(store)


def drop_jobstore(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {JOBSTORE_TABLE}"))


@dataclass
class ItemsJob:
    """Goes through ``items`` one by one with the ledger, checkpointing after each; records what it did.

    ``gate`` (if set) is awaited before each item, so a test can hold the run at a known place.
    """

    items: Sequence[str]
    name: str = "items"
    description: str = "test job over a list of items"
    done: list[tuple[str, str]] = field(default_factory=list)  # (item, trigger)
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    fail_with: Exception | None = None

    async def run(self, context: JobContext) -> JobOutcome:
        self.started.set()
        if context.resumed:
            context.items.interrupt_started()
        position = int(context.resume_state.get("position", 0))
        context.progress(position, len(self.items))
        for index in range(position, len(self.items)):
            if self.gate is not None:
                await self.gate.wait()
                self.gate.clear()
            key = self.items[index]
            if context.items.begin(key):
                if self.fail_with is not None:
                    raise self.fail_with
                self.done.append((key, context.trigger))
                context.items.finish(key, "done", {"index": index})
                context.count("done")
            context.progress(index + 1)
            context.checkpoint({"position": index + 1})
        return JobOutcome(report={"items": len(self.items), "tally": context.items.tally()})


def runner_for(store: Store, settings: Settings, *jobs: Any, holder: str, clock: Clock | None = None) -> JobRunner:
    kwargs: dict[str, Any] = {"holder": holder}
    if clock is not None:
        kwargs["clock"] = clock
    return JobRunner(store, {job.name: job for job in jobs}, settings, **kwargs)


def statuses(runner: JobRunner) -> list[RunStatus]:
    return [record.status for record in runner.history(limit=100)]


# --- an in-process federation for the cross-check ---------------------------------------------------------


class CountingTransport(LocalTransport):
    """Delivers to in-process nodes and counts every question: (service, first person asked about)."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        super().__init__(nodes)
        self.asked: list[tuple[str, str, str]] = []
        self.after: int | None = None
        self.hang = asyncio.Event()

    async def deliver(self, member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        if self.after is not None and len(self.asked) >= self.after:
            await asyncio.Event().wait()  # the hub "dies" here: the question never leaves
        self.asked.append((member.member_id, service, first_person(service, envelope)))
        return await super().deliver(member, service, envelope, timeout=timeout)

    def per_question(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for _, service, person in self.asked:
            counts[(service, person)] = counts.get((service, person), 0) + 1
        return counts


def first_person(service: str, envelope: Envelope) -> str:
    """The person a question is about: the one a cross-check item asks for (a hash, to keep numbers out)."""
    message = Message()
    message.ParseFromString(envelope.payload)
    request_type, _ = services.BODY_TYPES[service]
    body: Any = request_type()
    message.body.Unpack(body)
    number = body.person.id_number if service == services.HOUSEHOLD_REGISTRATION else body.persons[0].id_number
    return hashlib.sha256(number.encode()).hexdigest()[:12]


@dataclass
class Federation:
    store: Store
    secrets: Secrets
    demo: Demo
    directory: Directory
    questions: HubQuestions
    transport: CountingTransport
    registry: Registry

    def roster(self, rows: Sequence[fpb.RosterRow], version: str = "roster-1") -> None:
        upload(self, "roster", DAXING_CA, rows, version)

    def properties(self, rows: Sequence[fpb.PropertyRow], version: str = "property-1") -> None:
        upload(self, "property", "91110000600037341L", rows, version)


def upload(federation: Federation, kind: str, supplier: str, rows: Sequence[Any], version: str) -> None:
    intake = FeedIntake(federation.store, federation.secrets.tokenizer, federation.secrets.cipher)
    department = {"roster": "civil-affairs", "property": "housing", "death": "public-security"}[kind]
    meta = FeedMeta(
        version, department, supplier, kind, dt.date(2025, 5, 1), dt.date(2025, 5, 31), len(rows), Policy.REJECT_VERSION
    )
    for chunk in chunked(meta, rows, 50):
        intake.receive(chunk, sender=supplier)
    receipt = intake.complete(version)
    assert receipt.accepted_records == len(rows), receipt.rejections


def roster_row(number: str, head: str, locality: str = "110115", programme: int = v.DIBAO) -> fpb.RosterRow:
    return fpb.RosterRow(
        id_number=number,
        household_head_id_number=head,
        programme=programme,  # type: ignore[arg-type]
        locality=locality,
        since="2024-03-01",
        monthly_amount_fen=129_000,
        status=v.ACTIVE,
    )


@pytest.fixture
def federation(store: Store) -> Iterator[Federation]:
    demo = build_demo(today=TODAY)
    secrets = Secrets.generate()
    registry = Registry(store)
    hub_key = SigningKey.generate("ecdsa-p256", "hub")
    registry.add_member("hub", kind="hub", name="the hub")
    registry.add_signing_key("hub", hub_key.public.pem())
    nodes: dict[str, Node] = {}
    for member_id, kind, region, adapter in (
        (DAXING_CA, "civil-affairs", "110115", None),
        (DAXING_PS, "public-security", "110115", "public-security"),
        (RONGCHENG_PS, "public-security", "130629", "public-security"),
        (RONGCHENG_CA, "civil-affairs", "130629", "civil-affairs"),
    ):
        key = SigningKey.generate("ecdsa-p256", member_id)
        registry.add_member(member_id, kind=kind, name=member_id, jurisdictions=[region])
        registry.add_signing_key(member_id, key.public.pem())
        if adapter is not None:
            nodes[member_id] = Node(
                member_id, key, hub_key.public, load_adapter(adapter, demo.config(adapter, "memory"))
            )
    directory = Directory(registry, ttl=0)
    transport = CountingTransport(nodes)
    questions = HubQuestions("hub", hub_key, directory, transport)
    yield Federation(store, secrets, demo, directory, questions, transport, registry)

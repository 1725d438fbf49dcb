"""Real hub processes: one killed in the middle of a cross-check, two replicas on one PostgreSQL.

The hubs are ``python -m hub.cli serve`` processes; the agency nodes they ask run in this test's process, over
mutual TLS, and count every question. Every wait is bounded in seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from sqlalchemy import select

from adapters.demo import build_demo
from hub import services
from hub.config import DEFAULT_JOB_CRON
from hub.feeds import FeedIntake, FeedMeta, Policy, chunked
from hub.findings._models import FindingRow
from hub.jobs import RunStatus
from hub.jobs._models import JobRunItemRow, JobRunRow
from hub.privacy import load_secrets
from hub.sandbox import MemberSpec, Sandbox
from hub.store import Store, open_store
from hub.v1 import feeds_pb2 as fpb
from hub.v1.envelope_pb2 import Envelope, Message
from tests.jobs.conftest import DAXING_CA, DAXING_PS, RONGCHENG_CA, RONGCHENG_PS, TODAY, drop_jobstore
from tests.jobs.conftest import roster_row as row
from tests.jobs.sample_jobs import SIDE_EFFECTS, SLOW_ITEMS

pytestmark = [pytest.mark.integration, pytest.mark.fault]

ROOT = Path(__file__).resolve().parents[2]
CHINA = ZoneInfo("Asia/Shanghai")
PORT_LINE = re.compile(r"listening on [\d.]+:(\d+)")
FAST_LEASES = {"lease_seconds": 1.5, "heartbeat_seconds": 0.25, "takeover_check_seconds": 0.25}


class HubProcess:
    """``hubctl serve`` in a child process, its output in a log file."""

    def __init__(self, root: Path, config: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.root, self.config, self.name = root, config, name
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.log = root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        command = [sys.executable, "-m", "hub.cli", "--config", str(self.config), "--data-dir", str(self.root)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "serve", "--listen", "127.0.0.1:0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=self.env,
            )
        await until(lambda: PORT_LINE.search(self.log.read_text(errors="replace")) is not None, 30, self.tail)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no cleanup, no lease released
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def until(condition: Callable[[], bool], timeout: float, explain: Callable[[], str] = lambda: "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {timeout} s\n{explain()}")
        await asyncio.sleep(0.05)


def write_config(path: Path, jobs: dict[str, Any], database_url: str = "") -> Path:
    settings: dict[str, Any] = {"jobs": jobs, "server": {"shutdown_grace_seconds": 0.5}}
    if database_url:
        settings["database_url"] = database_url
    path.write_text(tomli_w.dumps(settings))
    return path


DAILY = "0 0 3 * * *"  # far from now: the one due time a test wants is seeded by ``seed_due``


def seed_due(database_url: str, name: str, cron: str = DAILY) -> None:
    """Store ``name`` in the job store as due a moment ago, as if the hub had been down at its due time:
    however long the hub takes to start, it fires this due time once (a misfire within the grace window)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from hub.jobs import JOBSTORE_TABLE, cron_trigger
    from hub.jobs._schedule import due
    from hub.store import make_engine

    engine = make_engine(database_url)

    async def add() -> None:
        aps = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)})
        aps.start(paused=True)
        when = dt.datetime.now(CHINA).replace(microsecond=0) - dt.timedelta(seconds=1)
        aps.add_job(due, cron_trigger(cron, CHINA), id=name, name=name, args=[name], next_run_time=when)
        aps.shutdown(wait=False)
        await asyncio.sleep(0)

    asyncio.run(add())
    engine.dispose()


def nothing_else() -> dict[str, str]:
    return {name: "" for name in (*DEFAULT_JOB_CRON, "audit_checkpoint", "retention_purge")}


def the_run(store: Store, job: str) -> JobRunRow | None:
    with store.session() as session:
        return session.scalars(select(JobRunRow).where(JobRunRow.job == job).order_by(JobRunRow.id)).first()


def items(store: Store, run_id: int) -> dict[str, str]:
    with store.session() as session:
        rows = session.execute(
            select(JobRunItemRow.item_key, JobRunItemRow.status).where(JobRunItemRow.run_id == run_id)
        )
        return {key: status for key, status in rows}


# --- a hub killed in the middle of the annual cross-check ----------------------------------------------------


def upload(store: Store, root: Path, kind: str, supplier: str, rows: list[Any]) -> None:
    secrets = load_secrets(root)
    intake = FeedIntake(store, secrets.tokenizer, secrets.cipher)
    department = {"roster": "civil-affairs", "property": "housing"}[kind]
    meta = FeedMeta(
        f"{kind}-1",
        department,
        supplier,
        kind,
        dt.date(2025, 5, 1),
        dt.date(2025, 5, 31),
        len(rows),
        Policy.REJECT_VERSION,
    )
    for chunk in chunked(meta, rows, 100):
        intake.receive(chunk, sender=supplier)
    assert intake.complete(meta.version_id).accepted_records == len(rows)


def question_of(service: str, data: bytes | Envelope) -> tuple[str, str]:
    envelope = data if isinstance(data, Envelope) else Envelope.FromString(data)
    message = Message.FromString(envelope.payload)
    body: Any = services.BODY_TYPES[service][0]()
    message.body.Unpack(body)
    number = body.person.id_number if service == services.HOUSEHOLD_REGISTRATION else body.persons[0].id_number
    return service, hashlib.sha256(number.encode()).hexdigest()[:12]


def test_a_hub_killed_midway_resumes_the_cross_check_asking_and_raising_nothing_twice(tmp_path: Path) -> None:
    root = tmp_path / "world"
    demo = build_demo(today=TODAY)
    members = [
        MemberSpec(DAXING_CA, "civil-affairs", "大兴区民政局", ("110115",)),
        MemberSpec(
            DAXING_PS,
            "public-security",
            "大兴区公安分局",
            ("110115",),
            "public-security",
            demo.config("public-security", "memory"),
        ),
        MemberSpec(
            RONGCHENG_PS,
            "public-security",
            "容城县公安局",
            ("130629",),
            "public-security",
            demo.config("public-security", "memory"),
        ),
        MemberSpec(
            RONGCHENG_CA,
            "civil-affairs",
            "容城县民政局",
            ("130629",),
            "civil-affairs",
            demo.config("civil-affairs", "memory"),
        ),
    ]
    sandbox = Sandbox(root, members)
    sandbox.provision()
    store = open_store(sandbox.settings().resolved_database_url)
    people = [
        demo.persons[label].id_number
        for label in ("A", "A.spouse", "A.child", "B", "B.father", "B.mother", "bg1", "bg2")
    ]
    heads = [people[0]] * 3 + [people[3]] * 3 + [people[6], people[7]]
    upload(store, root, "roster", DAXING_CA, [row(n, h) for n, h in zip(people, heads, strict=True)])
    upload(
        store,
        root,
        "property",
        "91110000600037341L",
        [
            fpb.PropertyRow(
                id_number=people[3],
                certificate_number=f"C-{n}",
                region_code="130629",
                property_kind=kind,
                registered_on="2020-01-01",
                floor_area_cm2=5_000_000,
            )
            for n, kind in enumerate((fpb.PROPERTY_KIND_RESIDENTIAL, fpb.PROPERTY_KIND_COMMERCIAL))
        ],
    )
    asked: list[tuple[str, str]] = []
    config = write_config(
        root / "hub.toml",
        {
            **FAST_LEASES,
            "cron": {**nothing_else(), "annual_cross_check": DAILY},
            "concurrency": 1,
            "batch_size": 2,
            "question_timeout_seconds": 5,
        },
    )

    seed_due(sandbox.settings().resolved_database_url, "annual_cross_check")

    async def scenario() -> tuple[JobRunRow, int, int]:
        await sandbox.start_nodes(spec for spec in members if spec.adapter)
        for _, node in sandbox.nodes.values():
            answer = node.handle_envelope

            async def slow_and_counted(service: str, data: Any, answer: Any = answer) -> Envelope:
                asked.append(question_of(service, data))
                await asyncio.sleep(0.2)
                answered: Envelope = await answer(service, data)
                return answered

            node.handle_envelope = slow_and_counted  # type: ignore[method-assign]
        first = HubProcess(root, config, "first")
        second = HubProcess(root, config, "second")
        try:
            await first.start()
            await until(
                lambda: (
                    (r := the_run(store, "annual_cross_check")) is not None
                    and len([s for s in items(store, r.id).values() if s != "started"]) >= 3
                ),
                30,
                first.tail,
            )
            first.kill()
            killed = the_run(store, "annual_cross_check")
            assert killed is not None and killed.status == RunStatus.RUNNING
            await second.start()
            await until(
                lambda: (r := the_run(store, "annual_cross_check")) is not None and r.status != "running",
                30,
                second.tail,
            )
            assert second.stop() == 0, second.tail()
        finally:
            for hub in (first, second):
                if hub.process is not None and hub.process.poll() is None:
                    hub.stop()
            await sandbox.stop()
        done = the_run(store, "annual_cross_check")
        assert done is not None
        return done, first.pid, second.pid

    record, first_pid, second_pid = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert record.attempts == 2 and f":{second_pid}:" in record.holder and f":{first_pid}:" not in record.holder
    counts: dict[tuple[str, str], int] = {}
    for question in asked:
        counts[question] = counts.get(question, 0) + 1
    assert set(counts.values()) == {1}, "a member was asked the same question twice"
    report = record.report
    assert report["asked"] == 8 and report["interrupted"] <= 1
    finished = report["answered"] + report["local"] + report["not_registered"] + report["unreachable"]
    assert finished + report["interrupted"] == 8
    with store.session() as session:
        findings = session.execute(select(FindingRow.rule, FindingRow.bureau, FindingRow.evidence)).all()
    assert len(findings) == sum(report["findings"].values()), "a finding was raised twice, or lost"
    assert {rule for rule, _, _ in findings} <= {"duplicate_assistance", "hukou_missing", "property"}
    assert len(findings) >= 3 and {bureau for _, bureau, _ in findings} == {DAXING_CA}
    written = "".join(evidence for *_, evidence in findings)
    written += (root / "first.log").read_text() + (root / "second.log").read_text()
    assert not any(number in written for number in people), "a raw ID number reached a log or a finding"


# --- two replicas on one PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_replicas_run_each_due_time_once_and_the_survivor_takes_over(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database")
    root = tmp_path / "world"
    sandbox = Sandbox(root, [], database_url=database_url)
    sandbox.provision()
    store = open_store(database_url)
    drop_jobstore(store)
    side_effects = root / "side-effects.txt"
    side_effects.touch()
    config = write_config(
        root / "hub.toml",
        {
            **FAST_LEASES,
            "bodies": {"tick": "tests.jobs.sample_jobs:tick", "slow": "tests.jobs.sample_jobs:slow"},
            "cron": {**nothing_else(), "tick": "* * * * * *", "slow": DAILY},
        },
        database_url,
    )
    env = {SIDE_EFFECTS: str(side_effects)}
    seed_due(database_url, "slow")

    async def scenario() -> tuple[JobRunRow, int, int]:
        replicas = [HubProcess(root, config, f"replica-{n}", env) for n in range(2)]
        try:
            await asyncio.gather(*(r.start() for r in replicas))
            await until(lambda: (r := the_run(store, "slow")) is not None and len(items(store, r.id)) >= 3, 30)
            running = the_run(store, "slow")
            assert running is not None and running.status == RunStatus.RUNNING
            holder = next(r for r in replicas if f":{r.pid}:" in running.holder)
            survivor = next(r for r in replicas if r is not holder)
            holder.kill()
            await until(lambda: (r := the_run(store, "slow")) is not None and r.status != "running", 30, survivor.tail)
            await asyncio.sleep(1.0)  # the survivor keeps ticking alone
            assert survivor.stop() == 0, survivor.tail()
        finally:
            for replica in replicas:
                if replica.process is not None and replica.process.poll() is None:
                    replica.stop()
        done = the_run(store, "slow")
        assert done is not None
        return done, holder.pid, survivor.pid

    record, dead_pid, survivor_pid = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert record.status == RunStatus.SUCCEEDED and record.attempts == 2 and f":{survivor_pid}:" in record.holder
    lines = side_effects.read_text().splitlines()
    slow = [line.split()[1:] for line in lines if line.startswith("slow ")]
    done_items = [item for item, _ in slow]
    assert len(done_items) == len(set(done_items)), "an item of the slow run was done twice"
    assert {pid for _, pid in slow} == {str(dead_pid), str(survivor_pid)}
    statuses = items(store, record.id)
    assert len(statuses) == SLOW_ITEMS and set(statuses.values()) <= {"done", "interrupted"}
    assert list(statuses.values()).count("interrupted") <= 1
    ticks = [line.split()[1] for line in lines if line.startswith("tick ")]
    assert len(ticks) >= 3 and len(ticks) == len(set(ticks)), "a due time ran twice"
    with store.session() as session:
        tick_runs = session.scalars(select(JobRunRow).where(JobRunRow.job == "tick")).all()
    assert len({r.scheduled_for for r in tick_runs}) == len(tick_runs)
    assert {r.scheduled_for.isoformat() for r in tick_runs if r.status == RunStatus.SUCCEEDED} >= set(ticks) - {
        r.scheduled_for.isoformat() for r in tick_runs if r.status != RunStatus.SUCCEEDED
    }
    drop_jobstore(store)
    store.dispose()

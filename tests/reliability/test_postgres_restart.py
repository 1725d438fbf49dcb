"""PostgreSQL restarted under load: the hub keeps running (``pool_pre_ping``) and recovers by itself.

Four callers ask the hub over mutual TLS without pause; 0.7 s in, the PostgreSQL cluster is restarted
(``pg_ctlcluster … restart``) and the callers go on until 2.7 s after ``pg_isready`` says it is back.
Needs ``HUB_TEST_DATABASE_URL`` and the cluster tools; restarts the whole cluster, so it runs once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.load import message_id_of, verify_audit
from hub import services
from hub.audit._models import AuditEntryRow
from hub.policy import remembered_ids
from hub.store import Store, make_engine, migrate, normalise_url
from hub.v1 import verification_pb2 as v
from tests.reliability.conftest import PERSON, World

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.postgres]

SERVICE = services.HOUSEHOLD_REGISTRATION
RECOVERY_SECONDS = 2.0  # after pg_isready, by when every query must be answered again


@dataclass
class Call:
    started: float
    code: grpc.StatusCode
    reason: str
    details: str
    message_id: str
    retry_delay: float | None = None


@dataclass
class OutageRun:
    calls: list[Call] = field(default_factory=list)
    down_at: float = 0.0
    ready_at: float = 0.0
    seen: set[str] = field(default_factory=set)
    entries: Counter[tuple[str, str]] = field(default_factory=Counter)
    audit_entries: int = 0
    audit_signed: int = 0

    def timeline(self) -> str:
        ok = grpc.StatusCode.OK
        failed = [c for c in self.calls if c.code != ok]
        first = min((c.started for c in self.calls if c.code == ok and c.started > self.ready_at), default=float("nan"))
        last = max((c.started for c in failed), default=self.ready_at)
        return (
            f"PostgreSQL restart took {self.ready_at - self.down_at:.2f} s; {len(self.calls)} calls, {len(failed)} "
            f"failed ({dict(Counter(c.code.name for c in failed))}); first answer {first - self.ready_at:+.2f} s "
            f"and last failure {last - self.ready_at:+.2f} s from pg_isready"
        )

    def after(self, seconds: float) -> list[Call]:
        return [call for call in self.calls if call.started >= self.ready_at + seconds]


def cluster_version() -> str:
    base = os.environ.get("HUB_TEST_DATABASE_URL", "")
    if not base or not make_url(normalise_url(base)).get_backend_name().startswith("postgresql"):
        pytest.skip("HUB_TEST_DATABASE_URL is not set")
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_isready") is None:
        pytest.skip("the PostgreSQL cluster tools are missing")
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if (p / "main").is_dir())
    if not versions:
        pytest.skip("no PostgreSQL cluster 'main' under /etc/postgresql")
    return versions[-1]


def restart_postgres(version: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    while subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back within 30 s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster() -> str:
    return cluster_version()


@pytest.fixture(scope="module")
def private_database(cluster: str) -> Iterator[str]:
    admin_url = make_url(normalise_url(os.environ["HUB_TEST_DATABASE_URL"]))
    name = f"hubrel_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def outage(cluster: str, private_database: str, tmp_path_factory: pytest.TempPathFactory) -> OutageRun:
    root = tmp_path_factory.mktemp("outage")
    try:
        return asyncio.run(asyncio.wait_for(run_outage(cluster, private_database, root), 120))
    finally:
        forget_dead_connections()


def forget_dead_connections() -> None:
    """Every connection pooled in this process before the restart is dead: drop them, so that engines without
    ``pool_pre_ping`` (the session's admin engine in ``tests/conftest.py``) do not fail on their next use."""
    for engine in [obj for obj in gc.get_objects() if isinstance(obj, Engine)]:
        engine.dispose()


async def run_outage(version: str, database_url: str, root: Path) -> OutageRun:
    run = OutageRun()
    world = World(root / "world", database_url)
    await world.start()
    stop = asyncio.Event()

    async def caller() -> None:
        while not stop.is_set():
            body = v.HouseholdRegistrationQuery(person=v.Person(id_number=PERSON))
            envelope = world.seal(SERVICE, body, recipient="public-security@130629")
            started = time.monotonic()
            outcome = await world.call(SERVICE, envelope.SerializeToString(), timeout=15)
            run.calls.append(
                Call(
                    started, outcome.code, outcome.reason, outcome.details, message_id_of(envelope), outcome.retry_delay
                )
            )

    async def restart() -> None:
        await asyncio.sleep(0.7)
        run.down_at = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, restart_postgres, version)
        run.ready_at = time.monotonic()
        await asyncio.sleep(RECOVERY_SECONDS + 0.7)
        stop.set()

    try:
        await asyncio.gather(restart(), *(caller() for _ in range(4)))
    finally:
        await world.stop()
    store = Store(make_engine(database_url))
    try:
        with store.session() as session:
            run.seen = remembered_ids(session)
            rows = session.execute(
                select(AuditEntryRow.correlation_id, AuditEntryRow.kind, func.count()).group_by(
                    AuditEntryRow.correlation_id, AuditEntryRow.kind
                )
            ).all()
            run.entries = Counter({(mid, kind): n for mid, kind, n in rows})
    finally:
        store.dispose()
    audit = verify_audit(world.sandbox, root)
    run.audit_entries, run.audit_signed = audit.entries, audit.signed_size
    return run


def test_the_hub_recovers_by_itself_and_loses_nothing(outage: OutageRun) -> None:
    print(outage.timeline())  # the figures for docs/RELIABILITY.md (pytest -s)
    failed = Counter(call.code.name for call in outage.calls if call.code != grpc.StatusCode.OK)
    assert failed, "the restart went unnoticed: nothing was tested"
    recovered = outage.after(RECOVERY_SECONDS)
    assert recovered and all(call.code == grpc.StatusCode.OK for call in recovered), Counter(
        (call.code.name, call.details[:80]) for call in recovered
    )
    answered = {call.message_id for call in outage.calls if call.code == grpc.StatusCode.OK}
    assert answered <= outage.seen, "an answered query is missing from the replay memory"
    assert all(outage.entries[mid, "request"] == outage.entries[mid, "response"] == 1 for mid in answered)
    assert all(count == 1 for count in outage.entries.values()), "an audit entry was written twice"
    assert outage.audit_entries == outage.audit_signed == sum(outage.entries.values())


def test_queries_during_the_outage_fail_with_a_clear_status(outage: OutageRun) -> None:
    failed = [call for call in outage.calls if call.code != grpc.StatusCode.OK]
    statuses = Counter((call.code.name, call.reason or call.details[:60]) for call in failed)
    assert {call.code for call in failed} <= {grpc.StatusCode.UNAVAILABLE}, statuses
    assert {call.reason for call in failed} <= {"STORAGE_UNAVAILABLE"}, statuses
    assert all(call.retry_delay is not None and call.retry_delay > 0 for call in failed), "no RetryInfo"
    assert not any("OperationalError" in call.details or "5432" in call.details for call in failed)

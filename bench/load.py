"""Bounded load on loopback: requests served, errors by status, and the audit log verified intact afterwards.

    python -m bench.load                                   # 60 s, 8 callers, SQLite in a temporary folder
    python -m bench.load --seconds 300 --callers 16 --database-url postgresql+psycopg://postgres@127.0.0.1/load
    python -m bench.load --fairness                        # also: one member floods (with and without the
                                                           # limit), another keeps asking 20 times a second

The hub runs as its own process (``hubctl serve``), as in production; the agency nodes (mock adapters that
answer at once, over mutual TLS) and the callers run in this process. One request in ten is bad on purpose
(a broken signature, a replay, an invalid ID number, a purpose without a grant), so every row of the error
table has a count known in advance. Afterwards the hub is stopped, a checkpoint is signed, the audit log is
exported and verified offline with only the hub's public key, and its entries are counted against the
requests that were answered: two entries (request, response) per answer, none for a refusal.

The same harness backs the reliability tests (``tests/reliability/``): the hub process they kill, the
flooding member of the fairness test, and the bounded load test of the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message as ProtoMessage

from adapters import QueryContext, register_adapter
from adapters.testing import MockAdapter
from hub import services
from hub.envelope import SigningKey, new_header, seal
from hub.grpc.client import HubClient
from hub.grpc.status import error_info
from hub.identifiers import uscc_check_character
from hub.sandbox import MemberSpec, Sandbox
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Message, Purpose

ASKER = "11110115MB0000007E"  # 大兴区民政局
NEIGHBOUR = "11110108MB0000015" + uscc_check_character("11110108MB0000015")  # 海淀区民政局
POLICE = "11130629MB1234567U"  # 容城县公安局
CIVIL = "11130629MB0000027U"  # 容城县民政局
PURPOSE = "dibao.application"
PEOPLE = ("13062919880512001X", "440308199901101512", "11010519491231002X")
ADAPTER = "bench-answering"

#: The routed services the callers ask, where, and the body of a good question.
QUESTIONS: tuple[tuple[str, str, Callable[[str], ProtoMessage]], ...] = (
    (
        services.HOUSEHOLD_REGISTRATION,
        "public-security@130629",
        lambda n: v.HouseholdRegistrationQuery(person=v.Person(id_number=n)),
    ),
    (
        services.RESIDENCE_PERMIT,
        "public-security@130629",
        lambda n: v.ResidencePermitQuery(person=v.Person(id_number=n), region_code="110115"),
    ),
    (
        services.ASSISTANCE_INQUIRY,
        "civil-affairs@130629",
        lambda n: v.AssistanceInquiry(persons=[v.Person(id_number=n)], household_region_code="130629"),
    ),
    (
        services.ENROLMENT_NOTICE,
        CIVIL,
        lambda n: v.EnrolmentNotice(
            change=v.NEW_ENROLMENT,
            record=v.AssistanceRecord(id_number=n, programme=v.DIBAO, locality="110115", monthly_amount_fen=129_000),
        ),
    ),
)
#: The deliberately bad requests, one in ten, and the status each must get.
EXPECTED = {
    "good": "OK",
    "bad-signature": "UNAUTHENTICATED",
    "replay": "ALREADY_EXISTS",
    "invalid-id": "INVALID_ARGUMENT",
    "not-granted": "PERMISSION_DENIED",
}


def answer(body: Any, context: QueryContext) -> ProtoMessage:
    """What the mock agencies say: registered, a valid permit, no assistance known, enrolment recorded."""
    if context.service == services.HOUSEHOLD_REGISTRATION:
        return v.HouseholdRegistrationResult(registered=True, region_code="130629")
    if context.service == services.RESIDENCE_PERMIT:
        return v.ResidencePermitResult(valid=True, address_region_code="110115")
    if context.service == services.ASSISTANCE_INQUIRY:
        return v.AssistanceAnswer(not_found=[p.id_number for p in body.persons])
    return v.EnrolmentAck(recorded=True, reference="RC")


def answering_adapter(config: Mapping[str, Any]) -> MockAdapter:
    return MockAdapter(answer, services.ROUTED, kind=str(config.get("kind", "public-security")))


def members(extra: Iterable[MemberSpec] = ()) -> list[MemberSpec]:
    grants = tuple((service, PURPOSE) for service in sorted(services.ROUTED))
    return [
        MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=grants),
        MemberSpec(NEIGHBOUR, "civil-affairs", "海淀区民政局", ("110108",), grants=grants),
        MemberSpec(POLICE, "public-security", "容城县公安局", ("130629",), ADAPTER, {"kind": "public-security"}),
        MemberSpec(CIVIL, "civil-affairs", "容城县民政局", ("130629",), ADAPTER, {"kind": "civil-affairs"}),
        *extra,
    ]


def provision(
    root: Path, *, database_url: str = "", settings: Mapping[str, Any] | None = None, extra: Iterable[MemberSpec] = ()
) -> Sandbox:
    """A dev PKI, the members and their grants; ``settings`` become the hub process's ``HUB_…`` variables."""
    register_adapter(ADAPTER, answering_adapter)
    settings = {"jobs": {"enabled": False}, **(settings or {})}  # measure the exchange, not scheduled runs
    sandbox = Sandbox(root, members(extra), database_url=database_url, settings_overrides=settings)
    sandbox.provision()
    return sandbox


# --- the hub as a process ---------------------------------------------------------------------------------

PORT_LINE = re.compile(r"hub listening on [\d.]+:(\d+)")


def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    """``HUB_…`` variables that make ``hubctl serve`` use the sandbox's database and settings."""
    env = {"HUB_DATABASE_URL": sandbox.database_url} if sandbox.database_url else {}
    for section, values in sandbox.settings_overrides.items():
        for key, value in dict(values).items():
            env[f"HUB_{section.upper()}__{key.upper()}"] = str(value)
    return env


@dataclass
class HubProcess:
    """``python -m hub.cli serve`` on a sandbox's data folder: started, killed (SIGKILL), restarted, stopped."""

    root: Path
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    starts: int = 0

    def start(self, timeout: float = 30.0) -> int:
        self.starts += 1
        log = self.root / "logs" / f"hub-{self.starts}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        command = [sys.executable, "-m", "hub.cli", "--data-dir", str(self.root), "serve", "--listen", "127.0.0.1:0"]
        with log.open("wb") as handle:
            self.process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = PORT_LINE.search(log.read_text(errors="replace"))
            if match:
                self.port = int(match.group(1))
                return self.port
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the hub did not start:\n{log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown; only what was committed survives."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int | None:
        """SIGTERM, then wait for the graceful shutdown; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(5)


# --- callers ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Outcomes by kind of request and status, latencies of answers, and the message ids answered."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, kind: str, status: str, started: float) -> None:
        self.outcomes[kind, status] += 1
        if status == "OK":
            self.latencies_ms.append((time.perf_counter() - started) * 1000)

    def by_status(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (_, status), count in self.outcomes.items():
            counts[status] += count
        return counts

    def unexpected(self) -> dict[tuple[str, str], int]:
        return {key: n for key, n in self.outcomes.items() if EXPECTED.get(key[0]) != key[1]}

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    def merge(self, other: Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.latencies_ms += other.latencies_ms
        self.answered += other.answered
        self.seconds = max(self.seconds, other.seconds)


async def send(client: HubClient, service: str, data: bytes, timeout: float = 10.0) -> tuple[str, bytes, str]:
    """(status name, answer bytes, ErrorInfo reason) of one raw call."""
    call = client.channel.unary_unary(f"/{service}", request_serializer=None, response_deserializer=None)
    try:
        return "OK", await call(data, timeout=timeout), ""
    except grpc.aio.AioRpcError as error:
        info = error_info(error)
        return error.code().name, b"", info.reason if info is not None else ""


class Caller:
    """One closed-loop caller: nine good questions in ten, and one bad request of a known kind."""

    STRANGER = SigningKey.generate("ecdsa-p256", owner=ASKER)
    BAD = ("bad-signature", "replay", "invalid-id", "not-granted")

    def __init__(self, client: HubClient, index: int) -> None:
        self.client = client
        self.i = index * 7  # callers start at different places of the plan
        self.last_good: tuple[str, bytes] | None = None

    def kind(self) -> str:
        """The tenth request of every ten is bad, of each bad kind in turn."""
        return self.BAD[(self.i // 10) % len(self.BAD)] if self.i % 10 == 9 else "good"

    def request(self, kind: str) -> tuple[str, Envelope | None, bytes]:
        if kind == "replay" and self.last_good is not None:
            service, data = self.last_good
            return service, None, data
        kind = "good" if kind == "replay" else kind
        service, recipient, body = QUESTIONS[self.i % len(QUESTIONS)]
        number = PEOPLE[self.i % len(PEOPLE)] if kind != "invalid-id" else PEOPLE[0][:17] + "3"
        header = new_header(
            sender=self.client.member_id,
            recipient=recipient,
            service=service,
            purpose=Purpose(code=PURPOSE if kind != "not-granted" else "marketing"),
        )
        signer = self.STRANGER if kind == "bad-signature" else self.client.signer
        envelope = seal(header, body(number), signer)
        return service, envelope, envelope.SerializeToString()

    async def one(self, tally: Tally) -> None:
        kind = self.kind()
        service, envelope, data = self.request(kind)
        kind = "replay" if envelope is None else kind
        self.i += 1
        started = time.perf_counter()
        status, answer_bytes, _ = await send(self.client, service, data)
        if status == "OK" and envelope is not None:
            try:  # an answer counts only if it verifies: hub counter-signature, bound to this request
                self.client.open_answer(envelope, answer_bytes)
            except Exception:
                status = "ANSWER_NOT_VERIFIED"
            else:
                tally.answered.append(message_id_of(envelope))
                if kind == "good":
                    self.last_good = (service, data)
        tally.add(kind, status, started)


def message_id_of(envelope: Envelope) -> str:
    message = Message()
    message.ParseFromString(envelope.payload)
    return message.header.message_id


async def drive(clients: list[HubClient], seconds: float) -> Tally:
    """Every client a closed-loop caller for ``seconds``."""
    tally = Tally()
    stop_at = time.perf_counter() + seconds
    callers = [Caller(client, i) for i, client in enumerate(clients)]

    async def loop(caller: Caller) -> None:
        while time.perf_counter() < stop_at:
            await caller.one(tally)

    started = time.perf_counter()
    await asyncio.gather(*(loop(caller) for caller in callers))
    tally.seconds = time.perf_counter() - started
    return tally


async def paced(client: HubClient, seconds: float, rate: float) -> Tally:
    """One caller sending a good question every ``1 / rate`` seconds (a member that behaves: when an answer
    is late it does not catch up in a burst, it sends the next question one interval later)."""
    tally = Tally()
    caller = Caller(client, 0)
    started = time.perf_counter()
    for n in range(int(seconds * rate)):
        sent = time.perf_counter()
        caller.i = n * 10  # always a good question
        await caller.one(tally)
        await asyncio.sleep(max(0.0, sent + 1 / rate - time.perf_counter()))
    tally.seconds = time.perf_counter() - started
    return tally


# --- a flooding member, in a process of its own ---------------------------------------------------------


async def flood(root: Path, member: str, seconds: float, rate: float, callers: int = 4) -> Counter[str]:
    """Send ``member``'s requests at ``rate`` per second whatever the answers (a runaway batch job), over
    ``callers`` connections; counts by reason (or status).

    Signs its requests first, says ``ready``, then reads the hub's port from stdin and floods.
    """
    from hub.pki import load_member

    signer = load_member(root / "pki", member).signing_key
    service, recipient, body = QUESTIONS[0]
    prepared = [  # signed in advance: the flood costs this process only the calls
        seal(
            new_header(sender=member, recipient=recipient, service=service, purpose=Purpose(code=PURPOSE)),
            body(PEOPLE[0]),
            signer,
        ).SerializeToString()
        for _ in range(int(seconds * rate))
    ]
    print("ready", flush=True)
    port = int(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    sandbox = Sandbox(root, members())
    sandbox.external_hub_port = port
    clients = [sandbox.client(member) for _ in range(callers)]
    counts: Counter[str] = Counter()
    in_flight: set[asyncio.Task[None]] = set()

    async def one(client: HubClient, data: bytes) -> None:
        status, _, reason = await send(client, service, data)
        counts[reason or status] += 1

    started = time.perf_counter()
    for n, data in enumerate(prepared):  # open loop: the rate does not slow down when the hub does
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        if len(in_flight) >= 512:
            counts["NOT_SENT_TOO_MANY_IN_FLIGHT"] += 1
            continue
        task = asyncio.create_task(one(clients[n % len(clients)], data))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    await sandbox.stop()
    return counts


@dataclass
class Flooder:
    """A process (``python -m bench.load flood``) that floods the hub as ``member``: ``launch()`` it early (it
    signs its requests while the hub starts), ``go(port)``, then ``result()`` gives its counts."""

    root: Path
    member: str
    seconds: float
    rate: float
    process: subprocess.Popen[str] | None = None

    def launch(self) -> None:
        command = [sys.executable, "-m", "bench.load", "flood", str(self.root), self.member]
        command += [str(self.seconds), str(self.rate)]
        self.process = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parents[1],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def go(self, port: int) -> None:
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise RuntimeError("the flooding process did not start")
        self.process.stdin.write(f"{port}\n")
        self.process.stdin.flush()

    def result(self) -> Counter[str]:
        assert self.process is not None
        out, _ = self.process.communicate(timeout=self.seconds + 60)
        return Counter(json.loads(out.strip().splitlines()[-1]))


# --- the audit log afterwards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditCheck:
    entries: int
    by_kind: Mapping[str, int]
    #: Message ids in the replay memory (the audit log's requests, and any remembered while it was off).
    seen_messages: int
    signed_size: int
    root_hash: str
    duplicates: int


def verify_audit(sandbox: Sandbox, folder: Path) -> AuditCheck:
    """Sign a checkpoint, export the log, verify the export offline with only the hub's public key."""
    from sqlalchemy import func, select

    from hub.audit import AuditLog, export, verify_export
    from hub.audit._models import AuditEntryRow
    from hub.pki import load_member
    from hub.policy import remembered_ids
    from hub.store import open_store

    settings = sandbox.settings()
    store = open_store(settings.resolved_database_url)
    try:
        log = AuditLog(store, load_member(sandbox.pki_dir, "hub").signing_key, origin=settings.audit.origin)
        log.checkpoint()
        path = folder / "audit-export.jsonl"
        export(store, path)
        report = verify_export(path, sandbox.hub_key())
        with store.session() as session:
            by_kind = dict(session.execute(select(AuditEntryRow.kind, func.count()).group_by(AuditEntryRow.kind)).all())
            seen = len(remembered_ids(session))
            duplicates = session.scalar(
                select(func.count()).select_from(
                    select(AuditEntryRow.message_id, AuditEntryRow.kind)
                    .group_by(AuditEntryRow.message_id, AuditEntryRow.kind)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
    finally:
        store.dispose()
    return AuditCheck(
        entries=report.entries,
        by_kind=by_kind,
        seen_messages=seen,
        signed_size=report.signed_size,
        root_hash=report.root_hash.hex()[:16],
        duplicates=duplicates or 0,
    )


# --- the runs ---------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    tally: Tally
    audit: AuditCheck
    exit_code: int | None
    callers: int

    def lines(self) -> list[str]:
        t, a = self.tally, self.audit
        served = t.by_status()["OK"]
        lines = [
            f"{'requests sent':<34}{sum(t.outcomes.values()):>10}   {self.callers} callers, {t.seconds:.1f} s",
            f"{'answered and verified':<34}{served:>10}   {served / t.seconds:.0f}/s, "
            f"p50 {t.percentile(50):.1f} ms, p99 {t.percentile(99):.1f} ms",
        ]
        for (kind, status), count in sorted(t.outcomes.items()):
            if kind != "good":
                mark = "as expected" if EXPECTED[kind] == status else "UNEXPECTED"
                lines.append(f"{'  ' + kind + ' → ' + status:<34}{count:>10}   {mark}")
        for (kind, status), count in sorted(t.unexpected().items()):
            if kind == "good":
                lines.append(f"{'  good → ' + status:<34}{count:>10}   UNEXPECTED")
        lines += [
            f"{'audit entries (export verified)':<34}{a.entries:>10}   "
            f"{dict(a.by_kind)}, signed size {a.signed_size}, root {a.root_hash}…",
            f"{'replay memory rows':<34}{a.seen_messages:>10}   duplicates in the log: {a.duplicates}",
            f"{'hub exit code after SIGTERM':<34}{self.exit_code!s:>10}",
        ]
        return lines


async def run_load(
    root: Path, *, seconds: float, callers: int, database_url: str = "", warm_up: int = 20
) -> LoadReport:
    """The bounded load test: hub process, in-process nodes, ``callers`` closed-loop callers, audit verified."""
    sandbox = provision(
        root,
        database_url=database_url,
        settings={"rate_limits": {"per_member_per_second": 0, "per_purpose_per_second": 0}},
    )
    await sandbox.start_nodes(spec for spec in sandbox.members if spec.adapter)
    hub = HubProcess(root, sandbox_env(sandbox))
    sandbox.external_hub_port = hub.start()
    clients = [sandbox.client(ASKER if i % 2 == 0 else NEIGHBOUR, known=[POLICE, CIVIL]) for i in range(callers)]
    try:
        warm = Tally()
        for i in range(warm_up):
            await Caller(clients[i % callers], 0).one(warm)  # a good question each (plan step 0)
        tally = await drive(clients, seconds)
        tally.merge(warm)
    finally:
        await sandbox.stop()  # closes the clients and the nodes; the hub is another process
        exit_code = hub.stop()
    return LoadReport(tally, verify_audit(sandbox, root), exit_code, callers)


@dataclass
class FairnessReport:
    alone: Tally
    flooded: Tally
    flood: Counter[str]
    limit: float

    def lines(self) -> list[str]:
        def row(label: str, t: Tally) -> str:
            return (
                f"{label:<34}{len(t.latencies_ms):>10}   p50 {t.percentile(50):.1f} ms, p90 {t.percentile(90):.1f} ms, "
                f"max {max(t.latencies_ms, default=float('nan')):.1f} ms, refused {sum(t.outcomes.values()) - len(t.latencies_ms)}"
            )

        flood_total = sum(self.flood.values())
        return [
            row("a behaving member, alone", self.alone),
            row("  … while another floods", self.flooded),
            f"{'flooding member: requests':<34}{flood_total:>10}   {dict(self.flood)} (limit {self.limit:g}/s)",
        ]


async def run_fairness(
    root: Path, *, seconds: float, rate: float = 20.0, limit: float = 50.0, flood_rate: float = 500.0
) -> FairnessReport:
    """A member asking at ``rate`` per second, alone and then while another member sends ``flood_rate`` per
    second (more than the hub can answer, if it tried) under a limit of ``limit`` per second."""
    sandbox = provision(
        root,
        settings={
            "rate_limits": {
                "per_member_per_second": limit,
                "per_member_burst": 10,
                "per_purpose_per_second": 0,
            }
        },
    )
    flooder = Flooder(root, ASKER, seconds + 0.5, flood_rate)
    flooder.launch()  # it signs its flood while the hub starts
    await sandbox.start_nodes(spec for spec in sandbox.members if spec.adapter)
    hub = HubProcess(root, sandbox_env(sandbox))
    try:
        sandbox.external_hub_port = port = hub.start()
        victim = sandbox.client(NEIGHBOUR, known=[POLICE, CIVIL])
        await paced(victim, 0.5, rate)  # warm up
        alone = await paced(victim, seconds, rate)
        flooder.go(port)
        await asyncio.sleep(0.3)  # let the flood build up
        flooded = await paced(victim, seconds, rate)
        flood = await asyncio.get_running_loop().run_in_executor(None, flooder.result)
    finally:
        if flooder.process is not None and flooder.process.poll() is None:
            flooder.process.kill()
        await sandbox.stop()
        hub.stop()
    return FairnessReport(alone, flooded, flood, limit)


def main() -> None:
    if sys.argv[1:2] == ["flood"]:  # the flooding member of ``Flooder``
        root, member, seconds, rate = sys.argv[2:6]
        print(json.dumps(asyncio.run(flood(Path(root), member, float(seconds), float(rate)))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL of an empty database (default: SQLite)")
    parser.add_argument("--fairness", action="store_true", help="also measure a behaving member during a flood")
    options = parser.parse_args()

    async def run() -> None:
        with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
            report = await run_load(
                Path(tmp) / "load", seconds=options.seconds, callers=options.callers, database_url=options.database_url
            )
            print("\n".join(report.lines()))
            if options.fairness:
                seconds = min(options.seconds, 20.0)
                for label, limit in (("with the per-member limit (50/s)", 50.0), ("without any limit", 0.0)):
                    fairness = await run_fairness(Path(tmp) / f"fairness-{limit:g}", seconds=seconds, limit=limit)
                    print(f"\nA runaway member sends 500/s, {label}:")
                    print("\n".join(fairness.lines()))

    asyncio.run(run())


if __name__ == "__main__":
    main()

"""Signed query path through the hub vs a bare grpc.aio unary echo, over the same mutual TLS.

Both servers run in a process of their own (as in production); one client process drives
``--callers`` concurrent callers for ``--seconds`` against each, back to back, and reports
throughput and latency percentiles, and their ratio. The hub path is the real one: verify,
policy, edge validation, replay memory, route to an in-process adapter, the member's signature,
the hub's counter-signature, and (when available) the audit append.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ASKER = "11110115MB0000007E"
POLICE = "11130629MB1234567U"
PERSON = "13062919880512001X"
SERVICE = "hub.v1.Verification/HouseholdRegistration"


@dataclass
class Result:
    name: str
    calls: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float = float("nan")
    #: Connections each server process held (hub workers sharing the port), when it could be read.
    split: tuple[int, ...] = ()

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def row(self) -> str:
        split = f"  connections {':'.join(map(str, self.split))}" if len(self.split) > 1 else ""
        return (
            f"{self.name:<34} {self.throughput:>9.0f}/s  p50 {self.percentile(50):6.2f} ms  "
            f"p99 {self.percentile(99):6.2f} ms  server CPU {self.server_cpu_seconds / self.calls * 1e6:5.0f} us/call"
            f"{split}"
        )


def members(suite: str) -> list[Any]:
    from hub.sandbox import MemberSpec

    return [
        MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=((SERVICE, "*"),), suite=suite),
        MemberSpec(POLICE, "public-security", "容城县公安局", ("130629",), suite=suite),
    ]


def _serve_echo(root: str, conn: Connection) -> None:
    import grpc

    from hub.grpc.credentials import server_credentials
    from hub.pki import load_member

    async def main() -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])

        async def echo(request: bytes, context: Any) -> bytes:
            return request

        handler = grpc.method_handlers_generic_handler(
            "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
        )
        server.add_generic_rpc_handlers([handler])
        port = server.add_secure_port("127.0.0.1:0", server_credentials(load_member(Path(root) / "pki", "hub")))
        await server.start()
        conn.send(port)
        started = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(time.process_time() - started)
        await server.stop(0)

    asyncio.run(main())


def _serve_hub(root: str, suite: str, audit: bool, workers: int, port: int, conn: Connection) -> None:
    from adapters.testing import MockAdapter
    from hub.node import Node
    from hub.pki import load_member
    from hub.sandbox import Sandbox
    from hub.transport import InProcessTransport
    from hub.v1 import verification_pb2 as v

    async def main() -> None:
        unlimited = {"per_member_per_second": 0, "per_purpose_per_second": 0}
        server = {"listen": f"127.0.0.1:{port}", "workers": workers}
        sandbox = Sandbox(Path(root), members(suite), settings_overrides={"rate_limits": unlimited, "server": server})
        adapter = MockAdapter(
            lambda body, context: v.HouseholdRegistrationResult(registered=True, region_code="130629"),
            [SERVICE],
            kind="public-security",
        )
        node = Node(POLICE, load_member(sandbox.pki_dir, POLICE).signing_key, sandbox.hub_key(), adapter)
        await sandbox.start(
            transport=InProcessTransport({POLICE: node}, sandbox.hub_key()), with_nodes=False, audit=audit
        )
        assert sandbox.hub_server is not None
        conn.send(sandbox.hub_server.port)
        started = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(time.process_time() - started)
        await sandbox.stop()

    profile = os.environ.get("BENCH_PROFILE")
    if profile:  # BENCH_PROFILE=/tmp/hub.prof: where the hub process spends its time
        import cProfile

        cProfile.runctx("asyncio.run(main())", globals(), {"main": main, "asyncio": asyncio}, profile)
    else:
        asyncio.run(main())


async def drive(name: str, calls: list[Callable[[], Awaitable[Any]]], seconds: float) -> Result:
    """One caller per entry of ``calls``, each on its own connection, for ``seconds``.

    A call returns ``False`` when its caller has nothing left to send (a pre-sealed pool ran dry).
    """
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def caller(call: Callable[[], Awaitable[Any]]) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            if await call() is False:
                return
            latencies.append((time.perf_counter() - started) * 1000)

    for call in calls:  # warm up connections and caches
        for _ in range(10):
            await call()
    started = time.perf_counter()
    await asyncio.gather(*(caller(call) for call in calls))
    return Result(name, len(latencies), time.perf_counter() - started, latencies)


def start(target: Callable[..., None], *args: Any) -> tuple[multiprocessing.Process, Connection, int]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=target, args=(*args, child), daemon=True)
    process.start()
    if not parent.poll(60):
        raise RuntimeError(f"{target.__name__} did not start")
    return process, parent, int(parent.recv())


def stop(process: multiprocessing.Process, conn: Connection) -> float:
    """Stop a server process; returns the CPU seconds it used while measured."""
    conn.send("stop")
    cpu = float(conn.recv()) if conn.poll(10) else float("nan")
    process.join(10)
    if process.is_alive():
        process.kill()
    return cpu


async def measure_echo(root: Path, callers: int, seconds: float) -> Result:
    from hub.grpc.credentials import channel_credentials
    from hub.pki import load_member

    process, conn, port = start(_serve_echo, str(root))
    import grpc

    credentials = channel_credentials(load_member(root / "pki", ASKER))
    channels = [grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) for _ in range(callers)]
    payload = b"x" * 600  # about the size of a signed query envelope

    def echo_on(channel: grpc.aio.Channel) -> Callable[[], Awaitable[Any]]:
        echo = channel.unary_unary("/bench.Echo/Echo", request_serializer=None, response_deserializer=None)
        return lambda: echo(payload)

    try:
        result = await drive("bare grpc.aio echo (mTLS)", [echo_on(c) for c in channels], seconds)
    finally:
        for channel in channels:
            await channel.close()
        result.server_cpu_seconds = stop(process, conn)
    return result


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed while listed
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def connection_split(pids: list[int], port: int) -> tuple[int, ...]:
    """How many established connections to ``port`` each process holds (Linux: ``/proc``; ``()`` elsewhere)."""
    accepted: set[str] = set()
    try:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
                    accepted.add(inode)
        return tuple(len(_socket_inodes(pid) & accepted) for pid in pids)
    except OSError:
        return ()


#: Times the callers may dial again for an even split before the run goes ahead with what it has.
DIALS = 30


async def dial_evenly(
    sandbox: Any, callers: int, pids: list[int], port: int, *, even: bool
) -> tuple[list[Any], tuple[int, ...]]:
    """``callers`` clients, connected; with ``even``, dialled again until the hub processes hold equal shares.

    The kernel hands each connection to one of the processes sharing the port by a hash of its
    addresses: four connections to two processes split 2:2 only three times in eight, and 3:1 or 4:0
    leaves a process, and so a core, half idle or idle. A hub serving many bureaus sees that hash even
    out; four callers see it as dice, which moved single rounds by 20 % and more. Dialling again
    (new source ports, new hashes) until the split is even measures the processes, not the dice.
    """
    for dial in range(1, DIALS + 1):
        clients = [sandbox.client(ASKER) for _ in range(callers)]
        for client in clients:
            await client.channel.channel_ready()
        split = connection_split(pids, port)
        if not even or not split or max(split) - min(split) <= 1 or dial == DIALS:
            return clients, split  # the last dial goes ahead with whatever split it got, its clients open
        for client in clients:
            await client.aclose()
    raise AssertionError("unreachable: the last dial returns")


async def measure_hub(
    root: Path,
    suite: str,
    callers: int,
    seconds: float,
    *,
    audit: bool = True,
    workers: int = 1,
    lean: bool = True,
    even: bool = True,
) -> Result:
    """Drive the hub; ``lean`` keeps the load generator as cheap as the echo's (see ``LeanCaller``), ``even``
    deals the callers' connections evenly among the hub processes (see ``dial_evenly``)."""
    from hub.sandbox import Sandbox

    process, conn, port = start(_serve_hub, str(root), suite, audit, workers, 0)
    others = [start(_serve_hub, str(root), suite, audit, workers, port) for _ in range(workers - 1)]
    sandbox = Sandbox(root, members(suite))
    sandbox.external_hub_port = port
    pids = [p.pid for p in (process, *(other for other, _, _ in others)) if p.pid is not None]
    clients, split = await dial_evenly(sandbox, callers, pids, port, even=even)
    label = f"signed hub query ({suite}{'' if audit else ', no audit'}, {workers} proc)"
    try:
        if lean:
            pool = max(200, int(seconds * LEAN_RATE_CEILING / callers))
            lean_callers = [LeanCaller(client, pool) for client in clients]
            result = await drive(label, [caller.next for caller in lean_callers], seconds)
            for caller in lean_callers:
                caller.check_answers()
        else:
            result = await drive(label + " [full client]", [full_caller(client) for client in clients], seconds)
    finally:
        for client in clients:
            await client.aclose()
        result.server_cpu_seconds = stop(process, conn) + sum(stop(o, c) for o, c, _ in others)
    result.split = split
    return result


#: Requests sealed ahead per second of measurement (all callers together): above what the hub can serve here.
LEAN_RATE_CEILING = 2500
#: Answers opened and checked after the run, per caller (opening every one would take longer than the run).
CHECKED_ANSWERS = 100


def query_and_purpose() -> tuple[Any, Any]:
    from hub.v1 import verification_pb2 as v
    from hub.v1.envelope_pb2 import Purpose

    return v.HouseholdRegistrationQuery(person=v.Person(id_number=PERSON)), Purpose(code="residence.verification")


def full_caller(client: Any) -> Callable[[], Awaitable[Any]]:
    """The real client: seals each request when it is sent and verifies each answer's two signatures."""
    from hub.v1 import verification_pb2 as v

    query, purpose = query_and_purpose()
    return lambda: client.ask(
        SERVICE, query, v.HouseholdRegistrationResult, recipient="public-security@130629", purpose=purpose
    )


class LeanCaller:
    """A load generator as cheap as the echo's: requests are sealed before the clock starts, answers are
    opened after it stops.

    On a 2-core machine the caller shares the CPU with the server; sealing and checking in the timed
    loop would charge the client's own signatures (one sign, two verifies a call) to the hub. Every
    request is still unique (its own message id, so replay memory is exercised), and a sample of the
    answers is fully verified afterwards: the hub's counter-signature, the member's signature, the
    request hash.
    """

    def __init__(self, client: Any, count: int) -> None:
        from hub.envelope import seal

        query, purpose = query_and_purpose()
        self.client = client
        self.requests = [
            seal(client.header(SERVICE, recipient="public-security@130629", purpose=purpose), query, client.signer)
            for _ in range(count)
        ]
        self.wire = [request.SerializeToString() for request in self.requests]
        self.answers: list[bytes] = []

    async def next(self) -> bool:
        if len(self.answers) == len(self.wire):
            return False
        self.answers.append(await self.client.call_raw(SERVICE, self.wire[len(self.answers)]))
        return True

    def check_answers(self) -> None:
        from hub.v1 import verification_pb2 as v

        step = max(1, len(self.answers) // CHECKED_ANSWERS)
        for index in range(0, len(self.answers), step):
            opened = self.client.open_answer(self.requests[index], self.answers[index])
            if not opened.body(v.HouseholdRegistrationResult).registered:
                raise AssertionError("the hub answered the benchmark query wrongly")


def provision(root: Path, suite: str) -> None:
    from hub.sandbox import Sandbox

    Sandbox(root, members(suite)).provision()


async def run(
    callers: int, seconds: float, suites: list[str], workers: int = 1, *, lean: bool = True, even: bool = True
) -> list[tuple[str, float, str]]:
    """Returns (bar, measured ratio, verdict) rows for the summary table."""
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for suite in suites:
            root = Path(tmp) / suite
            provision(root, suite)
            echo = await measure_echo(root, callers, seconds)
            hub = await measure_hub(root, suite, callers, seconds, workers=workers, lean=lean, even=even)
            print(echo.row())
            print(hub.row())
            ratio = hub.throughput / echo.throughput
            p99 = hub.percentile(99)
            verdict = "meets" if ratio >= 0.5 and p99 <= 10 else "BELOW"
            print(f"  ratio hub/echo = {ratio:.2f} (target ≥ 0.50), hub p99 = {p99:.2f} ms (target ≤ 10): {verdict}")
            rows.append((f"signed query ({suite}) / echo, {callers} callers", ratio, f"p99 {p99:.1f} ms, {verdict}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--suite", action="append", choices=["ed25519", "ecdsa-p256"])
    parser.add_argument("--workers", type=int, default=1, help="hub processes sharing the port (SO_REUSEPORT)")
    parser.add_argument(
        "--full-client", action="store_true", help="seal and verify inside the timed loop (the client's cost counts)"
    )
    parser.add_argument(
        "--any-split", action="store_true", help="keep the kernel's first split of connections among hub processes"
    )
    options = parser.parse_args()
    suites = options.suite or ["ecdsa-p256", "ed25519"]
    asyncio.run(
        run(
            options.callers,
            options.seconds,
            suites,
            options.workers,
            lean=not options.full_client,
            even=not options.any_split,
        )
    )


if __name__ == "__main__":
    main()

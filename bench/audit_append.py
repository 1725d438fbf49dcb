"""Micro-benchmark of the audit append (issue 7, item 6). Run by hand, not in CI::

    python bench/audit_append.py                                   # SQLite in a temporary directory
    python bench/audit_append.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Prints appends/s one per transaction and batched, then the cost of auditing a signed query: the hub's
own per-query work without the network (verify the request, check replay in a transaction, seal and
sign the answer) with and without appending the request and the answer to the log in that
transaction. The bar: auditing costs at most 15 % of signed-query throughput, so the ratio should be
≥ 0.85 (the gRPC part of a real query, not measured here, only makes the share smaller).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert

from hub.audit import AuditLog, record_from_envelope, record_from_opened
from hub.envelope import Opened, SigningKey, StaticKeyRing, new_header, open_envelope, reply_header, seal
from hub.store import Store, make_engine, migrate
from hub.store._members import SeenMessageRow
from hub.v1.audit_pb2 import CheckpointRequest
from hub.v1.envelope_pb2 import Purpose

SERVICE = "hub.v1.Verification/HouseholdRegistration"
TOKEN = bytes(range(16))


def rate(label: str, count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    per_second = count / (time.perf_counter() - started)
    print(f"  {label:<44} {per_second:>10,.0f} /s")
    return per_second


def signed_requests(count: int, sender: SigningKey) -> list[bytes]:
    purpose = Purpose(code="dibao.application", legal_basis="社会救助暂行办法 第五十八条", case_number="A-1")
    return [
        seal(
            new_header(sender=sender.public.owner, recipient="hub", service=SERVICE, purpose=purpose),
            CheckpointRequest(),
            sender,
        ).SerializeToString()
        for _ in range(count)
    ]


def query(store: Store, keyring: StaticKeyRing, hub: SigningKey, log: AuditLog | None, data: bytes) -> None:
    """What the hub does per query apart from gRPC and routing."""
    request: Opened = open_envelope(data, keyring)
    answer = seal(reply_header(request, sender="hub"), CheckpointRequest(), hub)
    with store.session() as session:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        session.execute(
            insert(SeenMessageRow).values(
                message_id=request.header.message_id, sender=request.sender, expires_at=expires
            )
        )
        if log is not None:
            log.append_many(
                session,
                [
                    record_from_opened(request, kind="request", subject_tokens=[TOKEN]),
                    record_from_envelope(answer, kind="response", subject_tokens=[TOKEN]),
                ],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a migrated-or-empty database (default: temporary SQLite)")
    parser.add_argument("-n", type=int, default=3000, help="operations per measurement")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = options.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        store = Store(engine)
        hub, member = SigningKey.generate(owner="hub"), SigningKey.generate(owner="11130629MB1234567X")
        keyring = StaticKeyRing([member.public, hub.public])
        log = AuditLog(store, hub)
        n = options.n
        requests = signed_requests(2 * n, member)
        records = [
            record_from_opened(open_envelope(data, keyring), kind="request", subject_tokens=[TOKEN])
            for data in requests[:n]
        ]
        print(f"audit append on {engine.dialect.name}, {n} records per measurement")

        def single() -> None:
            for record in records:
                with store.session() as session:
                    log.append(session, record)

        def batched(size: int) -> Callable[[], None]:
            def run() -> None:
                for start in range(0, n, size):
                    with store.session() as session:
                        log.append_many(session, records[start : start + size])

            return run

        rate("one append per transaction", n, single)
        rate("2 per transaction (request + answer)", n, batched(2))
        rate("100 per transaction", n, batched(100))

        print("signed query without the network (verify, replay check, seal); rounds interleaved, same run:")
        rounds, per_round = 10, n // 10
        pending = iter(requests)
        ratios, totals = [], {"plain": 0.0, "audited": 0.0}
        for _ in range(rounds):
            timings = {}
            for label, audit in (("plain", None), ("audited", log)):
                batch = [next(pending) for _ in range(per_round)]
                started = time.perf_counter()
                for data in batch:
                    query(store, keyring, hub, audit, data)
                timings[label] = time.perf_counter() - started
                totals[label] += timings[label]
            ratios.append(timings["plain"] / timings["audited"])
        ratios.sort()
        done = rounds * per_round
        print(f"  {'without audit':<44} {done / totals['plain']:>10,.0f} /s")
        print(f"  {'with audit (request + answer appended)':<44} {done / totals['audited']:>10,.0f} /s")
        median = (ratios[rounds // 2 - 1] + ratios[rounds // 2]) / 2
        print(
            f"  ratio audited / plain: median {median:.2f} over {rounds} rounds (min {ratios[0]:.2f}, max {ratios[-1]:.2f});"
        )
        print(f"  the audit's share of this proxy is {1 - median:.0%} (bar for the full gRPC query: <= 15 %)")
        started = time.perf_counter()
        log.checkpoint()
        print(f"checkpoint over {log.size():,} entries: {(time.perf_counter() - started) * 1000:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()

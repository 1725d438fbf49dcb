"""Feed upload throughput and memory (issue 4, item 8). Run by hand, not in CI::

    python bench/feeds_upload.py                                 # 200 k and 2 M records, core and wire
    python bench/feeds_upload.py --quick                         # 50 k and 200 k records: a minute, not ten
    python bench/feeds_upload.py --records 200000 --pg postgresql://postgres@127.0.0.1:5432/test
    python bench/feeds_upload.py --kind wage --path core          # another record kind, the core path only

PostgreSQL is measured too when ``--pg`` or ``HUB_TEST_DATABASE_URL`` names a server (``--sqlite-only`` not).
``python -m bench.run`` runs this with ``--records 200000`` (``--quick``) or ``--records 200000 2000000``.

Two paths, each measurement in processes of its own, into a fresh database:

- core: synthetic rows (valid ID numbers, one person per row) are chunked and handed to the intake
  (``FeedIntake.receive`` per chunk, then ``complete``) in one process; only the time inside the intake counts.
  In the same process, as many pre-built rows of the stored shape are bulk-inserted bare (the same writer
  into a table without index): the ratio says what validation, tokenisation, bookkeeping and the by-person
  index cost on this machine, whatever its speed.
- wire: the hub runs as ``hubctl serve`` in its own process, over mutual TLS; this process, as the supplier,
  prepares the version (rows encoded into chunks, spooled: timed apart) and uploads it with ``FeedUploader``:
  every chunk signed, verified, admitted, audited, validated, tokenised and stored, then the signed receipt
  checked. Records/s count from the first chunk sent to the verified receipt; the ratio is wire / core.

Peak memory is the maximum RSS of the process that stores (the core process, or the hub); it must not grow
with the feed. Targets (DESIGN.md, 2-core machine): ≥ 100,000 records/s into SQLite, ≥ 120,000 into
PostgreSQL, flat memory. PostgreSQL runs use a private database created from the given URL's server and
dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.feeds import (
    DEFAULT_CHUNK_ROWS,
    FeedIntake,
    FeedMeta,
    FieldSpec,
    FieldType,
    Policy,
    RecordKind,
    kind_by_code,
    make_chunk,
    record_tables,
)
from hub.feeds._bulk import PostgresWriter, SqliteWriter
from hub.feeds._chunks import encode_rows
from hub.privacy import FieldCipher, Tokenizer
from hub.store import normalise_url, open_store

SUPPLIER = "91110000600037341L"
REGIONS = ("130629", "110105", "440308", "610104")
_CHECK = "10X98765432"


def id_number(n: int) -> str:
    """The n-th of 14 M distinct valid ID numbers (4 regions × 36,500 birth dates × 100 sequences)."""
    region = REGIONS[n % 4]
    born = dt.date(1925, 1, 1) + dt.timedelta(days=(n // 4) % 36_500)
    first17 = f"{region}{born:%Y%m%d}{(n // 146_000) % 1000:03d}"
    return first17 + _CHECK[2 * int(first17, 13) % 11]


def _value(spec: FieldSpec, n: int) -> Any:
    if spec.type is FieldType.ID_NUMBER:
        return id_number(n if spec.name == "id_number" else n - n % 3)  # households of three
    if spec.type is FieldType.REGION:
        return REGIONS[n % 4]
    if spec.type is FieldType.DATE:
        return "" if not spec.required else f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
    if spec.type is FieldType.MONTH:
        return f"2025-{n % 12 + 1:02d}"
    if spec.type is FieldType.AMOUNT:
        return 10_000 + n % 90_000
    if spec.type is FieldType.ENUM:
        return min(spec.codes)
    if spec.type is FieldType.USCC:
        return SUPPLIER
    return f"R{n:012d}"


def synthetic_rows(kind: RecordKind, start: int, count: int) -> list[Message]:
    """Valid rows; a part never exceeds its whole (``NotAfter`` rules hold)."""
    rows = []
    for n in range(start, start + count):
        values = {spec.name: _value(spec, n) for spec in kind.fields}
        for rule in kind.checks:
            if values[rule.limit] not in ("", None) and isinstance(values[rule.field], int):
                values[rule.field] = values[rule.limit] // 2
        rows.append(kind.row_type(**values))
    return rows


@contextmanager
def database(pg_url: str | None, workdir: Path) -> Iterator[str]:
    if pg_url is None:
        yield f"sqlite:///{workdir / 'hub.db'}"
        return
    admin_url = make_url(normalise_url(pg_url))
    name = f"bench_feeds_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Clock:
    """Wall and CPU time spent inside measured calls only."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __call__(self, fn: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn()
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu


def measure(kind_code: str, records: int, chunk_rows: int, pg_url: str | None) -> dict[str, Any]:
    kind = kind_by_code(kind_code)
    with tempfile.TemporaryDirectory() as tmp, database(pg_url, Path(tmp)) as url:
        store = open_store(url)
        intake = FeedIntake(store, Tokenizer.generate(), FieldCipher.generate())
        meta = FeedMeta(
            version_id="bench-1",
            department=kind.department,
            supplier=SUPPLIER,
            kind=kind.code,
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 12, 31),
            expected_records=records,
            policy=Policy.ACCEPT_VALID,
        )
        upload, finish = Clock(), Clock()
        for sequence, start in enumerate(range(0, records, chunk_rows)):
            rows = encode_rows(kind.code, synthetic_rows(kind, start, min(chunk_rows, records - start)))
            chunk = make_chunk(meta.version_id, sequence, rows, meta if sequence == 0 else None)
            upload(functools.partial(intake.receive, chunk, sender=SUPPLIER))
        receipt = finish(lambda: intake.complete(meta.version_id))
        assert receipt.accepted_records == records, receipt
        bare = bare_insert(store.engine, kind, records, chunk_rows)
        store.dispose()
    seconds = upload.wall + finish.wall
    return {
        "path": "core",
        "backend": "postgresql" if pg_url else "sqlite",
        "kind": kind.code,
        "records": records,
        "seconds": seconds,
        "per_second": records / seconds,
        "cpu_per_second": records / (upload.cpu + finish.cpu),
        "complete_seconds": finish.wall,
        "bare_per_second": bare,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _bare_value(column: Any, n: int, postgres: bool) -> Any:
    """A value of the column's stored type, as the intake would hand it to the driver."""
    if isinstance(column.type, Integer):
        return n
    if isinstance(column.type, LargeBinary):
        return hashlib.md5(n.to_bytes(8, "big")).digest() * (1 if column.type.length == 16 else 3)
    if isinstance(column.type, Date):
        return dt.date(2025, 6, n % 28 + 1) if postgres else f"2025-06-{n % 28 + 1:02d}"
    return f"{n % 1_000_000:06d}"


def bare_insert(engine: Any, kind: RecordKind, records: int, chunk_rows: int) -> float:
    """Rows/s of a plain bulk insert of values shaped like the kind's stored rows into a table without any
    index, one transaction per chunk: no validation, no tokens, no bookkeeping, no by-person index."""
    table, _ = record_tables(kind)
    postgres = engine.dialect.name == "postgresql"
    scratch = Table("bench_bare", MetaData(), *(Column(c.name, c.type) for c in table.columns))
    writer = PostgresWriter() if postgres else SqliteWriter()
    elapsed = 0.0
    scratch.create(engine)
    with Session(engine) as session:
        for start in range(0, records, chunk_rows):
            numbers = range(start, min(start + chunk_rows, records))
            columns = {c.name: [_bare_value(c, n, postgres) for n in numbers] for c in table.columns}
            began = time.perf_counter()
            writer.insert(session, scratch, columns)
            session.commit()
            elapsed += time.perf_counter() - began
    scratch.drop(engine)
    return records / elapsed


def synthetic_feed(kind: RecordKind, records: int, batch: int = 10_000) -> Iterator[Message]:
    for start in range(0, records, batch):
        yield from synthetic_rows(kind, start, min(batch, records - start))


def _proc_status(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (e.g. ``VmHWM``, the peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_wire(kind_code: str, records: int, chunk_rows: int, pg_url: str | None) -> dict[str, Any]:
    """The upload as a supplier makes it: signed chunks over mutual TLS to ``hubctl serve`` in its own process."""
    return asyncio.run(_measure_wire(kind_by_code(kind_code), records, chunk_rows, pg_url))


async def _measure_wire(kind: RecordKind, records: int, chunk_rows: int, pg_url: str | None) -> dict[str, Any]:
    from hub import services
    from hub.demo import Processes
    from hub.feeds import FEED_PURPOSE, FeedUploader, prepare_feed
    from hub.sandbox import MemberSpec, Sandbox

    grants = ((services.FEED_UPLOAD, FEED_PURPOSE.code), (services.FEED_STATUS, FEED_PURPOSE.code))
    with tempfile.TemporaryDirectory() as tmp, database(pg_url, Path(tmp)) as url:
        root = Path(tmp)
        member = MemberSpec(SUPPLIER, kind.department, "bench supplier", grants=grants)
        sandbox = Sandbox(root, [member], database_url=url if pg_url else "")
        sandbox.provision()
        if pg_url:
            os.environ["HUB_DATABASE_URL"] = url
        processes = Processes(root)
        try:
            sandbox.external_hub_port = processes.start("hub", "serve", "--listen", "127.0.0.1:0")
            pid = processes.children["hub"][0].pid
            began = time.perf_counter()
            feed = prepare_feed(
                synthetic_feed(kind, records),
                department=kind.department,
                kind=kind.code,
                supplier=SUPPLIER,
                period_start=dt.date(2025, 1, 1),
                period_end=dt.date(2025, 12, 31),
                chunk_rows=chunk_rows,
            )
            prepare_seconds = time.perf_counter() - began
            client = sandbox.client(SUPPLIER)
            with feed:
                hub_cpu, began = _proc_cpu(pid), time.perf_counter()
                result = await FeedUploader(client).upload(feed)
                seconds = time.perf_counter() - began
                hub_cpu = _proc_cpu(pid) - hub_cpu
            assert result.receipt.accepted_records == records, result.receipt
            peak_kb = _proc_status(pid, "VmHWM")
            await client.aclose()
        finally:
            processes.stop()
    return {
        "path": "wire",
        "backend": "postgresql" if pg_url else "sqlite",
        "kind": kind.code,
        "records": records,
        "seconds": seconds,
        "per_second": records / seconds,
        "cpu_per_second": records / hub_cpu,
        "prepare_seconds": prepare_seconds,
        "peak_rss_mb": peak_kb / 1024,
    }


def run_child(path: str, kind: str, records: int, chunk_rows: int, pg_url: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--path", path, "--kind", kind, "--chunk", str(chunk_rows)]
    command += ["--records", str(records)] + (["--pg", pg_url] if pg_url else ["--sqlite-only"])
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"measurement failed:\n{result.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=None, help="sizes (default: 200000 2000000)")
    parser.add_argument("--quick", action="store_true", help="sizes 50000 and 200000 unless --records says")
    parser.add_argument("--kind", default="medical_settlement", help="record kind (default: medical_settlement)")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK_ROWS, help="rows per chunk")
    parser.add_argument("--path", choices=["core", "wire", "both"], default="both", help="what to measure")
    parser.add_argument("--pg", default=os.environ.get("HUB_TEST_DATABASE_URL"), help="also measure PostgreSQL")
    parser.add_argument("--sqlite-only", action="store_true", help="ignore --pg / HUB_TEST_DATABASE_URL")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.records is None:
        options.records = [50_000, 200_000] if options.quick else [200_000, 2_000_000]
    if options.child:
        measure_path = measure if options.path == "core" else measure_wire
        pg_url = None if options.sqlite_only else options.pg
        print(json.dumps(measure_path(options.kind, options.records[0], options.chunk, pg_url)))
        return
    backends: list[str | None] = [None] + ([options.pg] if options.pg and not options.sqlite_only else [])
    paths = ["core", "wire"] if options.path == "both" else [options.path]
    print(f"feed upload — kind {options.kind}, {options.chunk:,} rows per chunk, {os.cpu_count()} CPUs")
    header = f"{'path':<6}{'backend':<11}{'records':>11}{'seconds':>9}{'records/s':>11}{'cpu rec/s':>11}"
    print(header + f"{'complete s':>11}{'bare ins/s':>12}{'prepare s':>10}{'ratio':>7}{'peak RSS MB':>13}")
    results = []
    for pg_url in backends:
        for records in options.records:
            core: dict[str, Any] | None = None
            for path in paths:
                r = run_child(path, options.kind, records, options.chunk, pg_url)
                results.append(r)
                if path == "core":
                    core = r
                    ratio = r["per_second"] / r["bare_per_second"]  # core / bare insert
                    extra = f"{r['complete_seconds']:>11.1f}{r['bare_per_second']:>12,.0f}{'':>10}"
                else:
                    ratio = r["per_second"] / core["per_second"] if core else float("nan")  # wire / core
                    extra = f"{'':>11}{'':>12}{r['prepare_seconds']:>10.1f}"
                print(
                    f"{path:<6}{r['backend']:<11}{r['records']:>11,}{r['seconds']:>9.1f}{r['per_second']:>11,.0f}"
                    f"{r['cpu_per_second']:>11,.0f}{extra}{ratio:>7.2f}{r['peak_rss_mb']:>13.0f}",
                    flush=True,
                )
    print(
        "ratio: core / bare insert of the same rows; wire / core at the same size. cpu rec/s: of the storing process."
    )
    for line in verdicts(results, paths):
        print(line)


#: DESIGN.md's bars for the upload into the store, records/s on a 2-core machine.
TARGETS = {"sqlite": 100_000, "postgresql": 120_000}
#: Peak memory at the largest size / at the smallest: above this it grows with the feed.
FLAT = 1.25


def verdicts(results: list[dict[str, Any]], paths: list[str]) -> list[str]:
    """Per path and backend: records/s at the largest size against its target, and whether memory stayed flat."""
    lines = []
    for path in paths:
        for backend, target in TARGETS.items():
            sizes = sorted(
                (r for r in results if r["backend"] == backend and r.get("path", "core") == path),
                key=lambda r: r["records"],
            )
            if not sizes:
                continue
            largest = sizes[-1]
            rate = largest["per_second"]
            verdict = "ok" if rate >= target else "BELOW"
            line = f"{path} {backend}: {rate:,.0f} records/s at {largest['records']:,} (target ≥ {target:,}) {verdict}"
            if len(sizes) >= 2:
                growth = largest["peak_rss_mb"] / sizes[0]["peak_rss_mb"]
                flat = "flat" if growth <= FLAT else "GROWS"
                line += (
                    f"; peak memory {sizes[0]['peak_rss_mb']:.0f} MB at {sizes[0]['records']:,}, "
                    f"{largest['peak_rss_mb']:.0f} MB at {largest['records']:,} (× {growth:.2f}) {flat}"
                )
            lines.append(line)
    return lines


if __name__ == "__main__":
    main()

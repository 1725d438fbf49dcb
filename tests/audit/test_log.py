"""The stored log: gap-free chained appends, signed checkpoints, proofs, access reports, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from sqlalchemy import Connection, delete, func, select, update

from hub.audit import AuditLog, AuditTampered, ProofInvalid, access_report_record
from hub.audit._merkle import (
    EMPTY_ROOT,
    inclusion_ranges,
    leaf_hash,
    memory_subtrees,
    merkle_root,
    verify_consistency,
)
from hub.audit._models import AuditEntryRow, AuditHeadRow, AuditNodeRow
from hub.audit._record import GENESIS_HASH, entry_hash
from hub.config import AuditSettings
from hub.envelope import SigningKey
from hub.errors import FailedPrecondition, InvalidArgument, NotFound, SignatureInvalid
from hub.store import Store, make_engine
from hub.store._writer import WRITE_LOCK_HELD, GroupCommitWriter

from .conftest import RecordFactory, make_record, token


def stored_leaves(store: Store) -> list[bytes]:
    with store.session() as session:
        hashes = session.execute(select(AuditEntryRow.entry_hash).order_by(AuditEntryRow.seq)).scalars().all()
    return [leaf_hash(h) for h in hashes]


def fill(store: Store, log: AuditLog, count: int, batch: int = 100) -> None:
    for start in range(0, count, batch):
        with store.session() as session:
            log.append_many(session, [make_record(n) for n in range(start, min(count, start + batch))])


def test_appends_are_gap_free_and_chained(store: Store, audit_log: AuditLog, record: RecordFactory) -> None:
    seqs = []
    for _ in range(3):
        with store.session() as session:
            seqs.append(audit_log.append(session, record()))
    with store.session() as session:
        seqs += audit_log.append_many(session, [record() for _ in range(4)])
        assert audit_log.append_many(session, []) == []
    assert seqs == list(range(7))
    assert audit_log.size() == 7
    prev = GENESIS_HASH
    for seq in range(7):
        entry = audit_log.entry(seq)
        assert entry.prev_hash == prev
        assert entry.entry_hash == entry_hash(seq, prev, entry.recorded_at, entry.record)
        prev = entry.entry_hash


def test_an_append_rolls_back_with_the_effect_it_records(store: Store, audit_log: AuditLog) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        audit_log.append(session, make_record(1))
        raise RuntimeError("the effect failed")
    assert audit_log.size() == 0
    with store.session() as session:
        assert audit_log.append(session, make_record(2)) == 0
    assert audit_log.entry(0).record.message_id == make_record(2).message_id


def saved_head_size(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(AuditHeadRow.size)).scalar_one())


def append_as_the_writer(store: Store, log: AuditLog, count: int) -> None:
    """Each append in a batch of the group-commit writer (on SQLite: under the write lock it took first)."""

    async def main() -> None:
        writer = GroupCommitWriter(store.engine)
        try:
            for _ in range(count):
                records = [make_record()]
                await writer.submit(lambda connection, records=records: log.append_on(connection, records))
        finally:
            writer.close()

    asyncio.run(main())


def assert_chained(store: Store, log: AuditLog, size: int) -> None:
    assert log.size() == size
    prev = GENESIS_HASH
    for seq in range(size):
        entry = log.entry(seq)
        assert entry.prev_hash == prev, f"entry {seq} does not chain to the one before"
        prev = entry.entry_hash
    assert log.checkpoint().root_hash == merkle_root(stored_leaves(store))


@pytest.mark.parametrize("through_the_writer", [False, True], ids=["session", "group commit"])
def test_the_head_is_saved_when_an_append_completes_a_cached_node(
    store: Store, audit_log: AuditLog, through_the_writer: bool
) -> None:
    """On SQLite the saved head lags the log by less than a cached node (each append brings its process's head
    forward through the entries since, and saving it every time cost a page of every commit); PostgreSQL saves
    it every time. Readers see the log's own size and root either way."""
    if through_the_writer:
        append_as_the_writer(store, audit_log, 300)
    else:
        for _ in range(300):
            with store.session() as session:
                audit_log.append(session, make_record())
    assert saved_head_size(store) == (300 if store.dialect == "postgresql" else 256)
    assert_chained(store, audit_log, 300)


def test_an_append_finds_the_head_after_other_processes_appended(store: Store, hub_key: SigningKey) -> None:
    """Two processes' logs: each append starts from what this process last wrote, brought forward through the
    other's entries, or from the saved head when the other appended more than a node's worth meanwhile."""
    first, second = AuditLog(store, hub_key), AuditLog(store, hub_key)
    append_as_the_writer(store, first, 3)
    append_as_the_writer(store, second, 2)
    append_as_the_writer(store, first, 1)  # two behind
    append_as_the_writer(store, second, 300)
    append_as_the_writer(store, first, 1)  # 300 behind
    with store.session() as session:
        first.append(session, make_record())
    assert_chained(store, first, 308)


def test_after_a_rolled_back_append_the_next_chains_to_the_log(store: Store, audit_log: AuditLog) -> None:
    append_as_the_writer(store, audit_log, 5)
    with pytest.raises(RuntimeError), store.session() as session:
        audit_log.append_many(session, [make_record(), make_record()])
        raise RuntimeError("the effect failed")
    append_as_the_writer(store, audit_log, 2)
    assert_chained(store, audit_log, 7)


def test_a_saved_head_that_does_not_match_its_entry_is_reported(store: Store, hub_key: SigningKey) -> None:
    if store.dialect == "postgresql":
        pytest.skip("PostgreSQL saves the head on every append and starts from the row its lock read")
    append_as_the_writer(store, AuditLog(store, hub_key), 3)
    with store.session() as session:
        session.execute(update(AuditHeadRow).values(size=2, last_hash=bytes(range(32)), frontier=bytes(32)))
    with pytest.raises(AuditTampered) as raised:
        append_as_the_writer(store, AuditLog(store, hub_key), 1)
    assert (raised.value.problem, raised.value.metadata["seq"]) == ("chain_broken", "1")
    assert AuditLog(store, hub_key).size() == 3


def test_checkpoints_sign_the_merkle_root(store: Store, audit_log: AuditLog, hub_key: SigningKey) -> None:
    empty = audit_log.checkpoint()
    assert (empty.tree_size, empty.root_hash) == (0, EMPTY_ROOT)
    fill(store, audit_log, 5)
    signed = audit_log.checkpoint()
    assert signed.tree_size == 5
    assert signed.root_hash == merkle_root(stored_leaves(store)) == audit_log.root(5)
    signed.verify(hub_key.public)
    assert audit_log.latest_checkpoint() == signed
    assert [c.tree_size for c in audit_log.checkpoints()] == [0, 5]
    assert signed.body.decode().splitlines()[:2] == ["assistance-hub/audit", "5"]
    with pytest.raises(SignatureInvalid):
        signed.verify(SigningKey.generate().public)


def test_checkpoints_need_the_hub_key(store: Store) -> None:
    with pytest.raises(FailedPrecondition):
        AuditLog(store).checkpoint()
    with pytest.raises(InvalidArgument):
        AuditLog(store, origin="DSSEv1 forged")


def test_proofs_over_cached_and_uncached_subtrees(store: Store, audit_log: AuditLog) -> None:
    fill(store, audit_log, 600, batch=7)  # small batches: PostgreSQL writes each in one statement
    with store.session() as session:
        nodes = session.execute(select(AuditNodeRow.level, AuditNodeRow.idx)).all()
    assert sorted(nodes) == [(8, 0), (8, 1), (9, 0)]  # only subtrees of 256 leaves and more are kept
    leaves = stored_leaves(store)
    signed = audit_log.checkpoint()
    for seq in (0, 1, 255, 256, 511, 512, 599):
        proof = audit_log.inclusion_proof(seq)
        assert proof.tree_size == 600
        assert list(proof.hashes) == [memory_subtrees(leaves)(*r) for r in inclusion_ranges(seq, 600)]
        proof.verify(signed.root_hash)
    for seq, size in ((0, 1), (300, 513), (256, 257)):
        audit_log.inclusion_proof(seq, size).verify(merkle_root(leaves[:size]))
    for first, second in ((1, 600), (256, 600), (300, 513), (599, 600), (600, 600)):
        proof = audit_log.consistency_proof(first, second)
        verify_consistency(first, second, merkle_root(leaves[:first]), merkle_root(leaves[:second]), proof.hashes)
    assert audit_log.consistency_proof(512).second == 600


def test_proofs_survive_lost_node_cache(store: Store, audit_log: AuditLog) -> None:
    fill(store, audit_log, 300, batch=100)  # large batches: written row by row
    expected = audit_log.root(300)
    with store.session() as session:
        session.execute(delete(AuditNodeRow))
    assert audit_log.root(300) == expected == merkle_root(stored_leaves(store))


def test_a_missing_stored_entry_is_reported(store: Store, audit_log: AuditLog) -> None:
    fill(store, audit_log, 10)
    with store.session() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 4))
    with pytest.raises(AuditTampered) as caught:
        audit_log.root(10)
    assert (caught.value.problem, caught.value.seq) == ("gap", 4)


def test_inclusion_by_message_id_and_its_refusals(store: Store, audit_log: AuditLog) -> None:
    fill(store, audit_log, 4)
    with pytest.raises(FailedPrecondition, match="no checkpoint"):
        audit_log.inclusion_proof(1)
    signed = audit_log.checkpoint()
    proof = audit_log.inclusion_proof(make_record(2).message_id)
    assert proof.leaf_index == 2
    proof.verify(signed.root_hash)
    fill(store, audit_log, 1)  # entry 4: not yet under a checkpoint
    with pytest.raises(FailedPrecondition, match="next checkpoint"):
        audit_log.inclusion_proof(4)
    with pytest.raises(NotFound):
        audit_log.inclusion_proof("0190c2a4-0000-7000-8000-999999999999")
    with pytest.raises(InvalidArgument):
        audit_log.inclusion_proof(1, 99)
    with pytest.raises(InvalidArgument):
        audit_log.consistency_proof(5, 4)


def test_an_inclusion_proof_is_bound_to_its_entry(store: Store, audit_log: AuditLog) -> None:
    fill(store, audit_log, 8)
    signed = audit_log.checkpoint()
    one, other = audit_log.inclusion_proof(1), audit_log.inclusion_proof(2)
    forged = type(one)(one.leaf_index, one.tree_size, one.entry_hash, other.entry, one.hashes)
    with pytest.raises(ProofInvalid):
        forged.verify(signed.root_hash)
    moved = type(one)(2, one.tree_size, one.entry_hash, one.entry, one.hashes)
    with pytest.raises(ProofInvalid):
        moved.verify(signed.root_hash)


def test_access_report_lists_who_asked_and_logs_the_answer(store: Store, audit_log: AuditLog) -> None:
    alice, bob = token(1), token(2)
    with store.session() as session:
        audit_log.append(session, make_record(10, tokens=(alice, bob)))
        audit_log.append(session, make_record(11, tokens=(bob,)))
        audit_log.append(session, make_record(12, kind="response", tokens=(alice, alice)))  # a repeated token
    report = audit_log.access_report(alice)
    assert [(e.seq, e.kind) for e in report] == [(0, "request"), (2, "response")]
    first = report[0]
    assert (first.asker, first.service, first.purpose_code, first.case_number) == (
        "11130629MB1234567X/dibao",
        "hub.v1.Verification/HouseholdRegistration",
        "dibao.application",
        "容民救〔2025〕10号",
    )
    assert [e.seq for e in audit_log.access_report(alice, kinds=["request"])] == [0]
    with store.session() as session:
        answered = audit_log.access_report(alice, session=session)
        seq = audit_log.append(session, access_report_record(alice, answered, asker="hubctl", case_number="P-7"))
    logged = audit_log.access_report(alice)[-1]
    assert (logged.seq, logged.kind, logged.asker, logged.case_number) == (seq, "access_report", "hubctl", "P-7")
    assert audit_log.access_report(token(3)) == []
    with pytest.raises(InvalidArgument):
        audit_log.access_report(b"11010519491231002X")


def test_purging_bodies_keeps_the_chain_verifiable(store: Store, hub_key: SigningKey) -> None:
    now = [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)]
    log = AuditLog(store, hub_key, clock=lambda: now[0])
    fill(store, log, 3)
    root = log.checkpoint().root_hash
    now[0] += dt.timedelta(days=200)
    fill(store, log, 2)
    assert log.purge_bodies(dt.timedelta(days=AuditSettings().body_retention_days)) == 3
    assert log.purge_bodies(dt.timedelta(days=180)) == 0
    assert [log.entry(seq).record.payload is None for seq in range(5)] == [True, True, True, False, False]
    assert log.root(3) == root
    proof = log.inclusion_proof(1, 3)
    proof.verify(root)


def test_retention_defaults_respect_the_law() -> None:
    settings = AuditSettings()
    assert settings.body_retention_days == 180
    assert settings.entry_retention_days >= 3 * 365
    with pytest.raises(ValueError):
        AuditSettings(entry_retention_days=365)


def test_concurrent_appends_stay_gap_free_and_chained(store: Store, audit_log: AuditLog) -> None:
    threads, rounds = 6, 15
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for n in range(rounds):
                with store.session() as session:
                    if n % 3:
                        audit_log.append(session, make_record(base + n))
                    else:
                        audit_log.append_many(session, [make_record(base + n), make_record(base + n + 500)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=worker, args=(1000 * i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []
    expected = threads * (rounds + rounds // 3)
    with store.session() as session:
        count, low, high = session.execute(
            select(func.count(), func.min(AuditEntryRow.seq), func.max(AuditEntryRow.seq))
        ).one()
    assert (count, low, high) == (expected, 0, expected - 1)
    prev = GENESIS_HASH
    for seq in range(expected):
        entry = audit_log.entry(seq)
        assert entry.prev_hash == prev
        prev = entry.entry_hash
    assert audit_log.checkpoint().root_hash == merkle_root(stored_leaves(store))


def test_appends_in_the_group_commit_writers_of_two_processes_stay_gap_free(store: Store, hub_key: SigningKey) -> None:
    """Two hub processes (two engines, each with its writer) append at once. On SQLite each writer's batch holds
    the write lock from its first statement, so the head is read plainly (traced below) and yet no append
    lands between another's read and write."""
    engines = [store.engine, make_engine(store.engine.url.render_as_string(hide_password=False))]
    traced: list[str] = []
    errors: list[BaseException] = []

    def process(index: int) -> None:
        writer = GroupCommitWriter(engines[index])
        log = AuditLog(Store(engines[index]), hub_key)

        def unit(n: int) -> object:
            def work(connection: Connection) -> list[int]:
                raw = connection.connection.driver_connection
                if index == 0 and store.dialect == "sqlite":
                    raw.set_trace_callback(traced.append)  # type: ignore[union-attr]
                try:
                    return log.append_on(connection, [make_record(n), make_record(n + 1)])
                finally:
                    if index == 0 and store.dialect == "sqlite":
                        raw.set_trace_callback(None)  # type: ignore[union-attr]

            return work

        async def main() -> None:
            for batch in range(20):
                units = [unit(10_000 * index + 100 * batch + 2 * i) for i in range(3)]
                await asyncio.gather(*(writer.submit(work) for work in units))  # type: ignore[arg-type]

        try:
            asyncio.run(main())
            assert writer.batches >= 20
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            writer.close()

    workers = [threading.Thread(target=process, args=(i,)) for i in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    engines[1].dispose()
    assert errors == []
    if store.dialect == "sqlite":
        # The saved head is read by the process's first append only, and neither locked (the writer holds the
        # write lock already) nor saved (240 entries complete no cached node): later appends start from their own.
        reads = [
            i for i, s in enumerate(traced) if s == "SELECT size, last_hash, frontier FROM audit_head WHERE id = 1"
        ]
        first_insert = next(i for i, s in enumerate(traced) if s.startswith("INSERT INTO audit_entries"))
        assert reads and max(reads) < first_insert  # twice if this process created the row
        assert not [s for s in traced if s.startswith("UPDATE audit_head")]
    assert_chained(store, AuditLog(store, hub_key), 2 * 20 * 3 * 2)
    with store.engine.connect() as connection:
        assert WRITE_LOCK_HELD not in connection.info, "the mark does not outlive the writer's transaction"


def test_times_are_stored_as_the_orm_stores_them_even_on_a_whole_second(store: Store, hub_key: SigningKey) -> None:
    """The append's plain statements bind times as the column type does, so comparisons and purges that the
    ORM binds see one format (on SQLite: text with microseconds, never the driver's shorter default)."""
    whole = dt.datetime(2025, 3, 14, 8, 0, tzinfo=dt.UTC)
    log = AuditLog(store, hub_key, clock=lambda: whole)
    with store.session() as session:
        log.append(session, make_record(0))  # issued_at 08:00:00.000000 too
    with store.session() as session:
        assert session.scalar(select(func.count()).where(AuditEntryRow.recorded_at == whole)) == 1
        assert session.scalar(select(func.count()).where(AuditEntryRow.issued_at == whole)) == 1
    assert log.purge_bodies(whole + dt.timedelta(microseconds=1)) == 1

"""ID numbers at rest: only tokens, encrypted copies where findings need them, and key rotation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from hub.feeds import (
    FeedIntake,
    chunked,
    key_versions_in_use,
    kind_by_code,
    lookup_tokens,
    record_tables,
    retokenize,
)
from hub.feeds._tables import FeedVersionRow
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store
from hub.store.models import Base
from tests.feeds.conftest import SUPPLIER, IntakeFactory, meta, person, upload, valid_row, valid_rows


def _stored_bytes(store: Store, tmp_path: Path) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or every PostgreSQL row as text."""
    if store.dialect == "sqlite":
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database = Path(store.engine.url.database or "")
        return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    with store.engine.connect() as connection:
        rows = [
            connection.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars().all()
            for table in Base.metadata.sorted_tables
        ]
    return "\n".join(value for table in rows for value in table).encode()


def test_no_raw_id_number_is_stored_anywhere(intake: FeedIntake, store: Store, tmp_path: Path) -> None:
    roster = valid_rows("roster", 6)
    settlements = valid_rows("medical_settlement", 6, start=3)
    mistyped = person(77)[:17] + ("1" if person(77)[17] != "1" else "2")
    settlements[5].id_number = mistyped  # refused: its reason must not quote it
    upload(intake, meta("roster", "roster", 6), roster)
    receipt = upload(intake, meta("settlements", "medical_settlement", 6), settlements)
    assert receipt.rejected_records == 1
    numbers = {r.id_number for r in roster} | {r.household_head_id_number for r in roster}
    numbers |= {r.id_number for r in settlements}
    stored = _stored_bytes(store, tmp_path)
    assert stored  # the scan looked at something
    for number in numbers:
        assert number.encode() not in stored, number[:6]
        assert number.encode().hex().encode() not in stored, number[:6]  # PostgreSQL shows bytea as hex
    assert b"********" in stored  # the rejection reason, masked


def test_rosters_keep_numbers_encrypted_for_their_column_only(
    intake: FeedIntake, store: Store, cipher: FieldCipher
) -> None:
    upload(intake, meta("roster", "roster", 3), valid_rows("roster", 3))
    records, _ = record_tables(kind_by_code("roster"))
    with store.session() as session:
        blobs = session.execute(select(records.c.id_number_enc).order_by(records.c.row_number)).scalars().all()
    assert [cipher.decrypt(b, b"feed_rosters.id_number_enc") for b in blobs] == [person(n) for n in range(3)]


def _tokens(store: Store, kind: str, version_id: str, *, by_person: bool = False) -> dict[int, bytes]:
    table = record_tables(kind_by_code(kind))[1 if by_person else 0]
    with store.session() as session:
        key = session.scalar(select(FeedVersionRow.id).where(FeedVersionRow.version_id == version_id))
        rows = session.execute(select(table.c.row_number, table.c.token).where(table.c.version == key)).all()
    return {row_number: token for row_number, token in rows}


def test_retokenize_moves_every_person_the_hub_can_name(
    make_intake: IntakeFactory, store: Store, cipher: FieldCipher
) -> None:
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    upload(intake, meta("roster", "roster", 6), valid_rows("roster", 6))
    settlements = valid_rows("medical_settlement", 6)
    settlements[5] = valid_row(kind_by_code("medical_settlement"), 500)  # a person on no roster
    upload(intake, meta("settlements", "medical_settlement", 6), settlements)
    pending = meta("pending", "death", 4)
    intake.receive(next(iter(chunked(pending, valid_rows("death", 4), 2))), sender=SUPPLIER)

    assert tokenizer.rotate() == 2
    report = retokenize(store, tokenizer, cipher, batch=4)

    assert (report.key_version, report.versions, report.skipped) == (2, 2, ("pending",))
    assert (report.moved_rows, report.unmapped_rows) == (6 + 5, 1)
    assert report.persons == 6  # every roster member; heads are members too
    assert _tokens(store, "roster", "roster") == {n + 1: tokenizer.token(person(n)) for n in range(6)}
    for by_person in (False, True):
        moved = _tokens(store, "medical_settlement", "settlements", by_person=by_person)
        assert {k: v for k, v in moved.items() if k != 6} == {n + 1: tokenizer.token(person(n)) for n in range(5)}
        assert moved[6] == tokenizer.token_with(1, person(500))  # no number anywhere: stays on the old key
    with store.session() as session:
        version = session.scalars(select(FeedVersionRow).where(FeedVersionRow.version_id == "settlements")).one()
    assert (version.token_version, version.legacy_token_version) == (2, 1)
    assert tokenizer.token_with(1, person(500)) in lookup_tokens(tokenizer, version, person(500))
    assert key_versions_in_use(store) == {1, 2}


def test_an_upload_keeps_its_key_across_a_rotation(
    make_intake: IntakeFactory, store: Store, cipher: FieldCipher
) -> None:
    tokenizer = Tokenizer.generate()
    declared = meta("across", "death", 4)
    chunks = list(chunked(declared, valid_rows("death", 4), 2))
    make_intake(tokenizer=tokenizer).receive(chunks[0], sender=SUPPLIER)
    tokenizer.rotate()
    resumed = make_intake(tokenizer=tokenizer)
    resumed.receive(chunks[1], sender=SUPPLIER)
    resumed.complete("across")
    expected = {n + 1: tokenizer.token_with(1, person(n)) for n in range(4)}
    assert _tokens(store, "death", "across") == _tokens(store, "death", "across", by_person=True) == expected
    report = retokenize(store, tokenizer, cipher)
    assert (report.versions, report.moved_rows, report.unmapped_rows) == (1, 0, 4)  # deaths keep no numbers
    assert key_versions_in_use(store) == {1, 2}

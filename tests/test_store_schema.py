"""The migrations and the models describe the same schema, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from hub.store import Store, make_engine, migrate
from hub.store.models import Base


def test_migrations_reach_head(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision(store.engine)


def _apscheduler_owned(change: object) -> bool:
    """APScheduler creates and owns its job-store table (and its index); Alembic does not manage it."""
    if not isinstance(change, tuple) or change[0] not in ("remove_table", "remove_index"):
        return False
    item = change[1]
    table = item if change[0] == "remove_table" else item.table
    return bool(table.name.startswith("apscheduler"))


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [change for change in compare_metadata(context, Base.metadata) if not _apscheduler_owned(change)]
    assert diff == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("WAL is a SQLite setting")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _sqlite_layout(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type IN ('table', 'index')"
        )
        return {name: sql.replace('"', "") for name, sql in rows}  # a rebuilt table's name comes back quoted


def test_the_lean_sqlite_migration_keeps_every_row_both_ways(tmp_path: Path) -> None:
    """0009 rebuilds the hot tables (fewer B-trees per append); rows and hashes survive up and down."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate.upgrade(engine, "0008")
    entry = {c: "x" for c in ("kind", "message_id", "correlation_id", "sender", "recipient", "service", "purpose_code",
                              "legal_basis", "case_number", "consent_ref", "outcome")}  # fmt: skip
    times = {"recorded_at": "2025-03-14 08:00:00.000000", "issued_at": "2025-03-14 08:00:00.000000"}
    hashes = {
        "payload_sha256": bytes(32),
        "signatures": b"\0\0\0\0",
        "subject_tokens": bytes(16),
        "prev_hash": bytes(32),
    }
    with engine.begin() as connection:
        for seq in range(3):
            values = {"seq": seq, **entry, **times, **hashes, "entry_hash": bytes([seq]) * 32}
            connection.execute(text(f"INSERT INTO audit_entries ({', '.join(values)}) VALUES "
                                    f"({', '.join(':' + k for k in values)})"), values)  # fmt: skip
            connection.execute(text("INSERT INTO audit_subjects VALUES (:t, :s)"), {"t": bytes(16), "s": seq})
        connection.execute(text("INSERT INTO seen_messages VALUES ('m-1', 'someone', '2025-03-14 08:05:00.000000')"))
    before = _sqlite_layout(engine)
    assert "sqlite_autoindex_audit_entries_1" in before and "WITHOUT ROWID" not in before["audit_subjects"]

    def contents() -> list[object]:
        with engine.connect() as connection:
            return [
                connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
                for table in ("audit_entries", "audit_subjects", "seen_messages")
            ]

    kept = contents()
    migrate.upgrade(engine, "0010")
    after = _sqlite_layout(engine)
    assert "sqlite_autoindex_audit_entries_1" not in after  # seq is the rowid now
    assert "WITHOUT ROWID" in after["audit_subjects"] and "WITHOUT ROWID" in after["seen_messages"]
    assert {"ix_audit_entries_message_id", "ix_audit_entries_recorded_at", "ix_seen_messages_expires_at"} <= set(after)
    assert contents() == kept
    command.downgrade(migrate.alembic_config(engine), "0008")
    assert _sqlite_layout(engine) == before
    assert contents() == kept


def test_the_comparison_reads_migration_copies_certificates_into_the_by_person_table(tmp_path: Path) -> None:
    """0010 gives stored property versions their certificate numbers in the by-person table, and back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate.upgrade(engine, "0009")
    rows = [(1, n, f"冀(2020)不动产权第{n:08d}号") for n in range(3)]
    with engine.begin() as connection:
        for version, row, certificate in rows:
            values = {"version": version, "row_number": row, "region_code": "130629", "property_kind": "residential",
                      "registered_on": "2020-01-01", "floor_area_cm2": 900_000}  # fmt: skip
            connection.execute(text("INSERT INTO feed_properties (version, row_number, token, certificate_number, "
                                    "region_code, property_kind, registered_on, floor_area_cm2) VALUES (:version, "
                                    ":row_number, :token, :certificate, :region_code, :property_kind, "
                                    ":registered_on, :floor_area_cm2)"),
                               {**values, "token": bytes([row]) * 16, "certificate": certificate})  # fmt: skip
            connection.execute(text("INSERT INTO feed_properties_by_person (version, token, row_number, region_code, "
                                    "property_kind, registered_on, floor_area_cm2) VALUES (:version, :token, "
                                    ":row_number, :region_code, :property_kind, :registered_on, :floor_area_cm2)"),
                               {**values, "token": bytes([row]) * 16})  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as connection:
        copied = connection.execute(
            text("SELECT version, row_number, certificate_number FROM feed_properties_by_person ORDER BY row_number")
        ).all()
    assert [tuple(row) for row in copied] == rows
    assert "WITHOUT ROWID" in _sqlite_layout(engine)["feed_properties_by_person"]
    command.downgrade(migrate.alembic_config(engine), "0009")
    with engine.connect() as connection:
        columns = [row[1] for row in connection.exec_driver_sql("PRAGMA table_info(feed_properties_by_person)")]
    assert "certificate_number" not in columns


def test_the_purge_index_covers_only_entries_that_keep_a_body(store: Store) -> None:
    """0011: the retention purge reads a partial index of the entries with a body; an append without one (every
    signed query's) adds nothing to it, and the purge still finds what it must null."""
    import datetime as dt

    from hub.audit import AuditLog
    from hub.audit._models import AuditEntryRow
    from tests.audit.conftest import make_record

    log = AuditLog(store, clock=lambda: dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    with store.session() as session:
        log.append_many(session, [make_record(payload=True), make_record(payload=False), make_record(payload=False)])
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            definition = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_audit_entries_bodies'"
            ).scalar_one()
            indexed = connection.exec_driver_sql(
                "SELECT count(*) FROM audit_entries INDEXED BY ix_audit_entries_bodies "
                "WHERE payload IS NOT NULL AND recorded_at > ''"
            ).scalar_one()
            assert indexed == 1
        else:
            definition = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_audit_entries_bodies'"
            ).scalar_one()
        assert "payload IS NOT NULL" in definition
        assert "ix_audit_entries_recorded_at" not in {index.name for index in AuditEntryRow.__table__.indexes}
    assert log.purge_bodies(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == 1


_CODES = {"rule": "C", "locality": "C", "evidence_key": "C", "status": "C", "bureau": "C"}


def _pairs(engine: Engine, query: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(first, second) for first, second in connection.execute(text(query))]


def _both_ways(store: Store, previous: str, read: Callable[[Engine], object], at_head: object, below: object) -> None:
    """A migration's effect: there at head, gone once downgraded to ``previous``, back after upgrading again
    (the session's database ends at head whatever happens)."""
    assert read(store.engine) == at_head
    try:
        command.downgrade(migrate.alembic_config(store.engine), previous)
        assert read(store.engine) == below
    finally:
        migrate.upgrade(store.engine)
    assert read(store.engine) == at_head


def _collations(engine: Engine) -> dict[str, str]:
    query = (
        "SELECT column_name, collation_name FROM information_schema.columns "
        "WHERE table_name = 'findings' AND collation_name IS NOT NULL"
    )
    return dict(_pairs(engine, query))


def test_the_findings_codes_compare_bytes_on_postgresql_both_ways(store: Store) -> None:
    """0012: the findings' key and the bureaus' list compare their codes byte by byte (no ``strcoll`` per index
    key), in the migrated schema and in the model's; down again, the database's default returns."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite compares bytes already and knows no collation named C")
    columns = Base.metadata.tables["findings"].columns
    assert {name: columns[name].type.dialect_impl(store.engine.dialect).collation for name in _CODES} == _CODES
    _both_ways(store, "0011", _collations, _CODES, {})


def _by_person_keys(engine: Engine) -> dict[str, tuple[str, frozenset[str]]]:
    """Each by-person table's primary key: its key columns, and the set of columns it includes."""
    query = (
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid WHERE i.indisprimary AND c.relname LIKE 'feed\\_%\\_by\\_person'"
    )
    keys = {}
    for table, definition in _pairs(engine, query):
        key, _, include = definition.partition(" USING btree ")[2].partition(" INCLUDE ")
        keys[table] = (key, frozenset(include.strip("()").split(", ")) - {""})
    return keys


def test_the_by_person_keys_cover_the_compared_values_on_postgresql_both_ways(store: Store) -> None:
    """0013: each by-person table's primary key includes its other columns, as the model states, so that a
    comparison's probes read the index alone; down again, the plain key returns."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite's by-person tables are WITHOUT ROWID: the key is the table")
    key, tables = "(version, token, row_number)", [name for name in Base.metadata.tables if name.endswith("_by_person")]
    covering = {
        name: (key, frozenset(c.name for c in Base.metadata.tables[name].columns) - {"version", "token", "row_number"})
        for name in tables
    }
    assert len(covering) >= 10
    _both_ways(store, "0012", _by_person_keys, covering, dict.fromkeys(tables, (key, frozenset())))


def test_a_failed_statements_message_does_not_list_its_values() -> None:
    """A constraint error would otherwise print the row it refused: ID numbers on a console or in a log."""
    from sqlalchemy.exc import IntegrityError

    engine = make_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE people (id_number TEXT UNIQUE)"))
        connection.execute(text("INSERT INTO people VALUES (:n)"), {"n": "11010519491231002X"})
    with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
        connection.execute(text("INSERT INTO people VALUES (:n)"), {"n": "11010519491231002X"})
    assert "11010519491231002X" not in str(refused.value) and "UNIQUE" in str(refused.value)
    engine.dispose()

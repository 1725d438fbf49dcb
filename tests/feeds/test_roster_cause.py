"""The cause of a 临时救助 grant on roster rows (``RosterRow.cause``): optional, stored as a code, named in CSV."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, select

from hub.feeds import FeedIntake, FieldType, RowMapping, kind_by_code, record_tables
from hub.store import Store, migrate
from hub.v1 import feeds_pb2 as pb
from hub.v1 import verification_pb2 as vpb
from tests.feeds.conftest import meta, person, upload

ROSTER = kind_by_code("roster")


def _grant(n: int, cause: int) -> pb.RosterRow:
    return pb.RosterRow(
        id_number=person(n),
        household_head_id_number=person(n),
        programme=vpb.TEMPORARY,
        locality="130629",
        since="2025-03-01",
        until="2025-03-01",
        monthly_amount_fen=120_000,
        status=vpb.ENDED,
        cause=cause,  # type: ignore[arg-type]
    )


def test_the_cause_is_an_optional_enumeration_kept_with_the_records_only() -> None:
    (spec,) = (s for s in ROSTER.fields if s.name == "cause")
    assert spec.type is FieldType.ENUM and not spec.required and not spec.compared
    assert set(spec.codes.values()) == {
        "fire",
        "accident",
        "sudden_illness",
        "natural_disaster",
        "medical_expense",
        "education_expense",
        "other",
    }
    records, by_person = record_tables(ROSTER)
    assert records.c.cause.nullable and "cause" not in by_person.c


def test_a_grant_keeps_its_cause_as_a_code_and_an_unsaid_cause_as_null(store: Store, intake: FeedIntake) -> None:
    rows = [_grant(1, pb.TEMPORARY_CAUSE_FIRE), _grant(2, pb.TEMPORARY_CAUSE_UNSPECIFIED), _grant(3, 99)]
    receipt = upload(intake, meta("roster-causes", "roster", 3), rows)
    assert receipt.accepted_records == 2
    [rejection] = receipt.rejections
    assert (rejection.row_number, rejection.field, rejection.problem) == (3, "cause", "enum")
    records, _ = record_tables(ROSTER)
    with store.session() as session:
        stored = session.execute(select(records.c.row_number, records.c.cause).order_by(records.c.row_number)).all()
    assert [tuple(row) for row in stored] == [(1, "fire"), (2, None)]


def test_a_csv_names_the_cause_column_by_its_wire_name_and_may_leave_it_out() -> None:
    required = [s.name for s in ROSTER.fields if s.required]
    values = [person(1), person(1), "TEMPORARY", "130629", "2025-03-01", "120000", "ENDED"]
    without = RowMapping(ROSTER).reader(required)(values)
    assert without.cause == pb.TEMPORARY_CAUSE_UNSPECIFIED
    reader = RowMapping(ROSTER, values={"cause": {"火灾": "fire"}}).reader([*required, "cause"])
    for spelling in ("fire", "FIRE", "TEMPORARY_CAUSE_FIRE", "1", "火灾"):
        assert reader([*values, spelling]).cause == pb.TEMPORARY_CAUSE_FIRE
    assert reader([*values, ""]).cause == pb.TEMPORARY_CAUSE_UNSPECIFIED


def _roster_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("feed_rosters")}


def test_migration_0014_adds_the_cause_and_takes_it_away_again(store: Store) -> None:
    assert "cause" in _roster_columns(store.engine)
    try:
        command.downgrade(migrate.alembic_config(store.engine), "0013")
        assert "cause" not in _roster_columns(store.engine)
        assert "cause" not in {c["name"] for c in inspect(store.engine).get_columns("feed_rosters_by_person")}
    finally:
        migrate.upgrade(store.engine)
    assert "cause" in _roster_columns(store.engine)

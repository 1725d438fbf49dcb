"""Fixtures for the feeds: keys, an intake over the shared ``store`` fixture at a fixed time, valid rows per kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import func, select

from hub.config import FeedSettings
from hub.feeds import (
    FeedIntake,
    FeedMeta,
    FieldSpec,
    FieldType,
    Policy,
    Receipt,
    RecordKind,
    chunked,
    kind_by_code,
    record_tables,
)
from hub.identifiers import id_check_character
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store

SUPPLIER = "91110000600037341L"
OTHER_SUPPLIER = "91350200MA2YJ1XR9G"
#: A civil-affairs bureau: rosters come from a member of that department.
ROSTER_SUPPLIER = "11130629MB0000027U"
#: 2025-07-01 10:00 in China: the intake's "now" in these tests.
NOW = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)


def person(n: int, region: str = "130629") -> str:
    """The n-th of many distinct valid 18-digit ID numbers (born 1950-2009)."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=(n * 37) % 21_900)
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_character(first17)


def valid_value(spec: FieldSpec, n: int) -> Any:
    """A value ``spec`` accepts for row ``n``; optional dates are left empty."""
    if spec.type is FieldType.ID_NUMBER:
        return person(n if spec.name == "id_number" else n - n % 3)
    if spec.type is FieldType.REGION:
        return ("130629", "110105", "440308")[n % 3]
    if spec.type is FieldType.DATE:
        return f"2025-0{n % 6 + 1}-{n % 28 + 1:02d}" if spec.required else ""
    if spec.type is FieldType.MONTH:
        return f"2025-0{n % 6 + 1}"
    if spec.type is FieldType.AMOUNT:
        return 20_000 + n
    if spec.type is FieldType.ENUM:
        return min(spec.codes)
    if spec.type is FieldType.USCC:
        return SUPPLIER
    return f"T{n:08d}"


def valid_row(kind: RecordKind, n: int, **overrides: Any) -> Any:
    """A valid row message of ``kind`` (typed ``Any``: tests set its fields to break it)."""
    values = {spec.name: valid_value(spec, n) for spec in kind.fields}
    for rule in kind.checks:  # a part within its whole
        if isinstance(values[rule.field], int):
            values[rule.field] = values[rule.limit] // 2
    values.update(overrides)
    return kind.row_type(**values)


def valid_rows(kind: str, count: int, start: int = 0) -> list[Any]:
    record_kind = kind_by_code(kind)
    return [valid_row(record_kind, n) for n in range(start, start + count)]


def meta(
    version_id: str,
    kind: str = "medical_settlement",
    records: int = 10,
    *,
    policy: Policy = Policy.ACCEPT_VALID,
    supplier: str = SUPPLIER,
    period: tuple[dt.date, dt.date] = (dt.date(2025, 6, 1), dt.date(2025, 6, 30)),
) -> FeedMeta:
    return FeedMeta(
        version_id=version_id,
        department=kind_by_code(kind).department,
        supplier=supplier,
        kind=kind,
        period_start=period[0],
        period_end=period[1],
        expected_records=records,
        policy=policy,
    )


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer.generate()


@pytest.fixture(scope="session")
def cipher() -> FieldCipher:
    return FieldCipher.generate()


@pytest.fixture
def settings() -> FeedSettings:
    return FeedSettings(receipt_rejection_limit=5, max_chunk_records=500)


IntakeFactory = Callable[..., FeedIntake]


@pytest.fixture
def make_intake(store: Store, tokenizer: Tokenizer, cipher: FieldCipher, settings: FeedSettings) -> IntakeFactory:
    """A new intake object (as after a restart), sharing the database and keys."""

    def make(**kwargs: Any) -> FeedIntake:
        options: dict[str, Any] = {"settings": settings, "clock": lambda: NOW} | kwargs
        return FeedIntake(store, options.pop("tokenizer", tokenizer), cipher, options.pop("settings"), **options)

    return make


@pytest.fixture
def intake(make_intake: IntakeFactory) -> FeedIntake:
    return make_intake()


def upload(intake: FeedIntake, declared: FeedMeta, rows: Iterable[Message], size: int = 4) -> Receipt:
    """Send every chunk as a servicer would, then complete."""
    for chunk in chunked(declared, rows, size):
        intake.receive(chunk, sender=declared.supplier)
    return intake.complete(declared.version_id)


def count_rows(store: Store, kind: str, *, by_person: bool = False) -> int:
    table = record_tables(kind_by_code(kind))[1 if by_person else 0]
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0

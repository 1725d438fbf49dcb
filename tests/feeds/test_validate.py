"""Row validation, called directly: every field type refuses bad values per row, with a reason and no raw ID."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import InvalidArgument
from hub.feeds import kind_by_code
from hub.feeds._bulk import SqliteWriter
from hub.feeds._validate import (
    RowValidator,
    ValidatedChunk,
    ValueCache,
    _birth_dates,
    as_columns,
    fast_id_check,
    fast_id_column,
)
from hub.identifiers import id_check_character, validate_id_number
from hub.privacy import FieldCipher, Tokenizer
from tests.feeds.conftest import person, valid_row

TODAY = dt.date(2025, 7, 1)


def validate(
    kind: str, rows: list[Message], tokenizer: Tokenizer, cipher: FieldCipher, *, first: int = 1, **options: Any
) -> ValidatedChunk:
    validator = RowValidator(
        kind_by_code(kind),
        tokenizer,
        cipher,
        token_version=tokenizer.current_version,
        today=options.get("today", TODAY),
        adapt_date=SqliteWriter().adapt_date,
        cache=options.get("cache", ValueCache()),
    )
    return validator.validate(rows, first)


def one_bad(kind: str, tokenizer: Tokenizer, cipher: FieldCipher, **field: Any) -> tuple[str, str, str]:
    """Validate three rows whose middle one has ``field``; return its (field, problem, reason)."""
    record_kind = kind_by_code(kind)
    rows = [valid_row(record_kind, 0), valid_row(record_kind, 1, **field), valid_row(record_kind, 2)]
    result = validate(kind, rows, tokenizer, cipher, first=41)
    assert result.row_numbers == [41, 43]
    (rejection,) = result.rejections
    assert rejection.row_number == 42
    return rejection.field, rejection.problem, rejection.reason


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("medical_settlement", {"id_number": person(5)[:17] + ("0" if person(5)[17] != "0" else "1")}, "check_character"),
    ("medical_settlement", {"id_number": "13062919800101"}, "length"),
    ("medical_settlement", {"region_code": "990101"}, "region"),
    ("medical_settlement", {"region_code": "13062"}, "format"),
    ("medical_settlement", {"settled_on": "2025-02-30"}, "date"),
    ("medical_settlement", {"settled_on": "20250203"}, "format"),
    ("medical_settlement", {"settled_on": "2025-07-02"}, "future"),
    ("medical_settlement", {"care_kind": 0}, "missing"),
    ("medical_settlement", {"care_kind": 99}, "enum"),
    ("medical_settlement", {"total_fen": -1}, "range"),
    ("medical_settlement", {"settlement_id": ""}, "missing"),
    ("medical_settlement", {"settlement_id": "S" * 65}, "length"),
    ("medical_settlement", {"out_of_pocket_fen": 10**6, "total_fen": 10}, "order"),
    ("wage", {"month": "2025-13"}, "date"),
    ("wage", {"month": "June"}, "format"),
    ("wage", {"employer_uscc": "91110000600037341A"}, "check_character"),
    ("employment", {"started_on": "2025-03-01", "ended_on": "2025-02-01"}, "order"),
    ("roster", {"household_head_id_number": "not a number"}, "length"),
    ("roster", {"programme": 0}, "missing"),
    ("death", {"died_on": "1899-12-31"}, "range"),
    ("property", {"property_kind": 42}, "enum"),
]


@pytest.mark.parametrize(("kind", "field", "problem"), BAD, ids=[f"{k}-{p}-{next(iter(f))}" for k, f, p in BAD])
def test_a_bad_value_refuses_its_row_only(
    kind: str, field: dict[str, Any], problem: str, tokenizer: Tokenizer, cipher: FieldCipher
) -> None:
    name, found, reason = one_bad(kind, tokenizer, cipher, **field)
    assert (name, found) == (next(iter(field)), problem)
    assert reason
    for value in field.values():
        if isinstance(value, str) and len(value) == 18:
            assert value not in reason  # a number is shown masked, if at all


def test_the_first_failing_field_is_reported(tokenizer: Tokenizer, cipher: FieldCipher) -> None:
    name, problem, _ = one_bad("medical_settlement", tokenizer, cipher, id_number="bad", settled_on="bad")
    assert (name, problem) == ("id_number", "length")


def test_legacy_and_lower_case_numbers_are_normalised_before_tokenising(
    tokenizer: Tokenizer, cipher: FieldCipher
) -> None:
    kind = kind_by_code("death")
    rows = [valid_row(kind, 0, id_number="610104620927690"), valid_row(kind, 1, id_number="11010519491231002x")]
    result = validate("death", rows, tokenizer, cipher)
    assert result.rejections == []
    assert result.columns["token"] == [tokenizer.token("610104196209276908"), tokenizer.token("11010519491231002X")]


def test_stored_forms(tokenizer: Tokenizer, cipher: FieldCipher) -> None:
    kind = kind_by_code("roster")
    row = valid_row(kind, 4, until="", status=1)
    result = validate("roster", [row], tokenizer, cipher)
    columns = {name: values[0] for name, values in result.columns.items()}
    assert columns["token"] == tokenizer.token(person(4))
    assert columns["household_head_token"] == tokenizer.token(person(3))
    assert cipher.decrypt(columns["id_number_enc"], b"feed_rosters.id_number_enc") == person(4)
    assert cipher.decrypt(columns["household_head_id_number_enc"], b"feed_rosters.household_head_id_number_enc") == (
        person(3)
    )
    assert columns["programme"] == "dibao"
    assert columns["status"] == "active"
    assert columns["until"] is None
    assert columns["since"] == row.since  # ISO text, as SQLAlchemy's Date stores it on SQLite


def test_the_verdict_cache_follows_the_calendar(tokenizer: Tokenizer, cipher: FieldCipher) -> None:
    cache = ValueCache()
    rows = [valid_row(kind_by_code("death"), 0, died_on="2025-07-02")]
    assert validate("death", rows, tokenizer, cipher, cache=cache).rejections[0].problem == "future"
    tomorrow = validate("death", rows, tokenizer, cipher, cache=cache, today=TODAY + dt.timedelta(days=1))
    assert tomorrow.rejections == []


def test_domain_examples_take_the_fast_path() -> None:
    births = _birth_dates(TODAY)
    assert fast_id_check("11010519491231002X", births)
    assert fast_id_check("440308199901101512", births)
    assert not fast_id_check("610104620927690", births)  # legacy: the full validator upgrades it
    assert not fast_id_check("810000199408230021", births)  # HK permits: the full validator knows them


@settings(deadline=None)  # the first example builds the set of birth dates
@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_the_fast_path_accepts_nothing_the_validator_refuses(first17: str, check: str) -> None:
    births = _birth_dates(TODAY)
    for candidate in (first17 + check, first17 + id_check_character(first17)):
        if fast_id_check(candidate, births):
            assert validate_id_number(candidate, today=TODAY) == candidate
        if candidate[17] != id_check_character(first17):
            assert not fast_id_check(candidate, births)


@settings(deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.sampled_from(["130629", "110105", "650102"]))
def test_the_fast_path_takes_every_valid_mainland_number(born: dt.date, region: str) -> None:
    first17 = f"{region}{born:%Y%m%d}123"
    number = first17 + id_check_character(first17)
    assert fast_id_check(number, _birth_dates(TODAY))
    validate_id_number(number, today=TODAY)


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(person, st.integers(0, 10**6)),
            st.text(alphabet="0123456789X x", min_size=15, max_size=19),
            st.sampled_from(["81000019940823002", "810000199408230021", "\uff11" * 18, ""]),
        ),
        max_size=12,
    )
)
def test_a_column_takes_the_fast_path_exactly_when_each_number_would(numbers: list[str]) -> None:
    births = _birth_dates(TODAY)
    assert fast_id_column(numbers, births) == (bool(numbers) and all(fast_id_check(n, births) for n in numbers))


def test_numbers_that_only_line_up_when_joined_are_judged_one_by_one() -> None:
    births = _birth_dates(TODAY)
    first, second = person(1), person(2)
    assert fast_id_column([first, second], births)
    assert not fast_id_column([first[:17], first[17] + second], births)  # 17 + 19 characters, the same when joined


def test_a_refused_number_is_never_quoted_whole(tokenizer: Tokenizer, cipher: FieldCipher) -> None:
    number = person(9)
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    _, _, reason = one_bad("death", tokenizer, cipher, region_code=number)
    assert number not in reason
    _, _, reason = one_bad("death", tokenizer, cipher, id_number=wrong)
    assert wrong not in reason and "********" in reason
    with pytest.raises(InvalidArgument):
        validate_id_number(wrong)


def test_columns_are_read_with_the_collector_paused_and_it_resumes_as_it_was() -> None:
    import gc

    kind = kind_by_code("death")
    rows = [valid_row(kind, n) for n in range(3)]
    assert gc.isenabled()
    columns = as_columns(kind, rows)
    assert gc.isenabled()
    assert columns[0] == [row.id_number for row in rows] and len(columns) == len(kind.fields)
    gc.disable()
    try:
        as_columns(kind, rows)
        assert not gc.isenabled()  # paused by someone else: left paused
    finally:
        gc.enable()


@pytest.mark.parametrize("amount", [440308199901101512, -440308199901101512])
def test_an_id_number_in_an_amount_field_is_not_quoted_whole(
    amount: int, tokenizer: Tokenizer, cipher: FieldCipher
) -> None:
    # a column mapped the wrong way round sends ID numbers as amounts: the refusal must not repeat them
    name, problem, reason = one_bad("medical_settlement", tokenizer, cipher, total_fen=amount)
    assert (name, problem) == ("total_fen", "range")
    assert "440308199901101512" not in reason and "********" in reason

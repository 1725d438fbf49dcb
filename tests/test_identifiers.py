"""Identifier validation: file vectors (tests/vectors/identifiers/) plus properties checked with hypothesis."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hub import config
from hub.errors import InvalidArgument
from hub.identifiers import (
    HUB_MEMBER_ID,
    PROVINCES,
    USCC_CHARSET,
    id_check_character,
    mask_id_number,
    parse_id_number,
    upgrade_legacy_id,
    uscc_check_character,
    validate_id_number,
    validate_member_id,
    validate_region_code,
    validate_region_prefix,
    validate_uscc,
)

VECTORS = Path(__file__).parent / "vectors" / "identifiers"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["note"] for case in cases]


ID_VECTORS = load("id_numbers.json")
TODAY = dt.date.fromisoformat(ID_VECTORS["today"])
USCC_VECTORS = load("uscc.json")
REGION_VECTORS = load("region_codes.json")
MEMBER_VECTORS = load("member_ids.json")


def assert_rejected(call: Callable[[], object], problem: str, field: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        call()
    error = caught.value
    assert error.reason == "INVALID_ARGUMENT"
    assert error.metadata["problem"] == problem, error.explanation
    assert error.metadata["field"] == field
    return error


# --- citizen ID numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ID_VECTORS["valid"], ids=ids(ID_VECTORS["valid"]))
def test_valid_id_numbers(case: dict[str, Any]) -> None:
    assert validate_id_number(case["input"], today=TODAY) == case["number"]
    citizen = parse_id_number(case["input"], today=TODAY)
    assert citizen.number == case["number"]
    assert citizen.region_code == case["region_code"]
    assert citizen.birth_date == dt.date.fromisoformat(case["birth_date"])
    assert citizen.sex == case["sex"]


@pytest.mark.parametrize("case", ID_VECTORS["invalid"], ids=ids(ID_VECTORS["invalid"]))
def test_invalid_id_numbers(case: dict[str, Any]) -> None:
    error = assert_rejected(
        lambda: validate_id_number(case["input"], "applicant", today=TODAY), case["problem"], "applicant"
    )
    raw = case["input"].strip()
    if len(raw) >= 14:
        assert raw not in str(error) and raw.upper() not in str(error)
        assert "****" in error.explanation or case["problem"] == "length"


def test_future_birth_date_uses_the_real_date_by_default() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    first17 = "440308" + tomorrow.strftime("%Y%m%d") + "001"
    assert_rejected(lambda: validate_id_number(first17 + id_check_character(first17)), "birth_date", "id_number")


def test_mask_keeps_address_code_and_last_four() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("610104620927690") == "610104*****7690"
    assert mask_id_number("1234567890") == "**********"


def test_citizen_id_repr_does_not_show_the_number() -> None:
    citizen = parse_id_number("440308199901101512")
    assert "440308199901101512" not in repr(citizen)
    assert "440308********1512" in repr(citizen)


def test_upgrade_legacy_id() -> None:
    assert upgrade_legacy_id("610104620927690") == "610104196209276908"
    assert_rejected(lambda: upgrade_legacy_id("61010462092769"), "format", "id_number")


def test_check_character_needs_17_digits() -> None:
    assert id_check_character("11010519491231002") == "X"
    assert_rejected(lambda: id_check_character("1101051949123100"), "charset", "id_number")
    assert_rejected(lambda: id_check_character("1101051949123100A"), "charset", "id_number")


@st.composite
def first17_with_real_birth_date(
    draw: st.DrawFn, earliest: dt.date = dt.date(1900, 1, 1), latest: dt.date = TODAY
) -> str:
    province = draw(st.sampled_from(sorted(PROVINCES - {"71", "81", "82"})))
    rest = draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(earliest, latest))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    return f"{province}{rest}{born:%Y%m%d}{sequence}"


@given(first17_with_real_birth_date())
@example("11010519491231002")
def test_any_17_digits_with_computed_check_character_validate(first17: str) -> None:
    number = first17 + id_check_character(first17)
    assert validate_id_number(number, today=TODAY) == number


@given(st.text("0123456789", min_size=17, max_size=17))
def test_correct_check_character_never_fails_on_the_check(first17: str) -> None:
    number = first17 + id_check_character(first17)
    try:
        validate_id_number(number, today=TODAY)
    except InvalidArgument as error:
        assert error.metadata["problem"] in {"region", "birth_date"}


@given(first17_with_real_birth_date(), st.data())
def test_any_single_character_change_is_rejected(first17: str, data: st.DataObject) -> None:
    number = first17 + id_check_character(first17)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c.upper() != number[position]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidArgument) as caught:
        validate_id_number(changed, today=TODAY)
    assert changed.strip() not in str(caught.value)


@given(first17_with_real_birth_date(latest=dt.date(1999, 12, 31)))
def test_upgrade_then_validate_round_trips(first17: str) -> None:
    legacy = first17[:6] + first17[8:]
    upgraded = upgrade_legacy_id(legacy)
    assert upgraded[:17] == first17
    assert validate_id_number(upgraded, today=TODAY) == upgraded
    assert validate_id_number(legacy, today=TODAY) == upgraded


# --- division codes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REGION_VECTORS["codes"]["valid"], ids=ids(REGION_VECTORS["codes"]["valid"]))
def test_valid_region_codes(case: dict[str, Any]) -> None:
    assert validate_region_code(case["input"]) == case["code"]


@pytest.mark.parametrize("case", REGION_VECTORS["codes"]["invalid"], ids=ids(REGION_VECTORS["codes"]["invalid"]))
def test_invalid_region_codes(case: dict[str, Any]) -> None:
    assert_rejected(lambda: validate_region_code(case["input"]), case["problem"], "region_code")


@pytest.mark.parametrize("case", REGION_VECTORS["prefixes"]["valid"], ids=ids(REGION_VECTORS["prefixes"]["valid"]))
def test_valid_region_prefixes(case: dict[str, Any]) -> None:
    assert validate_region_prefix(case["input"]) == case["code"]


@pytest.mark.parametrize("case", REGION_VECTORS["prefixes"]["invalid"], ids=ids(REGION_VECTORS["prefixes"]["invalid"]))
def test_invalid_region_prefixes(case: dict[str, Any]) -> None:
    assert_rejected(lambda: validate_region_prefix(case["input"]), case["problem"], "jurisdiction")


@given(st.sampled_from(sorted(PROVINCES - {"81", "82"})), st.integers(1, 70), st.integers(0, 99))
def test_every_province_prefecture_county_shape_is_accepted(province: str, prefecture: int, county: int) -> None:
    code = f"{province}{prefecture:02d}{county:02d}"
    assert validate_region_code(code) == code
    assert validate_region_prefix(code[:4]) == code[:4]


# --- unified social credit codes --------------------------------------------------------------------------


@pytest.mark.parametrize("case", USCC_VECTORS["valid"], ids=ids(USCC_VECTORS["valid"]))
def test_valid_uscc(case: dict[str, Any]) -> None:
    assert validate_uscc(case["input"]) == case["code"]


@pytest.mark.parametrize("case", USCC_VECTORS["invalid"], ids=ids(USCC_VECTORS["invalid"]))
def test_invalid_uscc(case: dict[str, Any]) -> None:
    assert_rejected(lambda: validate_uscc(case["input"], "sender"), case["problem"], "sender")


uscc_first17 = st.text(USCC_CHARSET, min_size=17, max_size=17)


@given(uscc_first17)
def test_any_17_characters_with_computed_check_validate(first17: str) -> None:
    assert validate_uscc(first17 + uscc_check_character(first17)) == first17 + uscc_check_character(first17)


@given(uscc_first17, st.data())
def test_any_single_uscc_change_is_rejected(first17: str, data: st.DataObject) -> None:
    code = first17 + uscc_check_character(first17)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c.upper() != code[position]))
    with pytest.raises(InvalidArgument):
        validate_uscc(code[:position] + replacement + code[position + 1 :])


# --- member ids -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", MEMBER_VECTORS["valid"], ids=ids(MEMBER_VECTORS["valid"]))
def test_valid_member_ids(case: dict[str, Any]) -> None:
    assert validate_member_id(case["input"]) == tuple(case["parts"])


@pytest.mark.parametrize("case", MEMBER_VECTORS["invalid"], ids=ids(MEMBER_VECTORS["invalid"]))
def test_invalid_member_ids(case: dict[str, Any]) -> None:
    assert_rejected(lambda: validate_member_id(case["input"]), case["problem"], "member_id")


def test_the_special_member_id_is_the_configured_hub_id() -> None:
    assert HUB_MEMBER_ID == config.HUB_MEMBER_ID
    assert validate_member_id(config.HUB_MEMBER_ID) == (config.HUB_MEMBER_ID, "")


@pytest.mark.parametrize(
    "validate",
    [validate_uscc, validate_region_code, validate_region_prefix, validate_member_id],
    ids=["uscc", "region_code", "region_prefix", "member_id"],
)
@pytest.mark.parametrize("number", ["440308199901101512", "11010519491231002X", "610104620927690"])
def test_an_id_number_in_the_wrong_field_is_not_echoed(validate: Callable[[str], object], number: str) -> None:
    for value in (number, f"91110000600037341L/{number}X", f" {number.lower()} "):
        with pytest.raises(InvalidArgument) as caught:
            validate(value)
        assert number not in str(caught.value) and number.lower() not in str(caught.value)

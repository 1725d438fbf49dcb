"""Properties of citizen ID validation (GB 11643) beyond the vectors in ``tests/test_identifiers.py``: what any
input yields, which typing errors the check character catches, what a number says, and which field the hub's
edge validation names when one number among many is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from hub import services, validation
from hub.errors import InvalidArgument
from hub.identifiers import PROVINCES, id_check_character, parse_id_number, validate_id_number
from hub.v1 import verification_pb2 as v

TODAY = dt.date(2026, 1, 1)
PROBLEMS = {"length", "charset", "region", "birth_date", "check_character", "format"}
DIGITS = "0123456789"


@st.composite
def id_parts(draw: st.DrawFn, latest: dt.date = dt.date(2020, 12, 31)) -> tuple[str, dt.date, str]:
    """(address code, birth date, 3-digit sequence) of a number that must validate."""
    province = draw(st.sampled_from(sorted(PROVINCES - {"71", "81", "82"})))
    address = province + draw(st.text(DIGITS, min_size=4, max_size=4))
    return address, draw(st.dates(dt.date(1900, 1, 1), latest)), draw(st.text(DIGITS, min_size=3, max_size=3))


def number_of(address: str, born: dt.date, sequence: str) -> str:
    first17 = f"{address}{born:%Y%m%d}{sequence}"
    return first17 + id_check_character(first17)


@given(st.text(max_size=24))
@example(" 11010519491231002x\t")
@example("610104620927690")
@example("１１０１０５１９４９１２３１００２Ｘ")  # full-width digits: not ASCII
def test_any_text_is_either_a_normalised_number_or_a_named_refusal(value: str) -> None:
    try:
        number = validate_id_number(value, "person.id_number", today=TODAY)
    except InvalidArgument as error:
        assert error.field == "person.id_number"
        assert error.metadata["problem"] in PROBLEMS
        typed = value.strip().upper()
        if sum(c.isdigit() for c in typed) >= 11:  # enough digits to identify someone
            assert typed not in str(error).upper(), "a refusal echoed the number"
        return
    assert len(number) == 18 and number.isascii()
    assert number[17] == id_check_character(number[:17])
    assert validate_id_number(number, today=TODAY) == number, "normalising twice changes nothing"
    stripped = value.strip().upper()
    assert number == stripped or (len(stripped) == 15 and number == stripped[:6] + "19" + stripped[6:] + number[17])


@given(id_parts(), st.data())
def test_swapping_two_neighbouring_digits_is_always_caught(
    parts: tuple[str, dt.date, str], data: st.DataObject
) -> None:
    """ISO 7064 MOD 11-2 catches every transposition of adjacent different digits (weights differ mod 11)."""
    number = number_of(*parts)
    i = data.draw(st.integers(0, 15))
    assume(number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    with pytest.raises(InvalidArgument):
        validate_id_number(swapped, today=TODAY)


@given(id_parts(), st.sampled_from(["", " ", "\t", "\n "]))
def test_case_and_surrounding_space_do_not_matter(parts: tuple[str, dt.date, str], space: str) -> None:
    number = number_of(*parts)
    assert validate_id_number(f"{space}{number.lower()}{space}", today=TODAY) == number


@given(id_parts())
def test_a_number_says_where_when_and_who(parts: tuple[str, dt.date, str]) -> None:
    address, born, sequence = parts
    parsed = parse_id_number(number_of(*parts), today=TODAY)
    assert parsed.region_code == address and parsed.birth_date == born
    assert parsed.sex == ("male" if int(sequence[2]) % 2 else "female")
    assert parsed.number not in repr(parsed)


@given(st.lists(id_parts(), min_size=1, max_size=6), st.data())
def test_edge_validation_names_the_one_wrong_number_among_many(
    people: list[tuple[str, dt.date, str]], data: st.DataObject
) -> None:
    numbers = [number_of(*parts) for parts in people]
    inquiry = v.AssistanceInquiry(persons=[v.Person(id_number=n.lower()) for n in numbers])
    assert validation.subjects(services.ASSISTANCE_INQUIRY, inquiry) == numbers
    wrong = data.draw(st.integers(0, len(numbers) - 1))
    check = numbers[wrong][17]
    inquiry.persons[wrong].id_number = numbers[wrong][:17] + ("0" if check != "0" else "1")
    with pytest.raises(InvalidArgument) as raised:
        validation.subjects(services.ASSISTANCE_INQUIRY, inquiry)
    assert raised.value.field == f"persons[{wrong}].id_number"
    assert raised.value.metadata["problem"] == "check_character"
    assert numbers[wrong][:17] not in str(raised.value)

"""Identifiers validated at the edge: citizen ID numbers, division codes, credit codes, member ids.

Every check raises ``hub.errors.InvalidArgument`` naming the field, with an explanation a bureau officer
can act on and ``metadata["problem"]`` saying which rule failed (``length``, ``charset``, ``region``,
``birth_date``, ``check_character``, ``format``). An explanation never echoes a full ID number: it shows
``mask_id_number(value)`` (``110105********002X``).

- Citizen ID number (公民身份号码, GB 11643-1999): address code, birth date, sequence, check character.
  Legacy 15-digit numbers are upgraded to 18 digits; HK/Macao/Taiwan residence permits (810000/820000/830000)
  share the format.
- Administrative division code (行政区划代码, GB/T 2260): the list changes every year and old records keep
  retired codes, so the check is structural (province prefix, plausible prefecture and county parts), not a
  lookup in one year's list.
- Unified social credit code (统一社会信用代码, GB 32100-2015): charset and check character.
- Member id: ``<USCC>`` or ``<USCC>/<subsystem>``, or the hub itself (``hub``).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Literal

from hub.errors import InvalidArgument

#: GB/T 2260 province-level prefixes, Taiwan (71), Hong Kong (81) and Macao (82) included.
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"}
    | {"43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)
#: Address codes of HK/Macao/Taiwan residents' residence permits (港澳台居民居住证); 83 is not a GB/T 2260 province.
PERMIT_ADDRESS_CODES = frozenset({"810000", "820000", "830000"})
_ID_PROVINCES = PROVINCES | {"83"}
_PERMIT_PROVINCES = frozenset({"71", "81", "82", "83"})  # no subdivisions in an ID number's address code

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_ASCII_OFFSET = ord("0") * sum(_ID_WEIGHTS)  # weights applied to ASCII codes, minus what the '0's add
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: The hub's own member id (same as ``hub.config.HUB_MEMBER_ID``; not imported to keep this module light).
HUB_MEMBER_ID = "hub"
_SUBSYSTEM = re.compile(r"[a-z0-9_-]{1,40}", re.ASCII)

Sex = Literal["male", "female"]


def _invalid(field: str, problem: str, explanation: str) -> InvalidArgument:
    return InvalidArgument(field, explanation, problem=problem)


def _shown(value: str) -> str:
    """``value`` as an explanation may quote it: masked if it has enough digits to be an ID number typed into
    the wrong field."""
    return mask_id_number(value) if sum(c.isdigit() for c in value) >= 14 else value


# --- citizen ID numbers ---------------------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """``110105********002X``: keep the address code and the last four, hide the rest (for logs and messages).

    Values too short to keep 10 characters and still hide at least 4 are hidden entirely.
    """
    if len(value) < 14:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def id_check_character(first17: str) -> str:
    """The GB 11643-1999 check character (``0``–``9`` or ``X``) of the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise _invalid("id_number", "charset", "the first 17 characters of an ID number must be digits")
    return _ID_CHECK[(sum(map(operator.mul, first17.encode("ascii"), _ID_WEIGHTS)) - _ID_ASCII_OFFSET) % 11]


def upgrade_legacy_id(value15: str) -> str:
    """A 15-digit (pre-1999) number as 18 digits: century ``19`` after the address code, then the check character.

    Only the form is converted; ``validate_id_number`` also checks the date and address code.
    """
    if len(value15) != 15 or not (value15.isascii() and value15.isdigit()):
        raise _invalid("id_number", "format", f"{mask_id_number(value15)} is not a 15-digit legacy ID number")
    first17 = value15[:6] + "19" + value15[6:]
    return first17 + id_check_character(first17)


def validate_id_number(value: str, field: str = "id_number", *, today: dt.date | None = None) -> str:
    """The normalised 18-character number, or ``InvalidArgument``.

    Surrounding whitespace is ignored, a final ``x`` is upper-cased, a 15-digit legacy number is upgraded.
    ``today`` (default: today in China) bounds the birth date.
    """
    number = value.strip().upper()
    if len(number) not in (15, 18):
        raise _invalid(
            field, "length", f"an ID number has 18 characters (15 for an old number); this one has {len(number)}"
        )
    body = number if len(number) == 15 else number[:17]
    if not (body.isascii() and body.isdigit()) or not (len(number) == 15 or number[17] in _ID_CHECK):
        problem = "an ID number is digits only, ending in a digit or X"
        raise _invalid(field, "charset", f"{mask_id_number(number)}: {problem}")
    if len(number) == 15:
        number = upgrade_legacy_id(number)
    address = number[:6]
    if address[:2] not in _ID_PROVINCES or (address[:2] in _PERMIT_PROVINCES and address[2:] != "0000"):
        problem = f"{address} is not an address code of any province"
        raise _invalid(field, "region", f"{mask_id_number(number)}: {problem}")
    _birth_date(number, field, today)
    if number[17] != id_check_character(number[:17]):
        problem = "the check character does not match; probably mistyped"
        raise _invalid(field, "check_character", f"{mask_id_number(number)}: {problem}")
    return number


def _birth_date(number: str, field: str, today: dt.date | None) -> dt.date:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        problem = "the birth date part is not a real date"
        raise _invalid(field, "birth_date", f"{mask_id_number(number)}: {problem}") from None
    if born < _EARLIEST_BIRTH or born > (today or dt.datetime.now(_CHINA).date()):
        problem = "the birth date is before 1900 or in the future"
        raise _invalid(field, "birth_date", f"{mask_id_number(number)}: {problem}")
    return born


@dataclass(frozen=True)
class CitizenId:
    """A validated ID number and what it says. ``repr`` masks the number so it is safe to log."""

    number: str
    region_code: str
    birth_date: dt.date
    sex: Sex

    def __repr__(self) -> str:
        return (
            f"CitizenId(number={mask_id_number(self.number)!r}, region_code={self.region_code!r}, "
            f"birth_date={self.birth_date!r}, sex={self.sex!r})"
        )


def parse_id_number(value: str, field: str = "id_number", *, today: dt.date | None = None) -> CitizenId:
    """Validate, then split into address code, birth date and sex (odd sequence digit = male)."""
    number = validate_id_number(value, field, today=today)
    born = _birth_date(number, field, today)
    sex: Sex = "male" if int(number[16]) % 2 else "female"
    return CitizenId(number=number, region_code=number[:6], birth_date=born, sex=sex)


# --- administrative division codes ------------------------------------------------------------------------


def _check_division_parts(code: str, field: str) -> None:
    """Province known; prefecture 00–70 or 90 (county-level units under the province); a province-level
    code (``xx00``) has no county part, except Hong Kong and Macao, whose districts are numbered directly."""
    if code[:2] not in PROVINCES:
        raise _invalid(field, "region", f"{code} does not start with a province code (11–65, 71, 81, 82)")
    if len(code) >= 4:
        prefecture = int(code[2:4])
        if not (prefecture <= 70 or prefecture == 90):
            raise _invalid(field, "region", f"{code}: {code[2:4]} is not a prefecture number (00–70 or 90)")
        if len(code) == 6 and prefecture == 0 and code[4:] != "00" and code[:2] not in {"81", "82"}:
            raise _invalid(field, "region", f"{code}: a province-level code ends in 0000")


def _division_digits(value: str, field: str, lengths: tuple[int, ...], what: str) -> str:
    code = value.strip()
    if len(code) not in lengths or not (code.isascii() and code.isdigit()):
        raise _invalid(field, "format", f"{_shown(code)!r} is not {what}")
    _check_division_parts(code, field)
    return code


def validate_region_code(value: str, field: str = "region_code") -> str:
    """A 6-digit GB/T 2260 code (e.g. ``130629``), structurally checked; surrounding whitespace is ignored."""
    return _division_digits(value, field, (6,), "a 6-digit administrative division code")


def validate_region_prefix(value: str, field: str = "jurisdiction") -> str:
    """A jurisdiction: the 2-, 4- or 6-digit prefix of division codes (province, prefecture or county)."""
    return _division_digits(value, field, (2, 4, 6), "a 2-, 4- or 6-digit administrative division prefix")


# --- unified social credit codes --------------------------------------------------------------------------


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise _invalid("uscc", "charset", f"the first 17 characters must come from {USCC_CHARSET}")
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str, field: str = "uscc") -> str:
    """The normalised (stripped, upper-case) 18-character code, or ``InvalidArgument``."""
    code = value.strip().upper()
    if len(code) != 18:
        raise _invalid(
            field, "length", f"a unified social credit code has 18 characters; {_shown(code)!r} has {len(code)}"
        )
    wrong = sorted({c for c in code if c not in _USCC_VALUES})
    if wrong:
        raise _invalid(
            field,
            "charset",
            f"{_shown(code)!r} contains {''.join(wrong)!r}; only {USCC_CHARSET} are used (no I, O, S, V, Z)",
        )
    if code[17] != uscc_check_character(code[:17]):
        raise _invalid(
            field, "check_character", f"{_shown(code)}: the check character does not match; probably mistyped"
        )
    return code


# --- member ids -------------------------------------------------------------------------------------------


def validate_member_id(value: str, field: str = "member_id") -> tuple[str, str]:
    """``(uscc, subsystem)`` of ``<USCC>`` or ``<USCC>/<subsystem>``; ``("hub", "")`` for the hub itself.

    Strict, not normalising: a member id is a key compared byte for byte, so ``" 9111…"`` or a lower-case
    code is refused rather than silently stored in a second spelling.
    """
    if value == HUB_MEMBER_ID:
        return HUB_MEMBER_ID, ""
    uscc, slash, subsystem = value.partition("/")
    if slash and not _SUBSYSTEM.fullmatch(subsystem):
        raise _invalid(field, "format", f"subsystem {_shown(subsystem)!r} must be 1–40 characters of a-z, 0-9, - or _")
    if uscc != uscc.strip().upper():
        raise _invalid(field, "format", f"{_shown(uscc)!r}: write the credit code in capitals, without spaces")
    validate_uscc(uscc, field)
    return uscc, subsystem

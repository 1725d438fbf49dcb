"""Row validation, column by column, so that checking a 2 M-row feed does not dominate loading it.

Each field of a chunk is checked as one column: low-cardinality fields (regions, dates, months, enumerations,
employers) are checked once per distinct value and remembered across chunks; amounts and text lengths by
``min``/``max``; ID numbers by a fast test of the common case (18 digits, a mainland province, a real birth
date, the right check character) with ``hub.identifiers.validate_id_number`` as the authority for everything
else, and for the reason a row is refused. A row is refused for the first field that fails, in declaration
order; its reason never quotes a full ID number.

Then the accepted rows' ID numbers become tokens (with the version's key) and, where the kind keeps them,
encrypted copies bound to their column.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from google.protobuf.message import Message

from hub.errors import InvalidArgument
from hub.feeds._kinds import FieldSpec, FieldType, NotAfter, RecordKind
from hub.feeds._meta import parse_date, quoted
from hub.identifiers import PROVINCES, validate_id_number, validate_region_code, validate_uscc
from hub.privacy import FieldCipher, Tokenizer

#: Largest amount accepted, in fen: ten billion yuan.
MAX_AMOUNT = 1_000_000_000_000
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2099, 12, 31)
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

_CHECK = "10X98765432"
#: ID numbers of these provinces take the fast path; Taiwan, Hong Kong, Macao and residence permits go to
#: ``validate_id_number``, which knows their special address codes.
_MAINLAND = frozenset(PROVINCES - {"71", "81", "82"})


def china_today(now: dt.datetime) -> dt.date:
    """Birth dates and event dates are judged by the calendar in China."""
    return now.astimezone(CHINA).date()


@functools.lru_cache(maxsize=2)
def _birth_dates(today: dt.date) -> frozenset[str]:
    """Every ``YYYYMMDD`` from 1900-01-01 to ``today``: a set lookup replaces a date parse per row."""
    days = (today - EARLIEST).days + 1
    return frozenset((EARLIEST + dt.timedelta(days=n)).strftime("%Y%m%d") for n in range(days))


def fast_id_check(value: str, births: frozenset[str]) -> bool:
    """True only for an 18-digit mainland ID number that ``validate_id_number`` accepts unchanged.

    The GB 11643 weights are 2^(17-i) mod 11 and 13 ≡ 2 (mod 11), so the weighted digit sum is
    ``2 * int(first17, 13) mod 11``: the check runs in C instead of a Python loop over 17 digits.
    """
    return (
        len(value) == 18
        and value.isascii()
        and value[:17].isdigit()
        and value[:2] in _MAINLAND
        and value[6:14] in births
        and value[17] == _CHECK[2 * int(value[:17], 13) % 11]
    )


def as_columns(kind: RecordKind, rows: Sequence[Message]) -> list[list[Any]]:
    """The rows' field values, one list per field of ``kind`` in declaration order.

    Reading a field off a message in a repeated field wraps that message in a Python object, so the
    rows are wrapped once and every field is read off the wrappers. The wrappers are container
    objects that the cyclic garbage collector tracks: 5,000 of them alive at once push it into
    collections that promote them and, every few chunks, into full collections that walk the whole
    hub's heap (a fifth of the validation time, measured). They hold no cycles and are freed by
    reference counting when this returns, so the collector is paused while they exist.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        wrappers = list(rows)
        columns = [list(map(attrgetter(spec.name), wrappers)) for spec in kind.fields]
        del wrappers  # freed before the collector resumes, never seen by it
    finally:
        if paused:
            gc.enable()
    return columns


#: 18 characters each, a mainland province, 15 digits, a digit or X: many numbers, joined, in one match.
_SHAPES = re.compile(rf"(?:(?:{'|'.join(sorted(_MAINLAND))})[0-9]{{15}}[0-9X])*", re.ASCII).fullmatch


def fast_id_column(values: list[str], births: frozenset[str]) -> bool:
    """``all(fast_id_check(v, births) for v in values)``, with the per-character work done in C.

    The shape of every number is one regular-expression match over the column joined (sound because every
    value is first known to be 18 characters long); what is left per number is the check character. A
    column with any other value is judged number by number.
    """
    if not values or min(map(len, values)) != 18 or max(map(len, values)) != 18 or not _SHAPES("".join(values)):
        return False
    return births.issuperset([v[6:14] for v in values]) and all(
        [v[17] == _CHECK[2 * int(v[:17], 13) % 11] for v in values]
    )


@dataclass(frozen=True)
class Rejection:
    """A refused row: ``row_number`` counts from 1 over the whole version."""

    row_number: int
    field: str
    problem: str
    reason: str


@dataclass(frozen=True)
class ValidatedChunk:
    row_numbers: list[int]
    #: records-table column → the accepted rows' stored values, in table column order
    columns: dict[str, list[Any]]
    rejections: list[Rejection]

    @property
    def accepted(self) -> int:
        return len(self.row_numbers)


_UNJUDGED = object()


@dataclass(frozen=True)
class _Bad:
    problem: str
    reason: str


def _bad(error: InvalidArgument) -> _Bad:
    reason = error.explanation.removeprefix(f"{error.field}: ")
    # A masked ID number keeps its last four characters as sent; PostgreSQL's text cannot hold a NUL among them.
    return _Bad(error.metadata.get("problem", "invalid"), reason.replace("\x00", "\\x00"))


class ValueCache:
    """Verdicts on low-cardinality values, shared by the chunks of every version an intake receives.

    Dates are judged against ``today``, so the whole cache starts afresh when the day changes; a field
    with implausibly many distinct values starts afresh too, keeping memory flat.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.today: dt.date | None = None
        self._fields: dict[tuple[str, str], dict[Any, Any]] = {}

    def start(self, today: dt.date) -> None:
        if today != self.today:
            self._fields.clear()
            self.today = today

    def verdicts(self, kind: RecordKind, spec: FieldSpec) -> dict[Any, Any]:
        verdicts = self._fields.setdefault((kind.code, spec.name), {})
        if len(verdicts) > self.limit:
            verdicts.clear()
        return verdicts


class RowValidator:
    """Validates, tokenises and encrypts the rows of one kind for one feed version."""

    def __init__(
        self,
        kind: RecordKind,
        tokenizer: Tokenizer,
        cipher: FieldCipher,
        *,
        token_version: int,
        today: dt.date,
        adapt_date: Callable[[dt.date], Any],
        cache: ValueCache,
    ) -> None:
        self.kind = kind
        self._tokenizer = tokenizer
        self._cipher = cipher
        self._token_version = token_version
        self._today = today
        self._adapt_date = adapt_date
        cache.start(today)
        self._cache = cache

    def validate(self, rows: Sequence[Message], first_row_number: int) -> ValidatedChunk:
        failed: dict[int, tuple[str, _Bad]] = {}
        values: dict[str, list[Any]] = {}
        fields = as_columns(self.kind, rows)
        count = len(fields[0]) if fields else 0
        for spec, raw in zip(self.kind.fields, fields, strict=True):
            values[spec.name] = self._check(spec, raw, failed)
        for rule in self.kind.checks:
            self._not_after(rule, values[rule.field], values[rule.limit], failed)
        keep = [i for i in range(count) if i not in failed] if failed else None
        columns: dict[str, list[Any]] = {}
        for spec in self.kind.fields:
            column = values[spec.name] if keep is None else [values[spec.name][i] for i in keep]
            if spec.type is FieldType.ID_NUMBER:
                columns[spec.column] = self._tokens(column)
                if spec.keep_raw:
                    columns[spec.raw_column] = self._encrypted(spec, column)
            else:
                columns[spec.column] = column
        indices = range(count) if keep is None else keep
        rejections = [
            Rejection(first_row_number + i, name, verdict.problem, verdict.reason)
            for i, (name, verdict) in sorted(failed.items())
        ]
        return ValidatedChunk([first_row_number + i for i in indices], columns, rejections)

    # --- one column at a time ---------------------------------------------------------------------------

    def _check(self, spec: FieldSpec, raw: list[Any], failed: dict[int, tuple[str, _Bad]]) -> list[Any]:
        if spec.type is FieldType.ID_NUMBER:
            return self._id_numbers(spec, raw, failed)
        if spec.type is FieldType.AMOUNT:
            return self._amounts(spec, raw, failed)
        if spec.type is FieldType.TEXT:
            return self._texts(spec, raw, failed)
        return self._by_value(spec, raw, failed)

    @staticmethod
    def _not_after(rule: NotAfter, lows: list[Any], highs: list[Any], failed: dict[int, tuple[str, _Bad]]) -> None:
        if None not in lows and None not in highs and not any(map(operator.gt, lows, highs)):
            return  # the common case, decided in C
        for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
            if low is not None and high is not None and low > high and i not in failed:
                failed[i] = (rule.field, _Bad("order", rule.explanation))

    def _id_numbers(self, spec: FieldSpec, raw: list[str], failed: dict[int, tuple[str, _Bad]]) -> list[Any]:
        births = _birth_dates(self._today)
        if fast_id_column(raw, births):
            return raw  # the common case: a clean column, decided mostly in C
        out: list[str | None] = []
        for i, value in enumerate(raw):
            # fast_id_check, inlined: this loop runs once per row of every feed
            if (
                len(value) == 18
                and value.isascii()
                and value[:17].isdigit()
                and value[:2] in _MAINLAND
                and value[6:14] in births
                and value[17] == _CHECK[2 * int(value[:17], 13) % 11]
            ):
                out.append(value)
                continue
            try:
                out.append(validate_id_number(value, spec.name, today=self._today))
            except InvalidArgument as error:
                failed.setdefault(i, (spec.name, _bad(error)))
                out.append(None)
        return out

    def _amounts(self, spec: FieldSpec, raw: list[int], failed: dict[int, tuple[str, _Bad]]) -> list[Any]:
        if raw and (min(raw) < 0 or max(raw) > MAX_AMOUNT):
            for i, value in enumerate(raw):
                # quoted: an ID number sent in an amount column is masked, not repeated
                if value < 0:
                    failed.setdefault(i, (spec.name, _Bad("range", f"{quoted(str(value))} is negative")))
                elif value > MAX_AMOUNT:
                    reason = f"{quoted(str(value))} is more than {MAX_AMOUNT:,}"
                    failed.setdefault(i, (spec.name, _Bad("range", reason)))
        return raw

    def _texts(self, spec: FieldSpec, raw: list[str], failed: dict[int, tuple[str, _Bad]]) -> list[Any]:
        lengths = list(map(len, raw))
        if lengths and (max(lengths) > spec.max_length or (spec.required and min(lengths) == 0)):
            for i, length in enumerate(lengths):
                if length > spec.max_length:
                    failed.setdefault(i, (spec.name, _Bad("length", f"longer than {spec.max_length} characters")))
                elif length == 0 and spec.required:
                    failed.setdefault(i, (spec.name, _Bad("missing", "is required")))
        if "\x00" in "".join(raw):  # PostgreSQL's text cannot hold U+0000: its COPY would fail the whole chunk
            for i, value in enumerate(raw):
                if "\x00" in value:
                    failed.setdefault(i, (spec.name, _Bad("charset", "contains a NUL character (U+0000)")))
        return raw if spec.required else [value or None for value in raw]

    def _by_value(self, spec: FieldSpec, raw: list[Any], failed: dict[int, tuple[str, _Bad]]) -> list[Any]:
        verdicts = self._cache.verdicts(self.kind, spec)
        judge = self._judge(spec)
        wrong = set()
        for value in set(raw):
            verdict = verdicts.get(value, _UNJUDGED)
            if verdict is _UNJUDGED:
                verdict = verdicts[value] = judge(value)
            if isinstance(verdict, _Bad):
                wrong.add(value)
        out = [verdicts[value] for value in raw]
        if wrong:
            for i, value in enumerate(raw):
                if value in wrong:
                    failed.setdefault(i, (spec.name, verdicts[value]))
                    out[i] = None
        return out

    def _judge(self, spec: FieldSpec) -> Callable[[Any], Any]:
        judges: dict[FieldType, Callable[[FieldSpec, Any], Any]] = {
            FieldType.REGION: self._region,
            FieldType.DATE: self._date,
            FieldType.MONTH: self._month,
            FieldType.ENUM: self._enum,
            FieldType.USCC: self._uscc,
        }
        return functools.partial(judges[spec.type], spec)

    # --- verdicts on one distinct value: the stored form, None when absent, or _Bad ---------------------------

    @staticmethod
    def _missing(spec: FieldSpec) -> _Bad | None:
        return _Bad("missing", "is required") if spec.required else None

    def _region(self, spec: FieldSpec, value: str) -> Any:
        if not value:
            return self._missing(spec)
        try:
            return validate_region_code(value, spec.name)
        except InvalidArgument as error:
            return _bad(error)

    def _date(self, spec: FieldSpec, value: str) -> Any:
        if not value:
            return self._missing(spec)
        try:
            day = parse_date(value, spec.name)
        except InvalidArgument as error:
            return _bad(error)
        return self._in_range(spec, day, value)

    def _month(self, spec: FieldSpec, value: str) -> Any:
        if not value:
            return self._missing(spec)
        if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdecimal() or not value.isascii():
            return _Bad("format", f"{quoted(value)} is not a month written YYYY-MM")
        try:
            day = dt.date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            return _Bad("date", f"{value!r} is not a real month")
        return self._in_range(spec, day, value)

    def _in_range(self, spec: FieldSpec, day: dt.date, value: str) -> Any:
        if not EARLIEST <= day <= LATEST:
            return _Bad("range", f"{value} is outside {EARLIEST}..{LATEST}")
        if spec.not_future and day > self._today:
            return _Bad("future", f"{value} is in the future")
        return self._adapt_date(day)

    def _enum(self, spec: FieldSpec, value: int) -> Any:
        if value == 0:
            return self._missing(spec)
        code = spec.codes.get(value)
        return code if code is not None else _Bad("enum", f"{value} is not a known value")

    def _uscc(self, spec: FieldSpec, value: str) -> Any:
        if not value:
            return self._missing(spec)
        try:
            return validate_uscc(value, spec.name)
        except InvalidArgument as error:
            return _bad(error)

    # --- what is stored for an ID number -------------------------------------------------------------------

    def _tokens(self, numbers: list[Any]) -> list[bytes]:
        # every number here came out of _id_numbers: canonical already
        return self._tokenizer.tokens_of_validated(self._token_version, numbers)

    def _encrypted(self, spec: FieldSpec, numbers: list[Any]) -> list[bytes]:
        aad = f"{self.kind.table}.{spec.raw_column}".encode()
        encrypt = self._cipher.encrypt
        blobs: dict[str, bytes] = {}  # one person, many rows (wages, settlements): encrypt once per chunk
        return [blobs.get(n) or blobs.setdefault(n, encrypt(n, aad)) for n in numbers]

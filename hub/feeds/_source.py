"""Feed rows from an agency's own files and tables: text or database values into the typed row messages.

Columns are named by default as the fields of the kind's row message in ``proto/hub/v1/feeds.proto`` (e.g.
``medical_settlement``: ``id_number, settlement_id, region_code, settled_on, care_kind, total_fen,
fund_paid_fen, out_of_pocket_fen``); a column map renames them (wire field → the agency's column). Values:

- dates ``YYYY-MM-DD``; also ``YYYY/MM/DD``, ``YYYY.MM.DD``, ``YYYYMMDD``, with or without a time of day;
- months ``YYYY-MM``; also ``YYYYMM``, ``YYYY/MM`` and any date (the month it falls in);
- amounts in integer fen, or in decimal yuan for the fields listed as such; an empty amount is 0;
- enumerations as the stored code (``inpatient``), the proto name (``CARE_KIND_INPATIENT``) or its number,
  or any of the agency's own codes through a value map (``{"住院": "inpatient"}``); empty means unset;
- everything else as text, trimmed.

What does not fit its field's type at all (an amount that is not a number, an enumeration value nobody
mapped) cannot be sent: that row is left out and reported locally with its row number in the source. Every
other check (ID numbers, region codes, real dates, ranges) is the hub's, which refuses rows one by one.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from hub.errors import InvalidArgument
from hub.feeds._kinds import FieldSpec, FieldType, RecordKind
from hub.feeds._meta import quoted
from hub.feeds._validate import Rejection

_SEPARATED_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T].*)?", re.ASCII)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ T].*)?", re.ASCII)
_MONTH = re.compile(r"(\d{4})[-/.]?(\d{1,2})", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_HUNDRED = Decimal(100)
#: Amounts travel as ``int64``: a larger number does not fit the field at all.
_INT64 = 2**63 - 1


class Unreadable(Exception):
    """A value that cannot be put into its field: the row is not sent."""

    def __init__(self, field: str, problem: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.problem, self.reason = field, problem, reason


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def date_text(value: Any) -> str:
    """A date as ``YYYY-MM-DD`` when it can be read as one; otherwise as given, for the hub to refuse."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return text
    match = _SEPARATED_DATE.fullmatch(text)
    if match:
        return f"{match[1]}-{int(match[3]):02d}-{int(match[4]):02d}"
    match = _COMPACT_DATE.fullmatch(text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else text


def month_text(value: Any) -> str:
    """A month as ``YYYY-MM`` when it can be read as one; otherwise as given."""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    text = _text(value)
    match = _MONTH.fullmatch(text)
    if match:
        return f"{match[1]}-{int(match[2]):02d}"
    day = date_text(text)
    return day[:7] if _ISO_DATE.fullmatch(day) else text


def _amount(name: str, in_yuan: bool) -> Callable[[Any], int]:
    unit = "yuan" if in_yuan else "fen"

    def fits(number: int, text: str) -> int:
        if -_INT64 <= number <= _INT64:
            return number
        raise Unreadable(name, "amount", f"{quoted(text)} is too large an amount")

    def convert(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and not in_yuan:
            return fits(value, str(value))
        text = _text(value).replace(",", "")
        if not text:
            return 0
        if not in_yuan and _INTEGER.fullmatch(text):
            return fits(int(text), text)
        try:
            number = Decimal(text) * (_HUNDRED if in_yuan else 1)
        except InvalidOperation:
            raise Unreadable(name, "amount", f"{quoted(text)} is not an amount in {unit}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise Unreadable(name, "amount", f"{quoted(text)} is not a whole number of fen")
        return fits(int(number), text)

    return convert


def _enum_values(kind: RecordKind, spec: FieldSpec, extra: Mapping[str, str]) -> dict[str, int]:
    """Every spelling of the field's values (stored code, proto name, number, the agency's own) → wire number."""
    descriptor = kind.row_type.DESCRIPTOR.fields_by_name[spec.name].enum_type
    assert descriptor is not None, f"{kind.code}.{spec.name} is declared ENUM"
    known: dict[str, int] = {}
    for value in descriptor.values:
        if value.number:
            known |= {value.name: value.number, str(value.number): value.number}
    known |= {code: number for number, code in spec.codes.items()}
    for source, target in extra.items():
        if target not in known:
            raise InvalidArgument(
                f"values.{spec.name}",
                f"maps {source!r} to {target!r}, which is none of {', '.join(spec.codes.values())}",
            )
        known[source] = known[target]
    return known


def _enum(kind: RecordKind, spec: FieldSpec, extra: Mapping[str, str]) -> Callable[[Any], int]:
    known = _enum_values(kind, spec, extra)

    def convert(value: Any) -> int:
        text = _text(value)
        if not text:
            return 0
        number = known.get(text)
        if number is None:
            number = known.get(text.upper()) or known.get(text.lower())
        if number is None:
            raise Unreadable(
                spec.name, "enum", f"{quoted(text)} is not a value of {spec.name} (map it under values.{spec.name})"
            )
        return number

    return convert


@dataclass(frozen=True)
class RowMapping:
    """How an agency's columns and codes become one record kind's rows."""

    kind: RecordKind
    #: wire field → the agency's column name (default: the field's own name)
    columns: Mapping[str, str] = field(default_factory=dict)
    #: wire field → {the agency's value → a wire value} for enumerations
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: amount fields given in yuan (decimal) rather than fen
    yuan: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        fields = {spec.name: spec for spec in self.kind.fields}
        for where, names in (("columns", self.columns), ("values", self.values), ("units", self.yuan)):
            for name in names:
                if name not in fields:
                    raise InvalidArgument(
                        f"{where}.{name}", f"is not a field of {self.kind.code} rows ({', '.join(fields)})"
                    )
        for name, extra in self.values.items():
            if fields[name].type is not FieldType.ENUM:
                raise InvalidArgument(f"values.{name}", "value maps are for enumeration fields")
            _enum_values(self.kind, fields[name], extra)
        for name in self.yuan:
            if fields[name].type is not FieldType.AMOUNT:
                raise InvalidArgument(f"units.{name}", "only amounts have units")

    def column(self, spec: FieldSpec) -> str:
        return self.columns.get(spec.name, spec.name)

    def reader(self, header: Sequence[str]) -> RowReader:
        """A converter for records laid out as ``header``; refuses a header that lacks a required column."""
        position = {name.strip(): i for i, name in enumerate(header)}
        missing = [self.column(s) for s in self.kind.fields if s.required and self.column(s) not in position]
        if missing:
            raise InvalidArgument(
                "columns",
                f"{self.kind.code} rows need the column(s) {', '.join(missing)}; the source has {', '.join(position)}",
            )
        plan = [(spec.name, position.get(self.column(spec)), self._converter(spec)) for spec in self.kind.fields]
        return RowReader(self.kind, plan)

    def _converter(self, spec: FieldSpec) -> Callable[[Any], Any]:
        if spec.type is FieldType.AMOUNT:
            return _amount(spec.name, spec.name in self.yuan)
        if spec.type is FieldType.ENUM:
            return _enum(self.kind, spec, self.values.get(spec.name, {}))
        if spec.type is FieldType.DATE:
            return date_text
        if spec.type is FieldType.MONTH:
            return month_text
        return _text


class RowReader:
    """One source record (values in header order) → one row message, or ``Unreadable``."""

    def __init__(self, kind: RecordKind, plan: list[tuple[str, int | None, Callable[[Any], Any]]]) -> None:
        self._row_type = kind.row_type
        self._plan = plan

    def __call__(self, record: Sequence[Any]) -> Message:
        values = {}
        width = len(record)
        for name, index, convert in self._plan:
            values[name] = convert(record[index] if index is not None and index < width else None)
        return self._row_type(**values)

    def rows(self, records: Iterable[Sequence[Any]]) -> Iterator[Message | Rejection]:
        """Each record's row, or a ``Rejection`` numbered by the record's position (from 1) if it cannot be sent."""
        for number, record in enumerate(records, start=1):
            try:
                yield self(record)
            except Unreadable as error:
                yield Rejection(number, error.field, error.problem, error.reason)


def _chinese_share(text: str) -> float:
    """Of the non-ASCII characters, the share that Chinese text is made of (ideographs, CJK and fullwidth marks)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    chinese = sum(0x3400 <= ord(c) <= 0x9FFF or 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF for c in wide)
    return chinese / len(wide)


def detect_encoding(path: Path, block: int = 1 << 20) -> str:
    """``utf-8-sig`` or ``gb18030`` (GBK's superset), whichever the file is written in.

    A file that is not valid UTF-8 is GBK. Short GBK text can also be valid UTF-8 (``住院`` encodes as two
    Hebrew and Armenian letters), so a file valid in both is read as the one in which it looks Chinese.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        sample = handle.read(block)
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        try:
            decoder.decode(sample)
            while data := handle.read(block):
                decoder.decode(data)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    as_utf8 = sample.decode("utf-8", errors="ignore")
    as_gbk = sample.decode("gb18030", errors="ignore")
    return "gb18030" if _chinese_share(as_gbk) > _chinese_share(as_utf8) else "utf-8-sig"


@contextlib.contextmanager
def open_csv(
    path: Path, *, encoding: str = "auto", delimiter: str = ","
) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """``(header, records)`` of a CSV file with a header row; ``encoding="auto"`` tells UTF-8 from GBK."""
    chosen = detect_encoding(path) if encoding == "auto" else encoding
    with path.open(newline="", encoding=chosen) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InvalidArgument("file", f"{path.name} is empty; a header row naming the columns comes first")
        if header:  # a byte-order mark read as text (the encoding named as plain utf-8): not part of the name
            header[0] = header[0].removeprefix("\ufeff")
        # A blank line, or one of bare delimiters (a spreadsheet's emptied rows), is no record.
        yield (
            [name.strip() for name in header],
            (record for record in reader if any(map(str.strip, record))),
        )

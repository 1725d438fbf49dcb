"""Agency rows into row messages: column maps, value forms, value maps, unsendable rows, CSV encodings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from hub.errors import InvalidArgument
from hub.feeds import Rejection, RowMapping, kind_by_code, open_csv
from hub.feeds._source import date_text, detect_encoding, month_text
from hub.v1 import feeds_pb2 as pb

SETTLEMENT = kind_by_code("medical_settlement")
HEADER = [spec.name for spec in SETTLEMENT.fields]
ROW = ["11010519491231002X", "JS1", "130629", "2025-06-03", "inpatient", "300", "200", "100"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-03", "2025-06-03"),
        ("2025/6/3", "2025-06-03"),
        ("2025.06.03", "2025-06-03"),
        ("20250603", "2025-06-03"),
        ("2025-06-03 14:30:00", "2025-06-03"),
        (dt.date(2025, 6, 3), "2025-06-03"),
        (dt.datetime(2025, 6, 3, 14, 30), "2025-06-03"),
        ("", ""),
        (None, ""),
        ("June 3rd", "June 3rd"),  # left as written: the hub refuses the row, naming it
    ],
)
def test_dates_in_agency_forms(value: object, expected: str) -> None:
    assert date_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06", "2025-06"),
        ("202506", "2025-06"),
        ("2025/6", "2025-06"),
        ("2025-06-30", "2025-06"),
        (dt.date(2025, 6, 30), "2025-06"),
    ],
)
def test_months_in_agency_forms(value: object, expected: str) -> None:
    assert month_text(value) == expected


def read(record: list[object], **mapping: object) -> pb.MedicalSettlementRow:
    row = RowMapping(SETTLEMENT, **mapping).reader(HEADER)(record)  # type: ignore[arg-type]
    assert isinstance(row, pb.MedicalSettlementRow)
    return row


def test_amounts_in_fen_and_in_yuan() -> None:
    row = read(["x", "JS1", "130629", "2025-06-03", "2", "1,234", 999, ""])
    assert (row.total_fen, row.fund_paid_fen, row.out_of_pocket_fen) == (1234, 999, 0)
    row = read(["x", "JS1", "130629", "2025-06-03", "2", "12.34", Decimal("10.5"), "0.01"], yuan=frozenset(HEADER[5:]))
    assert (row.total_fen, row.fund_paid_fen, row.out_of_pocket_fen) == (1234, 1050, 1)


@pytest.mark.parametrize("spelling", ["inpatient", "INPATIENT", "CARE_KIND_INPATIENT", "2", 2, "住院"])
def test_enumerations_by_code_name_number_or_the_agency_own_value(spelling: object) -> None:
    row = read([*ROW[:4], spelling, *ROW[5:]], values={"care_kind": {"住院": "inpatient"}})
    assert row.care_kind == pb.CARE_KIND_INPATIENT


def test_text_is_trimmed_and_columns_can_be_renamed_and_reordered() -> None:
    header = ["GRZF", "SFZH", "JSID", "CBD", "JSRQ", "YLLB", "ZFY", "TCZF"]
    names = dict(
        zip(
            [
                "out_of_pocket_fen",
                "id_number",
                "settlement_id",
                "region_code",
                "settled_on",
                "care_kind",
                "total_fen",
                "fund_paid_fen",
            ],
            header,
            strict=True,
        )
    )
    reader = RowMapping(SETTLEMENT, columns=names).reader(header)
    row = reader(["100", " 11010519491231002x ", "JS1", 130629, "20250603", "inpatient", "300", "200"])
    assert (row.id_number, row.region_code, row.settled_on, row.out_of_pocket_fen) == (
        "11010519491231002x",
        "130629",
        "2025-06-03",
        100,
    )


def test_rows_that_cannot_be_sent_become_numbered_rejections_without_the_number() -> None:
    reader = RowMapping(SETTLEMENT).reader(HEADER)
    records = [ROW, [*ROW[:5], "12 yuan", *ROW[6:]], [*ROW[:4], "surgery", *ROW[5:]], [*ROW[:5], "1.5", *ROW[6:]], ROW]
    out = list(reader.rows(records))
    assert [type(r).__name__ for r in out] == [
        "MedicalSettlementRow",
        "Rejection",
        "Rejection",
        "Rejection",
        "MedicalSettlementRow",
    ]
    rejections = [r for r in out if isinstance(r, Rejection)]
    assert [(r.row_number, r.field, r.problem) for r in rejections] == [
        (2, "total_fen", "amount"),
        (3, "care_kind", "enum"),
        (4, "total_fen", "amount"),
    ]
    assert "values.care_kind" in rejections[1].reason
    leaky = [*ROW[:5], "11010519491231002X", *ROW[6:]]  # an ID number in an amount column is masked in the reason
    [rejection] = list(reader.rows([leaky]))
    assert isinstance(rejection, Rejection) and "11010519491231002X" not in rejection.reason


def test_a_missing_required_column_is_named_and_optional_ones_may_be_absent() -> None:
    with pytest.raises(InvalidArgument, match="out_of_pocket_fen"):
        RowMapping(SETTLEMENT).reader(HEADER[:-1])
    employment = kind_by_code("employment")
    header = [s.name for s in employment.fields if s.required]
    row = RowMapping(employment).reader(header)(["11010519491231002X", "1", "130629", "2025-01-01", "500000"])
    assert row.ended_on == "" and row.employer_uscc == ""


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"columns": {"salary": "GZ"}}, "columns.salary"),
        ({"values": {"region_code": {"1": "x"}}}, "values.region_code"),
        ({"values": {"care_kind": {"21": "surgery"}}}, "values.care_kind"),
        ({"yuan": frozenset({"settled_on"})}, "units.settled_on"),
    ],
)
def test_a_mapping_that_cannot_apply_is_refused(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        RowMapping(SETTLEMENT, **mapping)  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("姓名,住院\n".encode("gbk"), "gb18030"),  # also valid UTF-8 (as Hebrew and Armenian letters)
        ("姓名,住院费用合计\n".encode("gbk"), "gb18030"),  # not valid UTF-8
        ("姓名,住院\n".encode(), "utf-8-sig"),
        ("\ufeff姓名,住院\n".encode(), "utf-8-sig"),
        (b"id_number,total_fen\n", "utf-8-sig"),
    ],
)
def test_encodings_are_told_apart(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "drop.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == encoding


def test_a_csv_file_gives_its_header_and_records(tmp_path: Path) -> None:
    path = tmp_path / "jsxx.csv"
    path.write_bytes(("\ufeff" + " 证件号码 ,金额\n11010519491231002X,300\n\n").encode())
    with open_csv(path) as (header, records):
        assert header == ["证件号码", "金额"]
        assert list(records) == [["11010519491231002X", "300"]]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidArgument, match="header row"), open_csv(empty):
        pass


@pytest.mark.parametrize(
    ("value", "yuan"),
    [("99999999999999999999", False), ("440308199901101512", True), ("-99999999999999999999", False)],
)
def test_an_amount_too_large_for_the_wire_is_left_out_not_a_crash(value: str, yuan: bool) -> None:
    # int64 on the wire: a bigger number used to raise ValueError out of the whole read, quoting the number
    mapping = RowMapping(SETTLEMENT, yuan=frozenset({"total_fen"}) if yuan else frozenset())
    out = list(mapping.reader(HEADER).rows([ROW, [*ROW[:5], value, *ROW[6:]]]))
    assert isinstance(out[0], pb.MedicalSettlementRow)
    rejection = out[1]
    assert isinstance(rejection, Rejection)
    assert (rejection.row_number, rejection.field, rejection.problem) == (2, "total_fen", "amount")
    assert value.lstrip("-") not in rejection.reason


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8"])
def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path: Path, encoding: str) -> None:
    # Excel's "CSV UTF-8" starts with a BOM; an operator who names the encoding must still find id_number
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + ",".join(HEADER) + "\n" + ",".join(ROW) + "\n").encode())
    with open_csv(path, encoding=encoding) as (header, records):
        assert header == HEADER
        [row] = list(RowMapping(SETTLEMENT).reader(header).rows(records))
    assert isinstance(row, pb.MedicalSettlementRow) and row.id_number == ROW[0]


def test_rows_with_nothing_in_them_are_blank_lines_too(tmp_path: Path) -> None:
    # spreadsheets export emptied rows as bare delimiters: they are not records of people with no ID number
    path = tmp_path / "excel.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(ROW) + "\n,,,,,,,\n  \n" + ",".join(ROW) + "\n,,,,,,,\n")
    with open_csv(path) as (_, records):
        assert list(records) == [ROW, ROW]

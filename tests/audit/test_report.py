"""The access report as a person reads it: a table whose columns stay in line with Chinese text in them."""

from __future__ import annotations

import datetime as dt
import unicodedata

from hub.audit import AccessEntry, render_access_report
from hub.audit._report import COLUMNS, display_width

WHEN = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def entry(seq: int, legal_basis: str, case_number: str) -> AccessEntry:
    return AccessEntry(
        seq=seq,
        recorded_at=WHEN,
        kind="request",
        asker="11110115MB0000007E",
        recipient="public-security@130629",
        service="hub.v1.Verification/HouseholdRegistration",
        purpose_code="dibao.application",
        legal_basis=legal_basis,
        case_number=case_number,
        consent_ref="",
        issued_at=WHEN,
        message_id=f"m-{seq}",
        outcome="ok",
    )


def test_display_width_counts_chinese_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("社会救助") == 8
    assert display_width("大兴民低保〔2026〕042号") == 23  # 〔 〕 are fullwidth brackets


def test_table_columns_line_up_in_display_columns_with_chinese_cells() -> None:
    entries = [
        entry(0, "社会救助暂行办法 第十一条、第五十八条", "大兴民低保〔2026〕042号"),
        entry(1, "law-7", "A-1"),
        entry(2, "个人信息保护法", "容民救〔2025〕2号"),
    ]
    lines = render_access_report(entries, "table", subject="110105********002X").splitlines()[2:]
    assert len(lines) == 4  # the header and three rows

    def column_starts(line: str) -> list[int]:
        """Display column where each cell after the legal basis starts (cells are separated by 2+ spaces)."""
        starts, at, previous = [], 0, "x"
        for position, char in enumerate(line):
            if char != " " and line[position - 2 : position] == "  " and previous == " ":
                starts.append(at)
            previous = char
            at += 2 if unicodedata.east_asian_width(char) in "WF" else 1  # as a terminal draws it
        return starts

    legal, case = COLUMNS.index("legal_basis"), COLUMNS.index("case_number")
    header = column_starts(lines[0])
    for row in lines[1:]:
        starts = column_starts(row)
        # the first row's legal basis has one space inside it, which the separator test does not count
        assert starts[legal - 1] == header[legal - 1] and starts[case - 1] == header[case - 1], row

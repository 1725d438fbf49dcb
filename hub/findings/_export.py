"""A bureau's findings as CSV or XLSX, with column names in Chinese and English (预警线索导出).

CSV is written UTF-8 with a byte-order mark, so spreadsheet programs show the Chinese; XLSX through openpyxl's
write-only mode, so memory stays flat however many findings there are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from hub.findings._book import Finding
from hub.findings._labels import PROGRAMMES, SEVERITIES, SIGNALS, STATUSES, label, title_of, yuan
from hub.findings._names import PersonNames

_CHINA = dt.timezone(dt.timedelta(hours=8))
#: Evidence values worth a column of their own, in the order an officer reads them.
_SUMMARY_KEYS = (
    "measured_fen",
    "above_fen",
    "at_most_fen",
    "total_fen",
    "household_size",
    "months",
    "count",
    "at_least",
    "records",
    "first_on",
    "latest_on",
    "programme",
    "cause",
    "since",
    "until",
    "monthly_amount_fen",
    "other_locality",
    "other_programme",
    "other_since",
    "other_until",
    "other_monthly_amount_fen",
)


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        if self is ExportFormat.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _china(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M")


#: What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def typed_text(value: str | None) -> str:
    """Free text an officer typed (a reason, a reviewer's name) as a cell that can only be text.

    A reason starting ``=`` would be a live formula in the spreadsheet a bureau opens (openpyxl writes it as one;
    Excel runs it from a CSV): a leading apostrophe keeps it the words that were typed.
    """
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def summary(evidence: Mapping[str, Any]) -> str:
    """``key=value`` of the values compared, for one cell."""
    return "; ".join(f"{k}={evidence[k]}" for k in _SUMMARY_KEYS if evidence.get(k) not in (None, "", {}))


def _versions(evidence: Mapping[str, Any]) -> str:
    feeds = evidence.get("feeds") or []
    versions = evidence.get("versions") or []
    return f"{','.join(map(str, feeds))} v{','.join(map(str, versions))}"


Column = tuple[str, Callable[[Finding], Any]]


def columns(names: PersonNames | None, titles: Mapping[str, str], today: dt.date) -> list[Column]:
    def shown(token: bytes | None) -> str:
        return names.show(token) if names is not None else ("" if token is None else "#" + token.hex()[:12])

    return [
        ("编号 ID", lambda f: f.id),
        ("规则 Rule", lambda f: f.rule),
        ("规则名称 Rule title", lambda f: title_of(titles, f.rule, f.region)),
        ("类别 Signal", lambda f: label(SIGNALS, f.signal.value)),
        ("严重程度 Severity", lambda f: label(SEVERITIES, f.severity)),
        ("地区 Locality", lambda f: f.locality),
        ("救助项目 Programme", lambda f: label(PROGRAMMES, f.programme)),
        ("户主身份证号 Household head ID", lambda f: shown(f.household)),
        ("对象身份证号 Person ID", lambda f: shown(f.person)),
        ("状态 Status", lambda f: label(STATUSES, f.status.value)),
        ("承办单位 Bureau", lambda f: f.bureau or ""),
        ("发现时间 Raised at", lambda f: _china(f.raised_at)),
        ("办理期限 Due on", lambda f: f.due_on.isoformat()),
        ("是否逾期 Overdue", lambda f: "是 yes" if f.overdue(today) else "否 no"),
        ("比对依据 Evidence", lambda f: summary(f.evidence)),
        ("数据版本 Feed versions", lambda f: _versions(f.evidence)),
        ("记录 Record keys", lambda f: ",".join(f.evidence.get("record_keys") or [f.evidence.get("record", "")])),
        ("核查人 Reviewer", lambda f: typed_text(f.reviewer)),
        ("核查时间 Reviewed at", lambda f: _china(f.reviewed_at)),
        ("理由 Reason", lambda f: typed_text(f.reason)),
        ("多发金额(元) Overpayment (yuan)", lambda f: yuan(f.overpayment_fen)),
    ]


def write_findings(
    findings: Iterable[Finding],
    target: Path | io.BytesIO,
    fmt: ExportFormat,
    *,
    names: PersonNames | None = None,
    titles: Mapping[str, str] | None = None,
    today: dt.date,
) -> int:
    """Write ``findings`` to ``target`` (a path, or a buffer); returns the number of rows."""
    cols = columns(names, titles or {}, today)
    if fmt is ExportFormat.CSV:
        return _csv(findings, target, cols, names)
    return _xlsx(findings, target, cols, names)


def _batches(findings: Iterable[Finding], names: PersonNames | None, size: int = 500) -> Iterable[list[Finding]]:
    batch: list[Finding] = []
    for finding in findings:
        batch.append(finding)
        if len(batch) >= size:
            yield _named(batch, names)
            batch = []
    if batch:
        yield _named(batch, names)


def _named(batch: list[Finding], names: PersonNames | None) -> list[Finding]:
    if names is not None:
        names.load([f.household for f in batch] + [f.person for f in batch])
    return batch


def _csv(findings: Iterable[Finding], target: Path | io.BytesIO, cols: list[Column], names: PersonNames | None) -> int:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([header for header, _ in cols])
    count = 0
    for batch in _batches(findings, names):
        for finding in batch:
            writer.writerow([get(finding) for _, get in cols])
            count += 1
    data = text.getvalue().encode("utf-8-sig")
    if isinstance(target, Path):
        target.write_bytes(data)
    else:
        target.write(data)
    return count


def _xlsx(findings: Iterable[Finding], target: Path | io.BytesIO, cols: list[Column], names: PersonNames | None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("预警线索 Findings")
    sheet.freeze_panes = "B2"
    header = []
    for title, _ in cols:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for batch in _batches(findings, names):
        for finding in batch:
            sheet.append([get(finding) for _, get in cols])
            count += 1
    workbook.save(target)
    return count

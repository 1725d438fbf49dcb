"""The access report for one person: who asked about them, when, through which service and why.

A person (or the bureau on their behalf) may ask which agencies processed their data (PIPL Art. 45).
The hub answers from the audit log's subject index, never from a raw ID number, and records that it
answered: ``access_report_record`` is the entry the caller appends in the same transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from hub.audit._record import AuditRecord, format_time
from hub.envelope import new_message_id

ACCESS_REPORT_SERVICE = "hub.v1.Audit/AccessReport"
#: PIPL Art. 45: the individual's right to consult and copy their personal information.
DEFAULT_LEGAL_BASIS = "个人信息保护法 第四十五条"
FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class AccessEntry:
    """One time the person's data crossed the hub."""

    seq: int
    recorded_at: dt.datetime
    kind: str
    asker: str
    recipient: str
    service: str
    purpose_code: str
    legal_basis: str
    case_number: str
    consent_ref: str
    issued_at: dt.datetime
    message_id: str
    outcome: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "seq": self.seq,
            "time": format_time(self.recorded_at),
            "kind": self.kind,
            "asker": self.asker,
            "recipient": self.recipient,
            "service": self.service,
            "purpose_code": self.purpose_code,
            "legal_basis": self.legal_basis,
            "case_number": self.case_number,
            "consent_ref": self.consent_ref,
            "issued_at": format_time(self.issued_at),
            "message_id": self.message_id,
            "outcome": self.outcome,
        }


def report_digest(entries: Sequence[AccessEntry]) -> bytes:
    """SHA-256 of the report's canonical JSON: the log commits to exactly what was disclosed."""
    text = json.dumps([e.as_dict() for e in entries], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).digest()


def access_report_record(
    token: bytes,
    entries: Sequence[AccessEntry],
    *,
    asker: str,
    purpose_code: str = "pipl.access_request",
    legal_basis: str = DEFAULT_LEGAL_BASIS,
    case_number: str = "",
    recipient: str = "hub",
    now: dt.datetime | None = None,
) -> AuditRecord:
    """The entry saying the hub answered an access report for ``token`` to ``asker`` (no envelope involved).

    Answers given through the ``Audit/AccessReport`` RPC are recorded from their envelope instead
    (``record_from_opened(..., kind="access_report", subject_tokens=[token])``).
    """
    message_id = new_message_id()
    return AuditRecord(
        kind="access_report",
        message_id=message_id,
        correlation_id=message_id,
        sender=asker,
        recipient=recipient,
        service=ACCESS_REPORT_SERVICE,
        purpose_code=purpose_code,
        legal_basis=legal_basis,
        case_number=case_number,
        issued_at=now or dt.datetime.now(dt.UTC),
        payload_sha256=report_digest(entries),
        subject_tokens=(token,),
        outcome="ok",
    )


COLUMNS = ("time", "asker", "service", "purpose_code", "legal_basis", "case_number", "consent_ref", "kind", "outcome")


def render_access_report(entries: Sequence[AccessEntry], fmt: str, *, subject: str) -> str:
    """The report as ``table`` (for a screen), ``csv`` or ``json``; ``subject`` is the masked ID number."""
    if fmt == "json":
        document = {"subject": subject, "entries": [e.as_dict() for e in entries]}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    rows = [[str(e.as_dict()[column]) for column in COLUMNS] for e in entries]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    widths = [max([len(column), *(display_width(row[i]) for row in rows)]) for i, column in enumerate(COLUMNS)]
    lines = [f"Access report for {subject}: {len(entries)} entries", ""]
    for row in [list(COLUMNS), *rows]:
        cells = (cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: a Chinese character (East Asian wide or fullwidth) takes two, so
    padding by ``len`` would push every column after a legal basis like 社会救助暂行办法 out of line."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)

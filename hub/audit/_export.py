"""Export the log as JSON Lines that a third party can verify offline with only the hub's public key.

Line 1 is a header; then one line per entry in sequence order; then the signed checkpoints::

    {"type": "header", "format": "hub.audit.export/v1", "origin": ..., "exported_at": ..., "tree_size": N, ...}
    {"type": "entry", "seq": 0, "recorded_at": ..., ..., "prev_hash": b64, "entry_hash": b64, "payload": b64|null}
    {"type": "checkpoint", "body": "<signed text>", "keyid": ..., "signature": b64}

Bytes are base64; times are the RFC 3339 strings the entry hash covers. Payloads (the signed message
bodies, which may hold personal data) are left out unless asked for: hashes suffice to verify.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select

from hub.audit._checkpoint import DEFAULT_ORIGIN, SignedCheckpoint
from hub.audit._log import ENTRIES, AuditLog, entry_from_row
from hub.audit._record import EPOCH, AuditEntry, AuditRecord, format_time, parse_time
from hub.errors import Malformed
from hub.store import Store

FORMAT = "hub.audit.export/v1"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{what} is not a base64 string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:
        raise Malformed(f"{what} is not valid base64") from None
    if _b64(decoded) != value:  # unused low bits set: another spelling of the same bytes
        raise Malformed(f"{what} is not canonical base64")
    return decoded


def entry_to_json(entry: AuditEntry, *, include_payload: bool) -> dict[str, Any]:
    record = entry.record
    return {
        "type": "entry",
        "seq": entry.seq,
        "recorded_at": format_time(entry.recorded_at),
        "kind": record.kind,
        "message_id": record.message_id,
        "correlation_id": record.correlation_id,
        "sender": record.sender,
        "recipient": record.recipient,
        "service": record.service,
        "purpose_code": record.purpose_code,
        "legal_basis": record.legal_basis,
        "case_number": record.case_number,
        "consent_ref": record.consent_ref,
        "issued_at": format_time(record.issued_at),
        "payload_sha256": _b64(record.payload_sha256),
        "signatures": [{"keyid": keyid, "sig": _b64(sig)} for keyid, sig in record.signatures],
        "subject_tokens": [_b64(token) for token in record.subject_tokens],
        "outcome": record.outcome,
        "prev_hash": _b64(entry.prev_hash),
        "entry_hash": _b64(entry.entry_hash),
        "payload": _b64(record.payload) if include_payload and record.payload is not None else None,
    }


ENTRY_KEYS = frozenset(
    entry_to_json(AuditEntry(0, EPOCH, bytes(32), bytes(32), AuditRecord("request", "")), include_payload=False)
)


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise Malformed(f"{key} is missing or not a string")
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate (a "\\ud800" escape): no UTF-8 spelling, so nothing to hash
        raise Malformed(f"{key} is not valid Unicode text") from None
    return value


def _time(obj: dict[str, Any], key: str) -> dt.datetime:
    text = _text(obj, key)
    try:
        value = parse_time(text)
    except ValueError:
        value = None
    if value is None or format_time(value) != text:
        raise Malformed(f"{key} is not an RFC 3339 UTC time with microseconds")
    return value


def _signature(value: Any) -> tuple[str, bytes]:
    if not isinstance(value, dict):
        raise Malformed("a signature is not an object")
    return _text(value, "keyid"), _unb64(value.get("sig"), "sig")


def entry_from_json(obj: dict[str, Any]) -> tuple[AuditEntry, bytes | None]:
    """Read an entry line back, with its payload if exported (not checked here: the verifier reports a
    mismatch itself). Raises ``Malformed`` (or ``InvalidArgument``) on anything out of shape."""
    if obj.keys() != ENTRY_KEYS:
        raise Malformed(f"an entry has exactly the fields {', '.join(sorted(ENTRY_KEYS))}")
    seq = obj.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise Malformed("seq is missing or not an integer")
    signatures = obj.get("signatures")
    tokens = obj.get("subject_tokens")
    if not isinstance(signatures, list) or not isinstance(tokens, list):
        raise Malformed("signatures and subject_tokens must be lists")
    recorded_at, issued_at = _time(obj, "recorded_at"), _time(obj, "issued_at")
    record = AuditRecord(
        kind=_text(obj, "kind"),
        message_id=_text(obj, "message_id"),
        correlation_id=_text(obj, "correlation_id"),
        sender=_text(obj, "sender"),
        recipient=_text(obj, "recipient"),
        service=_text(obj, "service"),
        purpose_code=_text(obj, "purpose_code"),
        legal_basis=_text(obj, "legal_basis"),
        case_number=_text(obj, "case_number"),
        consent_ref=_text(obj, "consent_ref"),
        issued_at=issued_at,
        payload_sha256=_unb64(obj.get("payload_sha256"), "payload_sha256"),
        signatures=tuple(_signature(s) for s in signatures),
        subject_tokens=tuple(_unb64(token, "a subject token") for token in tokens),
        outcome=_text(obj, "outcome"),
    )
    payload = obj.get("payload")
    entry = AuditEntry(
        seq=seq,
        recorded_at=recorded_at,
        prev_hash=_unb64(obj.get("prev_hash"), "prev_hash"),
        entry_hash=_unb64(obj.get("entry_hash"), "entry_hash"),
        record=record,
    )
    return entry, None if payload is None else _unb64(payload, "payload")


def checkpoint_to_json(checkpoint: SignedCheckpoint) -> dict[str, Any]:
    return {
        "type": "checkpoint",
        "body": checkpoint.body.decode(),
        "keyid": checkpoint.keyid,
        "signature": _b64(checkpoint.signature),
    }


CHECKPOINT_KEYS = frozenset({"type", "body", "keyid", "signature"})


def checkpoint_from_json(obj: dict[str, Any]) -> SignedCheckpoint:
    if obj.keys() != CHECKPOINT_KEYS:  # anything beside the signed body would pass for verified
        raise Malformed(f"a checkpoint has exactly the fields {', '.join(sorted(CHECKPOINT_KEYS))}")
    return SignedCheckpoint.from_body(
        _text(obj, "body").encode(), _text(obj, "keyid"), _unb64(obj.get("signature"), "signature")
    )


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    entries: int
    checkpoints: int


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def export(store: Store, path: Path, *, include_payloads: bool = False, batch_size: int = 1000) -> ExportSummary:
    """Write the whole log to ``path`` (atomically: a temporary file renamed at the end).

    Entries and checkpoints are cut at the size read first, so rows appended meanwhile never leave a
    checkpoint pointing past the exported entries.
    """
    path = Path(path)
    log = AuditLog(store)
    partial = path.with_name(path.name + ".partial")
    try:
        with store.session() as session, partial.open("w", encoding="utf-8", newline="\n") as out:
            size = log.size(session)
            checkpoints = log.checkpoints(session, max_size=size)
            header = {
                "type": "header",
                "format": FORMAT,
                "origin": checkpoints[-1].origin if checkpoints else DEFAULT_ORIGIN,
                "exported_at": format_time(dt.datetime.now(dt.UTC)),
                "tree_size": size,
                "payloads": include_payloads,
            }
            out.write(_line(header))
            statement = select(ENTRIES).where(ENTRIES.c.seq < size).order_by(ENTRIES.c.seq)
            for row in session.execute(statement.execution_options(yield_per=batch_size)):
                out.write(_line(_entry_line(row, include_payloads)))
            for checkpoint in checkpoints:
                out.write(_line(checkpoint_to_json(checkpoint)))
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half-written file (with payloads: personal data) left behind
        raise
    return ExportSummary(path, size, len(checkpoints))


def _entry_line(row: Row[Any], include_payload: bool) -> dict[str, Any]:
    """An entry row as exported. The stored payload goes out as it is, even one that no longer hashes to
    ``payload_sha256`` (changed in the database): the verifier then names the entry, where building the
    record from it would refuse, and with it the whole export."""
    payload = row.payload
    obj = entry_to_json(entry_from_row(row, with_payload=False), include_payload=False)
    obj["payload"] = _b64(payload) if include_payload and payload is not None else None
    return obj

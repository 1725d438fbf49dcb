"""Export, then verify offline with only the hub's public key; every kind of tampering is found and located."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hub.audit import AuditLog, AuditTampered, export, verify_export
from hub.audit._export import entry_from_json, entry_to_json
from hub.audit._merkle import EMPTY_ROOT
from hub.audit._models import AuditEntryRow
from hub.audit._record import entry_hash
from hub.envelope import SigningKey
from hub.store import Store

from .conftest import make_record, token

ENTRIES = 10
FIRST_ENTRY_LINE = 2  # line 1 is the header


@pytest.fixture
def exported(store: Store, audit_log: AuditLog, tmp_path: Path) -> Path:
    """Ten entries with payloads, checkpoints at 4 and 10 entries."""
    for n in range(ENTRIES):
        with store.session() as session:
            audit_log.append(session, make_record(n, tokens=(token(n % 3),)))
        if n + 1 in (4, ENTRIES):
            audit_log.checkpoint()
    path = tmp_path / "audit.jsonl"
    summary = export(store, path, include_payloads=True)
    assert (summary.entries, summary.checkpoints) == (ENTRIES, 2)
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write(path: Path, content: list[bytes]) -> Path:
    tampered = path.with_name("tampered.jsonl")
    tampered.write_bytes(b"".join(content))
    return tampered


def line_of(seq: int) -> int:
    """1-based line number of entry ``seq`` in an untouched export."""
    return FIRST_ENTRY_LINE + seq


def tampered_with(path: Path, key: SigningKey) -> AuditTampered:
    with pytest.raises(AuditTampered) as caught:
        verify_export(path, key.public)
    return caught.value


def test_an_untouched_export_verifies(exported: Path, hub_key: SigningKey, audit_log: AuditLog) -> None:
    report = verify_export(exported, hub_key.public)
    assert (report.entries, report.checkpoints, report.signed_size, report.unsigned) == (ENTRIES, 2, ENTRIES, 0)
    assert report.root_hash == audit_log.latest_checkpoint().root_hash  # type: ignore[union-attr]
    assert report.payloads == ENTRIES
    assert report.origin == "assistance-hub/audit"


def test_payloads_are_left_out_unless_asked(
    store: Store, audit_log: AuditLog, hub_key: SigningKey, tmp_path: Path
) -> None:
    with store.session() as session:
        audit_log.append(session, make_record(1))
    path = tmp_path / "lean.jsonl"
    export(store, path)
    assert json.loads(lines(path)[1])["payload"] is None
    report = verify_export(path, hub_key.public)
    assert (report.entries, report.payloads, report.signed_size, report.unsigned) == (1, 0, 0, 1)


def test_an_empty_log_exports_and_verifies(
    store: Store, audit_log: AuditLog, hub_key: SigningKey, tmp_path: Path
) -> None:
    audit_log.checkpoint()
    export(store, tmp_path / "empty.jsonl")
    report = verify_export(tmp_path / "empty.jsonl", hub_key.public)
    assert (report.entries, report.signed_size, report.root_hash) == (0, 0, EMPTY_ROOT)


def _edit(raw: bytes, **changes: Any) -> bytes:
    obj = json.loads(raw)
    obj.update(changes)
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def test_a_flipped_byte_in_a_field_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    target = content[line_of(3) - 1]
    at = target.index(b'"sender":"1') + len(b'"sender":"')
    content[line_of(3) - 1] = target[:at] + bytes([target[at] ^ 1]) + target[at + 1 :]
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("hash_mismatch", line_of(3), 3)
    assert f"line {line_of(3)}, seq 3" in str(error)


def test_every_flipped_byte_of_an_entry_or_checkpoint_is_caught_on_its_line(
    exported: Path, hub_key: SigningKey, store: Store
) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the file is the same whatever the database; once is enough")
    content = lines(exported)
    for number in (line_of(5), len(content) - 1):  # an entry, and the first checkpoint
        original = content[number - 1]
        for at in range(len(original) - 1):  # the newline excepted
            changed = list(content)
            changed[number - 1] = original[:at] + bytes([original[at] ^ 1]) + original[at + 1 :]
            error = tampered_with(write(exported, changed), hub_key)
            assert error.line == number, (at, error)


def test_a_flipped_payload_byte_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    payload = base64.b64decode(json.loads(content[line_of(2) - 1])["payload"])
    forged = base64.b64encode(payload[:-1] + bytes([payload[-1] ^ 1])).decode()
    content[line_of(2) - 1] = _edit(content[line_of(2) - 1], payload=forged)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("payload_mismatch", line_of(2), 2)


def test_a_deleted_entry_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    del content[line_of(5) - 1]
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("gap", line_of(5), 6)
    assert "entries 5 are missing" in error.explanation


def test_deleted_entries_at_the_end_are_found_by_the_checkpoint(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    del content[line_of(8) - 1 : line_of(9)]
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("truncated", line_of(8) + 1, 8)


def test_an_inserted_entry_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    forged = _edit(content[line_of(3) - 1], case_number="forged")
    content.insert(line_of(4) - 1, forged)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("inserted", line_of(4), 3)


def _rechain(content: list[bytes], start: int) -> None:
    """What a careful forger does: renumber and rehash every entry from line ``start`` on."""
    prev = base64.b64decode(json.loads(content[start - 2])["entry_hash"])
    for index in range(start - 1, len(content)):
        obj = json.loads(content[index])
        if obj["type"] != "entry":
            break
        obj["seq"], obj["prev_hash"] = index - 1, base64.b64encode(prev).decode()
        entry, _ = entry_from_json(obj)
        prev = entry_hash(entry.seq, entry.prev_hash, entry.recorded_at, entry.record)
        obj["entry_hash"] = base64.b64encode(prev).decode()
        content[index] = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def test_an_inserted_entry_with_a_rewritten_chain_is_caught_by_the_signed_root(
    exported: Path, hub_key: SigningKey
) -> None:
    content = lines(exported)
    content.insert(line_of(6) - 1, _edit(content[line_of(6) - 1], case_number="forged"))
    _rechain(content, line_of(6))
    content[0] = _edit(content[0], tree_size=ENTRIES + 1)
    error = tampered_with(write(exported, content), hub_key)
    assert error.problem == "root_mismatch"
    assert error.seq == 4  # the checkpoint at 4 entries still matches: the change is in 4..9
    assert error.line == len(content)  # the checkpoint of 10 entries


def test_a_reordering_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    content[line_of(6) - 1], content[line_of(7) - 1] = content[line_of(7) - 1], content[line_of(6) - 1]
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("out_of_order", line_of(6), 7)


def test_a_reordering_with_a_rewritten_chain_is_caught_by_the_signed_root(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    content[line_of(1) - 1], content[line_of(2) - 1] = content[line_of(2) - 1], content[line_of(1) - 1]
    _rechain(content, line_of(1))
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.seq, error.line) == ("root_mismatch", 0, len(content) - 1)


def test_a_checkpoint_signed_by_another_key_is_refused(exported: Path) -> None:
    error = tampered_with(exported, SigningKey.generate(owner="hub"))
    assert (error.problem, error.line) == ("bad_signature", FIRST_ENTRY_LINE + ENTRIES)


def test_a_broken_link_is_located(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    content[line_of(4) - 1] = _edit(content[line_of(4) - 1], prev_hash=base64.b64encode(bytes(32)).decode())
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("chain_broken", line_of(4), 4)


@pytest.mark.parametrize("first_line", [b"", b"not json\n", b'{"type":"entry"}\n'])
def test_a_missing_or_foreign_header_is_refused(exported: Path, hub_key: SigningKey, first_line: bytes) -> None:
    content = lines(exported)
    content[0] = first_line
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line) == ("malformed", 1)


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        (b'"sender":"', b"\\ud800"),  # a lone surrogate spelled as a JSON escape
        (b'"sender":"', b"\xed\xa0\x80"),  # the same surrogate as raw bytes: not UTF-8
        (b'"keyid":"', b"\\udc00"),  # inside a signature's keyid
    ],
)
def test_a_lone_surrogate_in_an_entry_is_reported_not_a_crash(
    exported: Path, hub_key: SigningKey, field: bytes, forged: bytes
) -> None:
    content = lines(exported)
    content[line_of(3) - 1] = content[line_of(3) - 1].replace(field, field + forged, 1)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line, error.seq) == ("malformed", line_of(3), 3)


def test_a_lone_surrogate_in_a_checkpoint_is_reported_not_a_crash(exported: Path, hub_key: SigningKey) -> None:
    content = lines(exported)
    content[-1] = content[-1].replace(b'"body":"', b'"body":"\\udc00', 1)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line) == ("malformed", len(content))


def test_a_checkpoint_line_with_an_extra_field_is_refused(exported: Path, hub_key: SigningKey) -> None:
    """Only the signed body counts; an unsigned field beside it (a forged note, a size) must not pass as verified."""
    content = lines(exported)
    content[-1] = _edit(content[-1], tree_size=ENTRIES + 5)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line) == ("malformed", len(content))


def test_a_failed_export_leaves_no_file_behind(
    store: Store, audit_log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        audit_log.append_many(session, [make_record(n) for n in range(3)])
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return entry_to_json(*args, **kwargs)

    monkeypatch.setattr("hub.audit._export.entry_to_json", failing)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="disk full"):
        export(store, out / "audit.jsonl", include_payloads=True)
    assert list(out.iterdir()) == []  # neither the export nor a half-written .partial (with payloads)


def test_a_payload_replaced_in_the_database_is_exported_and_located(
    store: Store, audit_log: AuditLog, hub_key: SigningKey, tmp_path: Path
) -> None:
    """A body changed (or re-added after a purge) in the database must not make the log unexportable: the
    export carries it and the offline verifier names the entry."""
    for n in range(4):
        with store.session() as session:
            audit_log.append(session, make_record(n))
    audit_log.checkpoint()
    with store.session() as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(payload=b"other bytes"))
    lean = export(store, tmp_path / "lean.jsonl")
    assert verify_export(lean.path, hub_key.public).entries == 4  # hashes alone still verify
    full = export(store, tmp_path / "full.jsonl", include_payloads=True)
    error = tampered_with(full.path, hub_key)
    assert (error.problem, error.line, error.seq) == ("payload_mismatch", line_of(2), 2)


def test_a_line_with_a_duplicated_field_is_refused(exported: Path, hub_key: SigningKey) -> None:
    """JSON readers disagree on which of two equal keys wins: the one hashed must be the only one shown."""
    content = lines(exported)
    content[line_of(3) - 1] = content[line_of(3) - 1].replace(b'{"type":"entry",', b'{"type":"entry","sender":"x",', 1)
    error = tampered_with(write(exported, content), hub_key)
    assert (error.problem, error.line) == ("malformed", line_of(3))

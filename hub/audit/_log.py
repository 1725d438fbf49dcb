"""The audit log: append inside the caller's transaction, sign checkpoints, prove inclusion and consistency.

Appends lock the single ``audit_head`` row first (``_writer``: ``SELECT … FOR UPDATE`` on PostgreSQL, a
no-op ``UPDATE … RETURNING`` that takes the write lock on SQLite), so several hub processes on one
database append one at a time: sequence numbers are gap-free and every entry chains to the one before.
The head (size, last hash, the Merkle tree's right border) lets each append hash O(1) amortised without
reading any entry; on SQLite the saved row may lag the log by less than a cached node, and an append
brings its process's head forward through the entries since (``HeadWriter.lock``). Readers take the size
from the entries and a root from the stored tree, O(log n).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Row, Table, func, insert, select, update
from sqlalchemy.orm import Session

from hub.audit._checkpoint import DEFAULT_ORIGIN, SignedCheckpoint, check_origin
from hub.audit._errors import ProofInvalid
from hub.audit._merkle import (
    consistency_ranges,
    frontier_append,
    inclusion_ranges,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from hub.audit._models import AuditCheckpointRow, AuditEntryRow, AuditSubjectRow
from hub.audit._record import (
    ISSUED_AT,
    TOKEN_SIZE,
    AuditEntry,
    AuditRecord,
    PreparedRecord,
    decode_entry,
    decode_signatures,
    encode_entry_at,
    format_time,
)
from hub.audit._report import AccessEntry
from hub.audit._tree import NODE_CACHE_LEVEL, StoredTree
from hub.audit._writer import Head, HeadWriter
from hub.envelope import SigningKey
from hub.errors import FailedPrecondition, InvalidArgument, NotFound, Replayed
from hub.store import Store
from hub.store._base import utcnow

ENTRIES = cast(Table, AuditEntryRow.__table__)
SUBJECTS = cast(Table, AuditSubjectRow.__table__)
CHECKPOINTS = cast(Table, AuditCheckpointRow.__table__)


@dataclass(frozen=True)
class InclusionProof:
    """Entry ``leaf_index`` is in the tree of ``tree_size`` leaves; ``entry`` is its canonical encoding."""

    leaf_index: int
    tree_size: int
    entry_hash: bytes
    entry: bytes
    hashes: tuple[bytes, ...]

    def verify(self, root: bytes) -> None:
        """Raise ``ProofInvalid`` unless this proof leads to ``root`` (e.g. a verified checkpoint's)."""
        decoded = decode_entry(self.entry)
        if decoded.entry_hash != self.entry_hash or decoded.seq != self.leaf_index:
            raise ProofInvalid("the entry carried with the proof is not the entry the proof is for")
        verify_inclusion(self.leaf_index, self.tree_size, leaf_hash(self.entry_hash), self.hashes, root)


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``second`` leaves extends the tree of ``first`` leaves (the log only grew)."""

    first: int
    second: int
    hashes: tuple[bytes, ...]

    def verify(self, first_root: bytes, second_root: bytes) -> None:
        verify_consistency(self.first, self.second, first_root, second_root, self.hashes)


def entry_from_row(row: AuditEntryRow | Row[Any], *, with_payload: bool = True) -> AuditEntry:
    tokens = row.subject_tokens
    record = AuditRecord(
        kind=row.kind,
        message_id=row.message_id,
        correlation_id=row.correlation_id,
        sender=row.sender,
        recipient=row.recipient,
        service=row.service,
        purpose_code=row.purpose_code,
        legal_basis=row.legal_basis,
        case_number=row.case_number,
        consent_ref=row.consent_ref,
        issued_at=row.issued_at,
        payload_sha256=row.payload_sha256,
        signatures=decode_signatures(row.signatures),
        subject_tokens=tuple(tokens[i : i + TOKEN_SIZE] for i in range(0, len(tokens), TOKEN_SIZE)),
        outcome=row.outcome,
        payload=row.payload if with_payload else None,
    )
    return AuditEntry(row.seq, row.recorded_at, row.prev_hash, row.entry_hash, record)


class AuditLog:
    """The hub's tamper-evident log. ``signer`` (the hub's envelope key) is needed only for checkpoints."""

    def __init__(
        self,
        store: Store,
        signer: SigningKey | None = None,
        *,
        origin: str = DEFAULT_ORIGIN,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.signer = signer
        self.origin = check_origin(origin)
        self.clock = clock
        #: The head this process's last append left (``HeadWriter.lock`` checks it is still the log's).
        self._known: Head | None = None

    # --- writing ------------------------------------------------------------------------------------------

    def append(self, session: Session, record: AuditRecord) -> int:
        """Append one record in the caller's transaction (so it commits with the effect it records)."""
        return self.append_many(session, [record])[0]

    def append_many(self, session: Session, records: Sequence[AuditRecord]) -> list[int]:
        """Append records in order, in the caller's transaction; returns their sequence numbers."""
        return self.append_on(session.connection(), records)

    def append_on(
        self,
        connection: Connection,
        records: Sequence[AuditRecord | PreparedRecord],
        *,
        new_request: str | None = None,
    ) -> list[int]:
        """``append_many`` on a Core connection (the group-commit writer's transaction); the query path passes
        records already prepared (``prepare_opened``), built and encoded before the log's lock is taken.

        ``new_request``: a message id the log must not hold as a request yet, or ``Replayed`` (nothing is
        written). Checked under the log's lock, so of two processes appending the same request one wins:
        the log is then the hub's replay memory (``ReplayGuard.in_audit_log``).
        """
        if not records:
            return []
        prepared = [record if isinstance(record, PreparedRecord) else record.prepared for record in records]
        writer = HeadWriter(connection)
        try:
            head = writer.lock(self._known)
            if new_request is not None and writer.logged(new_request):
                raise Replayed(f"message {new_request} was already accepted", message_id=new_request)
            size, prev_hash, frontier = head.size, head.last_hash, head.frontier
            now = self.clock()
            time, stored_now, now_text = writer.sql.time, writer.sql.time(now), format_time(now).encode()
            entries: list[tuple[Any, ...]] = []
            subjects: list[tuple[bytes, int]] = []
            nodes: list[tuple[int, int, bytes]] = []
            for record in prepared:
                current = sha256(encode_entry_at(size, prev_hash, now_text, record.tail)).digest()
                values = record.values
                issued_at = time(values[ISSUED_AT])
                entries.append(
                    (size, stored_now, *values[:ISSUED_AT], issued_at, *values[ISSUED_AT + 1 :], prev_hash, current)
                )
                subjects.extend((token, size) for token in dict.fromkeys(record.subject_tokens))
                frontier, completed = frontier_append(frontier, size, leaf_hash(current))
                nodes.extend((level, index, value) for (level, index), value in completed if level >= NODE_CACHE_LEVEL)
                prev_hash, size = current, size + 1
            self._known = Head(size, prev_hash, frontier)
            writer.write(entries, subjects, nodes, self._known)
        finally:
            writer.close()
        return list(range(head.size, size))

    def checkpoint(self) -> SignedCheckpoint:
        """Sign and store the current tree head (run on a schedule, and before an export)."""
        if self.signer is None:
            raise FailedPrecondition("the audit log was opened without the hub signing key; cannot sign checkpoints")
        with self.store.session() as session:
            size = self.size(session)
            root = StoredTree(session).hashes([(0, size)])[0]
            signed = SignedCheckpoint.sign(
                self.signer, origin=self.origin, tree_size=size, root_hash=root, timestamp=self.clock()
            )
            session.execute(
                insert(CHECKPOINTS).values(
                    tree_size=signed.tree_size,
                    root_hash=signed.root_hash,
                    issued_at=signed.timestamp,
                    keyid=signed.keyid,
                    signature=signed.signature,
                    body=signed.body.decode(),
                )
            )
        return signed

    def purge_bodies(self, older_than: dt.datetime | dt.timedelta) -> int:
        """Null the payloads recorded before ``older_than`` (a time, or an age); hashes stay, so the chain
        and every checkpoint still verify. Returns how many bodies were purged."""
        cutoff = self.clock() - older_than if isinstance(older_than, dt.timedelta) else older_than
        with self.store.session() as session:
            result = session.execute(
                update(ENTRIES)
                .where(ENTRIES.c.recorded_at < cutoff, ENTRIES.c.payload.is_not(None))
                .values(payload=None)
            )
            return cast(CursorResult[Any], result).rowcount

    # --- reading ------------------------------------------------------------------------------------------

    def size(self, session: Session | None = None) -> int:
        with self.store.session_or(session) as reader:
            last = reader.execute(select(func.max(ENTRIES.c.seq))).scalar_one_or_none()
        return 0 if last is None else int(last) + 1

    def entry(self, seq: int, session: Session | None = None) -> AuditEntry:
        with self.store.session_or(session) as reader:
            row = reader.execute(select(ENTRIES).where(ENTRIES.c.seq == seq)).one_or_none()
        if row is None:
            raise NotFound(f"the audit log has no entry {seq}", seq=str(seq))
        return entry_from_row(row)

    def latest_checkpoint(self, session: Session | None = None) -> SignedCheckpoint | None:
        with self.store.session_or(session) as reader:
            row = reader.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)).one_or_none()
        return _checkpoint_from_row(row) if row is not None else None

    def checkpoint_at(self, tree_size: int, session: Session | None = None) -> SignedCheckpoint | None:
        """The latest checkpoint the hub signed over exactly ``tree_size`` entries, if any."""
        statement = (
            select(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == tree_size).order_by(CHECKPOINTS.c.id.desc()).limit(1)
        )
        with self.store.session_or(session) as reader:
            row = reader.execute(statement).one_or_none()
        return _checkpoint_from_row(row) if row is not None else None

    def checkpoints(self, session: Session | None = None, *, max_size: int | None = None) -> list[SignedCheckpoint]:
        statement = select(CHECKPOINTS).order_by(CHECKPOINTS.c.id)
        if max_size is not None:
            statement = statement.where(CHECKPOINTS.c.tree_size <= max_size)
        with self.store.session_or(session) as reader:
            return [_checkpoint_from_row(row) for row in reader.execute(statement)]

    def root(self, tree_size: int, session: Session | None = None) -> bytes:
        """The Merkle root of the first ``tree_size`` entries, from the stored tree."""
        with self.store.session_or(session) as reader:
            self._check_size(reader, tree_size)
            return StoredTree(reader).hashes([(0, tree_size)])[0]

    def inclusion_proof(self, entry: int | str, tree_size: int | None = None) -> InclusionProof:
        """Prove that an entry (by sequence number or message id) is in the tree of ``tree_size`` leaves
        (default: the latest checkpoint's)."""
        with self.store.session() as session:
            seq = entry if isinstance(entry, int) else self._seq_of(session, entry)
            size = self._target_size(session, tree_size)
            if not 0 <= seq < size:
                raise FailedPrecondition(
                    f"entry {seq} is not in a tree of {size} entries; ask again after the next checkpoint"
                    if seq >= 0
                    else f"there is no entry {seq}",
                    seq=str(seq),
                )
            stored = self.entry(seq, session)
            hashes = StoredTree(session).hashes(inclusion_ranges(seq, size))
        return InclusionProof(seq, size, stored.entry_hash, stored.encoding(), tuple(hashes))

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Prove that the tree of ``second`` leaves (default: the latest checkpoint's) extends ``first``."""
        with self.store.session() as session:
            size = self._target_size(session, second)
            if not 0 <= first <= size:
                raise InvalidArgument("first", f"must be between 0 and {size}")
            hashes = StoredTree(session).hashes(consistency_ranges(first, size))
        return ConsistencyProof(first, size, tuple(hashes))

    def access_report(
        self, tokens: bytes | Sequence[bytes], *, session: Session | None = None, kinds: Sequence[str] | None = None
    ) -> list[AccessEntry]:
        """Every entry naming the person behind ``tokens``, oldest first (optionally only some kinds).

        Give the person's token under every key held (``Tokenizer.every_token``): entries keep the token of the
        key that was current when they were written, so after a rotation the current token alone finds only
        the entries since.
        """
        wanted = [tokens] if isinstance(tokens, bytes) else list(tokens)
        if not wanted or any(len(token) != TOKEN_SIZE for token in wanted):
            raise InvalidArgument("token", f"a subject token is {TOKEN_SIZE} bytes")
        statement = (
            select(ENTRIES)
            .join(SUBJECTS, SUBJECTS.c.seq == ENTRIES.c.seq)
            .where(SUBJECTS.c.token.in_(wanted))
            .order_by(ENTRIES.c.seq)
        )
        if kinds is not None:
            statement = statement.where(ENTRIES.c.kind.in_(list(kinds)))
        with self.store.session_or(session) as reader:
            rows = reader.execute(statement).all()
        return [
            AccessEntry(
                seq=row.seq,
                recorded_at=row.recorded_at,
                kind=row.kind,
                asker=row.sender,
                recipient=row.recipient,
                service=row.service,
                purpose_code=row.purpose_code,
                legal_basis=row.legal_basis,
                case_number=row.case_number,
                consent_ref=row.consent_ref,
                issued_at=row.issued_at,
                message_id=row.message_id,
                outcome=row.outcome,
            )
            for row in rows
        ]

    # --- helpers ------------------------------------------------------------------------------------------

    def _seq_of(self, session: Session, message_id: str) -> int:
        statement = select(ENTRIES.c.seq).where(ENTRIES.c.message_id == message_id).order_by(ENTRIES.c.seq).limit(1)
        seq = session.execute(statement).scalar_one_or_none()
        if seq is None:
            raise NotFound("the audit log has no entry for this message id", message_id=message_id)
        return int(seq)

    def _target_size(self, session: Session, tree_size: int | None) -> int:
        if not tree_size:  # None or 0 (protobuf's "unset"): the latest signed size
            latest = self.latest_checkpoint(session)
            if latest is None:
                raise FailedPrecondition("no checkpoint has been signed yet")
            return latest.tree_size
        self._check_size(session, tree_size)
        return tree_size

    def _check_size(self, session: Session, tree_size: int) -> None:
        current = self.size(session)
        if not 0 <= tree_size <= current:
            raise InvalidArgument("tree_size", f"must be between 0 and the log's size, {current}")


def _checkpoint_from_row(row: Row[Any]) -> SignedCheckpoint:
    return SignedCheckpoint.from_body(row.body.encode(), row.keyid, bytes(row.signature))

"""The feed intake: a version arrives chunk by chunk, may break off anywhere, and resumes on a new stream.

Built for a client-streaming servicer that hands over one chunk at a time:

    intake.begin(meta)                                   # idempotent for the same declaration
    intake.accept_chunk(version_id, seq, sha256, rows)   # one transaction per chunk
    intake.complete(version_id)                          # -> Receipt; the switch is atomic

Every chunk is checked (hash over the exact bytes received, kind, size), validated row by row, tokenised and
written with its bookkeeping in one transaction, so an interrupted chunk leaves nothing and the version's
``next_sequence`` is always the chunk to send next. A repeated chunk is acknowledged without writing; a gap
is refused naming the expected sequence. State lives only in the database: a new intake object (another
process, another replica) picks up where the last one stopped, and a conditional ``UPDATE`` on
``next_sequence`` makes two streams racing on one version store each chunk once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from google.protobuf.message import DecodeError, Message
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.config import FeedSettings
from hub.errors import FailedPrecondition, InvalidArgument, NotFound, NotGranted
from hub.feeds._bulk import writer_for
from hub.feeds._kinds import RecordKind, department_code, kind_by_code
from hub.feeds._meta import FeedMeta, VersionStatus
from hub.feeds._receipt import ChunkAck, Receipt, VersionState, timestamp
from hub.feeds._status import FeedFreshness, feed_status
from hub.feeds._tables import FeedChunkRow, FeedRejectionRow, FeedVersionRow
from hub.feeds._validate import Rejection, RowValidator, ValueCache, china_today
from hub.feeds._writes import Journaling, Overtaken, PreparedChunk, finish_version, store_chunk
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store
from hub.store._base import utcnow
from hub.v1 import feeds_pb2 as pb

Clock = Callable[[], dt.datetime]
#: A version's internal key and the state it is assumed to be in.
Assumed = tuple[int, VersionState]
_ATTEMPTS = 3
_META_FIELDS = ("department", "supplier", "kind", "period_start", "period_end", "expected_records", "policy")


class FeedIntake:
    """Receives feed versions into the store; see the module docstring for the protocol."""

    def __init__(
        self,
        store: Store,
        tokenizer: Tokenizer,
        cipher: FieldCipher,
        settings: FeedSettings | None = None,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._tokenizer = tokenizer
        self._cipher = cipher
        self._settings = settings or FeedSettings()
        self._clock = clock
        self._writer = writer_for(store.dialect)
        self._cache = ValueCache()
        #: version id → (internal key, state after our last write): saves a read per chunk. A stale entry
        #: is harmless: the conditional UPDATE then fails and the state is read again.
        self._known: dict[str, tuple[int, VersionState]] = {}

    # --- the protocol ---------------------------------------------------------------------------------------

    def begin(self, meta: FeedMeta) -> VersionState:
        """Declare a version, or find it again: the same id with the same declaration is the same version."""
        required = self._settings.policy.get(meta.kind) or self._settings.policy.get(meta.department)
        if required is not None and str(meta.policy) != required:
            raise InvalidArgument(
                "meta.policy", f"this hub takes {meta.kind} feeds only under {required}; declare it so and resend"
            )
        for _ in range(_ATTEMPTS):
            existing = self._find(meta.version_id)
            if existing is not None:
                _same_declaration(existing, meta)
                return VersionState.of(existing)
            now = self._clock()
            try:
                with self._store.session() as session:
                    row = FeedVersionRow(
                        version_id=meta.version_id,
                        department=meta.department,
                        supplier=meta.supplier,
                        kind=meta.kind,
                        period_start=meta.period_start,
                        period_end=meta.period_end,
                        policy=str(meta.policy),
                        status=str(VersionStatus.RECEIVING),
                        expected_records=meta.expected_records,
                        received_records=0,
                        accepted_records=0,
                        rejected_records=0,
                        next_sequence=0,
                        token_version=self._tokenizer.current_version,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                    session.flush()
                    return VersionState.of(row)
            except IntegrityError:
                continue  # begun at the same moment by another stream: compare with that one
        raise FailedPrecondition(f"feed version {meta.version_id} could not be begun; try again")

    def accept_chunk(
        self, version_id: str, sequence: int, chunk_sha256: bytes, rows: bytes, *, supplier: str | None = None
    ) -> ChunkAck:
        """Store one chunk (or acknowledge it again). ``supplier``, when given, must own the version."""
        prepared = self.prepare(version_id, sequence, chunk_sha256, rows, supplier=supplier)
        return prepared if isinstance(prepared, ChunkAck) else self.store(prepared)

    def receive(self, chunk: pb.FeedChunk, *, sender: str) -> ChunkAck:
        """One chunk as a servicer gets it from ``sender`` (the verified envelope sender)."""
        prepared = self.prepare_received(chunk, sender=sender)
        return prepared if isinstance(prepared, ChunkAck) else self.store(prepared)

    def prepare_received(
        self, chunk: pb.FeedChunk, *, sender: str, assume: Assumed | None = None
    ) -> ChunkAck | PreparedChunk:
        """``prepare`` for a chunk from the wire: declares the version first when the chunk carries ``meta``."""
        if chunk.HasField("meta"):
            meta = FeedMeta.from_proto(chunk.version_id, chunk.meta)
            if meta.supplier != sender:
                raise NotGranted(f"{sender} cannot upload a feed in the name of {meta.supplier}")
            if self._find(meta.version_id) is None:
                self._check_first(meta, chunk)  # a refused first chunk must not leave its declaration behind
            self.begin(meta)
        elif chunk.sequence == 0:
            raise InvalidArgument("meta", "chunk 0 must declare the version (department, kind, period, count)")
        return self.prepare(
            chunk.version_id, chunk.sequence, chunk.chunk_sha256, chunk.rows, supplier=sender, assume=assume
        )

    def prepare(
        self,
        version_id: str,
        sequence: int,
        chunk_sha256: bytes,
        rows: bytes,
        *,
        supplier: str | None = None,
        assume: Assumed | None = None,
    ) -> ChunkAck | PreparedChunk:
        """Check and validate one chunk without writing it: the ack of a chunk stored before, or what ``store``
        writes.

        ``assume`` is the state the version will be in once the chunks before this one are stored (the previous
        chunk's ``PreparedChunk.after``): a stream validates chunk n + 1 while chunk n is being written, and
        ``store`` decides afresh if the version turns out to be elsewhere.
        """
        _check_digest(chunk_sha256, rows)
        if sequence < 0:
            raise InvalidArgument("sequence", "chunks are numbered from 0")
        for attempt in range(_ATTEMPTS):
            key, state = assume if assume is not None and attempt == 0 else self._state(version_id, fresh=attempt > 0)
            if supplier is not None and supplier != state.supplier:
                raise NotGranted(f"feed version {version_id} belongs to {state.supplier}, not to {supplier}")
            if sequence < state.next_sequence:
                return self._repeated(key, state, sequence, chunk_sha256)
            if state.status != VersionStatus.RECEIVING or sequence > state.next_sequence:
                if attempt == 0:
                    continue  # decide on the database's state, not on our memory of it
                if state.status != VersionStatus.RECEIVING:
                    raise FailedPrecondition(f"feed version {version_id} is {state.status}; it takes no more chunks")
                raise FailedPrecondition(
                    f"feed version {version_id} expects chunk {state.next_sequence} next, not {sequence}",
                    expected_sequence=str(state.next_sequence),
                )
            kind = kind_by_code(state.kind)
            messages = _parse_rows(kind, rows)
            self._check_size(state, len(messages))
            now = self._clock()
            validated = self._validator(kind, state.token_version, now).validate(messages, state.received_records + 1)
            return PreparedChunk(key, state, sequence, chunk_sha256, rows, supplier, len(messages), validated, now)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def store(self, prepared: PreparedChunk, *, journal: Journaling | None = None) -> ChunkAck:
        """Write a prepared chunk in one transaction; if the version moved meanwhile, prepare it again first.

        ``journal`` records the chunk's message in that transaction; a chunk found stored before is
        acknowledged as a duplicate, without it.
        """
        for _ in range(_ATTEMPTS):
            try:
                written = store_chunk(self._store, self._writer, prepared, journal)
            except Overtaken:
                version_id = prepared.state.version_id
                self._known.pop(version_id, None)  # decide on the database's state from here on
                again = self.prepare(
                    version_id, prepared.sequence, prepared.chunk_sha256, prepared.rows, supplier=prepared.supplier
                )
                if isinstance(again, ChunkAck):
                    return again
                prepared = again
                continue
            self._remember(written.version_id, prepared.key, written)
            validated = prepared.validated
            return ChunkAck(
                version_id=written.version_id,
                sequence=prepared.sequence,
                records=prepared.records,
                accepted=validated.accepted,
                rejected=len(validated.rejections),
                duplicate=False,
                next_sequence=prepared.sequence + 1,
                rejections=tuple(validated.rejections),
            )
        raise FailedPrecondition(
            f"feed version {prepared.state.version_id} is being written by another stream; try again"
        )

    def resume_point(self, version_id: str) -> int:
        """The sequence number of the chunk to send next."""
        return self.progress(version_id).next_sequence

    def progress(self, version_id: str) -> VersionState:
        return self._state(version_id, fresh=True)[1]

    def complete(self, version_id: str) -> Receipt:
        """Finish a version whose declared records all arrived; for a finished one, its receipt again.

        Under ``reject_version`` a single rejected row rejects the version and its rows are removed;
        otherwise the valid rows are indexed by person and the version becomes its feed's current one
        unless the current one covers a later period. All of it in one transaction.
        """
        for _ in range(_ATTEMPTS):
            row = self._get(version_id)
            if row.status != VersionStatus.RECEIVING:
                return self.receipt(version_id)
            if row.received_records != row.expected_records:
                raise FailedPrecondition(
                    f"feed version {version_id} is incomplete: {row.received_records:,} of "
                    f"{row.expected_records:,} records arrived; resume with chunk {row.next_sequence}",
                    expected_sequence=str(row.next_sequence),
                )
            try:
                finish_version(self._store, row, self._clock())
            except Overtaken:
                continue
            self._known.pop(version_id, None)
            return self.receipt(version_id)
        raise FailedPrecondition(f"feed version {version_id} is being completed by another stream; try again")

    def receipt(self, version_id: str) -> Receipt:
        """The receipt of a finished version (``FailedPrecondition`` while it is still receiving)."""
        limit = self._settings.receipt_rejection_limit
        with self._store.session() as session:
            row = self._get(version_id, session)
            if row.status == VersionStatus.RECEIVING or row.completed_at is None or row.digest is None:
                raise FailedPrecondition(f"feed version {version_id} is still receiving; it has no receipt yet")
            listed = session.scalars(
                select(FeedRejectionRow)
                .where(FeedRejectionRow.version == row.id)
                .order_by(FeedRejectionRow.row_number)
                .limit(limit)
            ).all()
            rejections = tuple(Rejection(r.row_number, r.field, r.problem, r.reason) for r in listed)
        return Receipt(
            version_id=row.version_id,
            status=VersionStatus(row.status),
            department=row.department,
            supplier=row.supplier,
            kind=row.kind,
            period_start=row.period_start,
            period_end=row.period_end,
            expected_records=row.expected_records,
            received_records=row.received_records,
            accepted_records=row.accepted_records,
            rejected_records=row.rejected_records,
            chunks=row.next_sequence,
            digest=row.digest,
            rejections=rejections,
            rejections_truncated=row.rejected_records > len(rejections),
            current=row.made_current,
            completed_at=row.completed_at,
        )

    def status(self, department: str | None = None) -> list[FeedFreshness]:
        """Freshness of every feed's current version (see ``feed_status``)."""
        return feed_status(self._store, self._settings, department, now=self._clock())

    def status_report(self, query: pb.FeedStatusQuery, *, requester: str | None = None) -> pb.FeedStatusReport:
        """The ``Status`` RPC's answer: every feed (of the department asked about) and, if named, an upload's
        progress, so a broken stream knows which chunk to send next. A ``requester`` sees only its own
        uploads' progress; another supplier's version is reported as not found."""
        now = self._clock()
        department = department_code(query.department, "department") if query.department else None
        progress = self.progress(query.version_id) if query.version_id else None
        if progress is not None and requester is not None and progress.supplier != requester:
            raise NotFound(f"no feed version {query.version_id} of {requester}", version_id=query.version_id)
        report = pb.FeedStatusReport(
            feeds=[f.to_proto() for f in feed_status(self._store, self._settings, department, now=now)],
            as_of=timestamp(now),
        )
        if progress is not None:
            report.upload.CopyFrom(progress.to_proto())
        return report

    # --- reading state --------------------------------------------------------------------------------------

    def _find(self, version_id: str, session: Session | None = None) -> FeedVersionRow | None:
        query = select(FeedVersionRow).where(FeedVersionRow.version_id == version_id)
        if session is not None:
            return session.scalars(query).one_or_none()
        with self._store.session() as own:
            return own.scalars(query).one_or_none()

    def _get(self, version_id: str, session: Session | None = None) -> FeedVersionRow:
        row = self._find(version_id, session)
        if row is None:
            raise NotFound(f"no feed version {version_id}; its first chunk must declare it", version_id=version_id)
        return row

    def _state(self, version_id: str, *, fresh: bool) -> tuple[int, VersionState]:
        known = None if fresh else self._known.get(version_id)
        if known is None:
            row = self._get(version_id)
            known = self._remember(version_id, row.id, VersionState.of(row))
        return known

    def _remember(self, version_id: str, key: int, state: VersionState) -> tuple[int, VersionState]:
        if len(self._known) >= 1_000:
            self._known.clear()
        self._known[version_id] = (key, state)
        return key, state

    def _repeated(self, key: int, state: VersionState, sequence: int, chunk_sha256: bytes) -> ChunkAck:
        with self._store.session() as session:
            chunk = session.get(FeedChunkRow, (key, sequence))
        if chunk is None:
            raise FailedPrecondition(f"chunk {sequence} of feed version {state.version_id} is missing")
        if chunk.sha256 != chunk_sha256:
            raise FailedPrecondition(
                f"chunk {sequence} of feed version {state.version_id} was stored with other content; "
                "a version cannot change once sent: upload a new version",
                problem="chunk_conflict",
            )
        return ChunkAck(
            version_id=state.version_id,
            sequence=sequence,
            records=chunk.records,
            accepted=chunk.accepted,
            rejected=chunk.rejected,
            duplicate=True,
            next_sequence=state.next_sequence,
        )

    def _check_first(self, meta: FeedMeta, chunk: pb.FeedChunk) -> None:
        """What ``prepare`` would refuse in a version's first chunk, checked before the version is declared."""
        _check_digest(chunk.chunk_sha256, chunk.rows)
        records = len(_parse_rows(kind_by_code(meta.kind), chunk.rows))
        self._check_count(records, 0, meta.expected_records)

    def _check_size(self, state: VersionState, records: int) -> None:
        self._check_count(records, state.received_records, state.expected_records)

    def _check_count(self, records: int, received: int, expected: int) -> None:
        if records > self._settings.max_chunk_records:
            raise InvalidArgument(
                "rows", f"{records:,} rows in one chunk; at most {self._settings.max_chunk_records:,} are taken"
            )
        if received + records > expected:
            raise InvalidArgument(
                "rows", f"this chunk brings the version to {received + records:,} records; {expected:,} were declared"
            )

    def _validator(self, kind: RecordKind, token_version: int, now: dt.datetime) -> RowValidator:
        return RowValidator(
            kind,
            self._tokenizer,
            self._cipher,
            token_version=token_version,
            today=china_today(now),
            adapt_date=self._writer.adapt_date,
            cache=self._cache,
        )


def _check_digest(chunk_sha256: bytes, rows: bytes) -> None:
    if len(chunk_sha256) != 32 or hashlib.sha256(rows).digest() != chunk_sha256:
        raise InvalidArgument("chunk_sha256", "is not the SHA-256 of the chunk's rows as sent", problem="digest")


def _parse_rows(kind: RecordKind, rows: bytes) -> Sequence[Message]:
    try:
        feed_rows = pb.FeedRows.FromString(rows)
    except DecodeError:
        raise InvalidArgument("rows", "is not a serialized hub.v1.FeedRows", problem="malformed") from None
    which = feed_rows.WhichOneof("rows")
    if which is None:
        return []
    if which != kind.rows_field:
        raise InvalidArgument("rows", f"carries {which}, but the version holds {kind.rows_field}", problem="kind")
    rows_list: Sequence[Message] = getattr(feed_rows, which).rows
    return rows_list


def _same_declaration(row: FeedVersionRow, meta: FeedMeta) -> None:
    differing = [name for name in _META_FIELDS if str(getattr(row, name)) != str(getattr(meta, name))]
    if differing:
        raise FailedPrecondition(
            f"feed version {meta.version_id} was declared before with another {', '.join(differing)}; "
            "a version id names one upload: choose a new one",
            problem="version_conflict",
        )

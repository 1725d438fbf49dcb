"""A feed version made ready to send: its chunks encoded once into a spool file, its id derived from them.

The supplier's side reads its source once, in constant memory: rows are encoded into chunks (cut in two
while one would exceed ``max_chunk_bytes``), each chunk is hashed and appended to a temporary spool file.
The declaration, the receipt's expected digest and the version id then follow from the chunks: the id is
a digest of department, kind, supplier, period, policy, record count and chunk hashes, so sending the same
data again names the same version, which the hub acknowledges without storing anything twice, and a
resumed or retried stream reads its chunks back from the spool instead of reading the source again.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO

from google.protobuf.message import Message

from hub.feeds._chunks import DEFAULT_CHUNK_ROWS, encode_rows, version_digest
from hub.feeds._meta import FeedMeta, Policy
from hub.feeds._validate import Rejection
from hub.v1 import feeds_pb2 as pb

#: Serialized rows per chunk at most: well inside the hub's message limit (4 MiB by default) with the envelope.
MAX_CHUNK_BYTES = 1 << 20
#: Rows left out locally that are listed by row (all are counted).
LISTED_LEFT_OUT = 1_000


@dataclass(frozen=True)
class SpooledChunk:
    offset: int
    length: int
    sha256: bytes
    records: int


@dataclass
class PreparedFeed:
    """A version's chunks in a spool file (deleted on ``close``), its declaration and expected digest."""

    meta: FeedMeta
    chunks: list[SpooledChunk]
    spool: IO[bytes]
    #: Source rows that could not be sent (first ``LISTED_LEFT_OUT``), numbered by their position in the source.
    left_out: list[Rejection] = field(default_factory=list)
    left_out_count: int = 0
    #: Source positions of every row left out, sorted: to translate the hub's row numbers back.
    left_out_rows: array[int] = field(default_factory=lambda: array("q"))

    @property
    def version_id(self) -> str:
        return self.meta.version_id

    @property
    def records(self) -> int:
        return self.meta.expected_records

    @property
    def digest(self) -> bytes:
        """What the receipt's ``digest`` must be."""
        return version_digest(c.sha256 for c in self.chunks)

    def records_before(self, sequence: int) -> int:
        return sum(c.records for c in self.chunks[:sequence])

    def chunk(self, sequence: int, *, declare: bool = False) -> pb.FeedChunk:
        """Chunk ``sequence`` as sent; ``declare`` adds the version's declaration (chunk 0, or a resumed stream's first)."""
        spooled = self.chunks[sequence]
        self.spool.seek(spooled.offset)
        rows = self.spool.read(spooled.length)
        chunk = pb.FeedChunk(version_id=self.version_id, sequence=sequence, chunk_sha256=spooled.sha256, rows=rows)
        if declare or sequence == 0:
            chunk.meta.CopyFrom(self.meta.to_proto())
        return chunk

    def source_row(self, row_number: int) -> int:
        """The position in the source (from 1) of the version's row ``row_number`` (rows left out are skipped)."""
        position = row_number
        while True:
            before = bisect.bisect_right(self.left_out_rows, position)
            if row_number + before == position:
                return position
            position = row_number + before

    def close(self) -> None:
        self.spool.close()

    def __enter__(self) -> PreparedFeed:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def version_id_for(
    *,
    department: str,
    kind: str,
    supplier: str,
    period_start: dt.date,
    period_end: dt.date,
    policy: Policy,
    records: int,
    digest: bytes,
) -> str:
    """``<kind>-<start>-<end>-<24 hex>``: the same data, declared the same way, always gets the same id."""
    declared = "|".join((department, kind, supplier, str(period_start), str(period_end), str(policy), str(records)))
    fingerprint = hashlib.sha256(declared.encode() + b"|" + digest).hexdigest()[:24]
    return f"{kind}-{period_start:%Y%m%d}-{period_end:%Y%m%d}-{fingerprint}"


def prepare_feed(
    rows: Iterable[Message | Rejection],
    *,
    department: str,
    kind: str,
    supplier: str,
    period_start: dt.date,
    period_end: dt.date,
    policy: Policy = Policy.ACCEPT_VALID,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_chunk_bytes: int = MAX_CHUNK_BYTES,
    spool_dir: Path | None = None,
) -> PreparedFeed:
    """Encode ``rows`` (a ``Rejection`` stands for a source row that cannot be sent) into a spooled version."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    declared = FeedMeta("checking", department, supplier, kind, period_start, period_end, 0, policy)  # fail early
    spool = tempfile.TemporaryFile(prefix="feed-", suffix=".spool", dir=spool_dir)  # noqa: SIM115 - closed by PreparedFeed
    chunks: list[SpooledChunk] = []
    left_out: list[Rejection] = []
    left_out_rows: array[int] = array("q")
    batch: list[Message] = []

    def flush(part: list[Message]) -> None:
        data = encode_rows(kind, part)
        if len(data) > max_chunk_bytes and len(part) > 1:
            half = len(part) // 2
            flush(part[:half])
            flush(part[half:])
            return
        chunks.append(SpooledChunk(spool.tell(), len(data), hashlib.sha256(data).digest(), len(part)))
        spool.write(data)

    try:
        for row in rows:
            if isinstance(row, Rejection):
                left_out_rows.append(row.row_number)
                if len(left_out) < LISTED_LEFT_OUT:
                    left_out.append(row)
                continue
            batch.append(row)
            if len(batch) == chunk_rows:
                flush(batch)
                batch = []
        if batch or not chunks:
            flush(batch)
        spool.flush()
    except BaseException:
        spool.close()
        raise
    records = sum(c.records for c in chunks)
    version_id = version_id_for(
        department=department,
        kind=kind,
        supplier=supplier,
        period_start=period_start,
        period_end=period_end,
        policy=policy,
        records=records,
        digest=version_digest(c.sha256 for c in chunks),
    )
    meta = replace(declared, version_id=version_id, expected_records=records)
    return PreparedFeed(meta, chunks, spool, left_out, len(left_out_rows), left_out_rows)

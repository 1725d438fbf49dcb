"""The supplier's side of an upload: rows into numbered, hashed chunks, and the digest a receipt must show."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence

from google.protobuf.message import Message

from hub.feeds._kinds import kind_by_code
from hub.feeds._meta import FeedMeta
from hub.v1 import feeds_pb2 as pb

#: Rows per chunk: large enough that per-chunk costs (a signature, a transaction) vanish, half the hub's limit.
DEFAULT_CHUNK_ROWS = 5_000


def encode_rows(kind: str, rows: Sequence[Message]) -> bytes:
    """A serialized ``FeedRows`` holding ``rows`` of record kind ``kind``."""
    feed_rows = pb.FeedRows()
    getattr(feed_rows, kind_by_code(kind).rows_field).rows.extend(rows)
    return feed_rows.SerializeToString()


def make_chunk(version_id: str, sequence: int, rows: bytes, meta: FeedMeta | None = None) -> pb.FeedChunk:
    chunk = pb.FeedChunk(
        version_id=version_id, sequence=sequence, chunk_sha256=hashlib.sha256(rows).digest(), rows=rows
    )
    if meta is not None:
        chunk.meta.CopyFrom(meta.to_proto())
    return chunk


def chunked(meta: FeedMeta, rows: Iterable[Message], size: int = DEFAULT_CHUNK_ROWS) -> Iterator[pb.FeedChunk]:
    """The chunks of one version, chunk 0 carrying the declaration (an empty version is one empty chunk)."""
    batch: list[Message] = []
    sequence = 0
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield make_chunk(meta.version_id, sequence, encode_rows(meta.kind, batch), meta if sequence == 0 else None)
            sequence += 1
            batch = []
    if batch or sequence == 0:
        yield make_chunk(meta.version_id, sequence, encode_rows(meta.kind, batch), meta if sequence == 0 else None)


def version_digest(chunk_hashes: Iterable[bytes]) -> bytes:
    """What ``FeedReceipt.digest`` must be: SHA-256 over the chunk hashes in sequence order."""
    return hashlib.sha256(b"".join(chunk_hashes)).digest()

"""The supplier's prepared version: spooled chunks, a version id derived from the data, row numbers translated back."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from hub.errors import InvalidArgument
from hub.feeds import Policy, Rejection, prepare_feed, version_digest
from hub.v1 import feeds_pb2 as pb
from tests.feeds.conftest import SUPPLIER, valid_rows

DECLARED: dict[str, Any] = {
    "department": "medical-insurance",
    "kind": "medical_settlement",
    "supplier": SUPPLIER,
    "period_start": dt.date(2025, 6, 1),
    "period_end": dt.date(2025, 6, 30),
}


def test_chunks_are_spooled_hashed_and_read_back_as_sent() -> None:
    rows = valid_rows("medical_settlement", 11)
    with prepare_feed(rows, **DECLARED, chunk_rows=4) as feed:
        assert [c.records for c in feed.chunks] == [4, 4, 3] and feed.records == 11
        assert feed.meta.expected_records == 11 and feed.meta.policy == Policy.ACCEPT_VALID
        first, second = feed.chunk(0), feed.chunk(1)
        assert first.HasField("meta") and not second.HasField("meta") and feed.chunk(1, declare=True).HasField("meta")
        assert second.chunk_sha256 == hashlib.sha256(second.rows).digest()
        assert list(pb.FeedRows.FromString(second.rows).medical_settlements.rows) == rows[4:8]
        assert feed.digest == version_digest(feed.chunk(n).chunk_sha256 for n in range(3))
        assert feed.records_before(2) == 8


def test_the_version_id_follows_from_the_data_and_the_declaration() -> None:
    rows = valid_rows("medical_settlement", 6)
    ids = set()
    for options in ({}, {}, {"policy": Policy.REJECT_VERSION}, {"period_end": dt.date(2025, 6, 29)}, {"chunk_rows": 2}):
        declared = DECLARED | options
        with prepare_feed(rows, **declared) as feed:
            ids.add(feed.version_id)
            assert feed.version_id.startswith(f"medical_settlement-2025060{1}-{declared['period_end']:%Y%m%d}-")
            assert len(feed.version_id) <= 64
    assert len(ids) == 4  # the first two are the same data declared the same way
    with prepare_feed(valid_rows("medical_settlement", 6, start=1), **DECLARED) as other:
        assert other.version_id not in ids


def test_a_chunk_too_large_in_bytes_is_cut_in_two() -> None:
    with prepare_feed(valid_rows("medical_settlement", 40), **DECLARED, chunk_rows=40, max_chunk_bytes=1200) as feed:
        assert sum(c.records for c in feed.chunks) == 40 and len(feed.chunks) > 1
        assert all(c.length <= 1200 for c in feed.chunks)


def test_an_empty_source_is_one_empty_chunk() -> None:
    with prepare_feed([], **DECLARED) as feed:
        assert feed.records == 0 and len(feed.chunks) == 1
        assert list(pb.FeedRows.FromString(feed.chunk(0).rows).medical_settlements.rows) == []


def test_row_numbers_translate_back_to_the_source_around_rows_left_out() -> None:
    rows: list[Any] = valid_rows("medical_settlement", 10)
    left_out = {2, 3, 7}  # source positions (from 1) that could not be sent
    source = [Rejection(n, "total_fen", "amount", "?") if n in left_out else rows[n - 1] for n in range(1, 11)]
    with prepare_feed(source, **DECLARED) as feed:
        assert feed.records == 7 and feed.left_out_count == 3
        assert [r.row_number for r in feed.left_out] == [2, 3, 7]
        sent = [n for n in range(1, 11) if n not in left_out]
        assert [feed.source_row(r) for r in range(1, 8)] == sent


def test_a_wrong_declaration_fails_before_the_source_is_read() -> None:
    def source() -> Iterator[Any]:
        raise AssertionError("read")
        yield

    with pytest.raises(InvalidArgument, match="come from medical-insurance"):
        prepare_feed(source(), **(DECLARED | {"department": "hrss"}))

"""What the intake answers: a version's progress, a chunk's acknowledgement, the final receipt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp

from hub.errors import Malformed
from hub.feeds._kinds import DEPARTMENTS, department_code, kind_by_code, kind_by_wire
from hub.feeds._meta import STATUS_WIRE, Policy, VersionStatus
from hub.feeds._tables import FeedVersionRow
from hub.feeds._validate import Rejection
from hub.v1 import feeds_pb2 as pb

_STATUS_BY_WIRE = {wire: status for status, wire in STATUS_WIRE.items()}


def timestamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@dataclass(frozen=True)
class VersionState:
    """Where an upload stands: a resumed stream sends ``next_sequence`` next."""

    version_id: str
    status: VersionStatus
    department: str
    supplier: str
    kind: str
    policy: Policy
    next_sequence: int
    expected_records: int
    received_records: int
    accepted_records: int
    rejected_records: int
    token_version: int

    @classmethod
    def of(cls, row: FeedVersionRow) -> VersionState:
        return cls(
            version_id=row.version_id,
            status=VersionStatus(row.status),
            department=row.department,
            supplier=row.supplier,
            kind=row.kind,
            policy=Policy(row.policy),
            next_sequence=row.next_sequence,
            expected_records=row.expected_records,
            received_records=row.received_records,
            accepted_records=row.accepted_records,
            rejected_records=row.rejected_records,
            token_version=row.token_version,
        )

    def to_proto(self) -> pb.UploadProgress:
        return pb.UploadProgress(
            version_id=self.version_id,
            status=STATUS_WIRE[self.status],
            next_sequence=self.next_sequence,
            received_records=self.received_records,
            expected_records=self.expected_records,
        )


@dataclass(frozen=True)
class ChunkAck:
    """One stored chunk. ``duplicate``: it had been stored before and nothing changed."""

    version_id: str
    sequence: int
    records: int
    accepted: int
    rejected: int
    duplicate: bool
    next_sequence: int
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """The outcome of a finished version; the same every time it is asked for."""

    version_id: str
    status: VersionStatus
    department: str
    supplier: str
    kind: str
    period_start: dt.date
    period_end: dt.date
    expected_records: int
    received_records: int
    accepted_records: int
    rejected_records: int
    chunks: int
    digest: bytes
    rejections: tuple[Rejection, ...]
    rejections_truncated: bool
    current: bool
    completed_at: dt.datetime

    @classmethod
    def from_proto(cls, receipt: pb.FeedReceipt) -> Receipt:
        """A receipt as the supplier reads it off the hub's signed answer."""
        status = _STATUS_BY_WIRE.get(receipt.status)
        if status is None:
            raise Malformed(f"the receipt of {receipt.version_id} has no outcome")
        return cls(
            version_id=receipt.version_id,
            status=status,
            department=department_code(receipt.department, "department"),
            supplier=receipt.supplier,
            kind=kind_by_wire(receipt.kind, "kind").code,
            period_start=dt.date.fromisoformat(receipt.period_start),
            period_end=dt.date.fromisoformat(receipt.period_end),
            expected_records=receipt.expected_records,
            received_records=receipt.received_records,
            accepted_records=receipt.accepted_records,
            rejected_records=receipt.rejected_records,
            chunks=receipt.chunks,
            digest=receipt.digest,
            rejections=tuple(Rejection(r.row_number, r.field, r.problem, r.reason) for r in receipt.rejections),
            rejections_truncated=receipt.rejections_truncated,
            current=receipt.current,
            completed_at=receipt.completed_at.ToDatetime(tzinfo=dt.UTC),
        )

    def to_proto(self) -> pb.FeedReceipt:
        return pb.FeedReceipt(
            version_id=self.version_id,
            status=STATUS_WIRE[self.status],
            department=DEPARTMENTS[self.department],
            supplier=self.supplier,
            kind=kind_by_code(self.kind).wire,
            period_start=self.period_start.isoformat(),
            period_end=self.period_end.isoformat(),
            expected_records=self.expected_records,
            received_records=self.received_records,
            accepted_records=self.accepted_records,
            rejected_records=self.rejected_records,
            chunks=self.chunks,
            digest=self.digest,
            rejections=[
                pb.RowRejection(row_number=r.row_number, field=r.field, problem=r.problem, reason=r.reason)
                for r in self.rejections
            ],
            rejections_truncated=self.rejections_truncated,
            current=self.current,
            completed_at=timestamp(self.completed_at),
        )

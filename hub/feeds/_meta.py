"""What a supplier declares about a feed version before its rows: who, what, which period, how many."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import InvalidArgument
from hub.feeds._kinds import DEPARTMENTS, department_code, kind_by_code, kind_by_wire
from hub.identifiers import mask_id_number, validate_member_id
from hub.v1 import feeds_pb2 as pb

_VERSION_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
#: More rows than any one department's yearly data (tens of millions) by a wide margin.
MAX_RECORDS = 1_000_000_000


class Policy(StrEnum):
    """What a rejected row does to its version: chosen by the supplier, unless the hub sets it per feed
    (``feeds.policy``)."""

    REJECT_VERSION = "reject_version"
    ACCEPT_VALID = "accept_valid"


class VersionStatus(StrEnum):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    REJECTED = "rejected"


POLICY_WIRE: dict[Policy, pb.RejectionPolicy] = {
    Policy.REJECT_VERSION: pb.REJECTION_POLICY_REJECT_VERSION,
    Policy.ACCEPT_VALID: pb.REJECTION_POLICY_ACCEPT_VALID,
}
STATUS_WIRE: dict[VersionStatus, pb.FeedVersionStatus] = {
    VersionStatus.RECEIVING: pb.FEED_VERSION_STATUS_RECEIVING,
    VersionStatus.COMPLETE: pb.FEED_VERSION_STATUS_COMPLETE,
    VersionStatus.REJECTED: pb.FEED_VERSION_STATUS_REJECTED,
}
_POLICY_BY_WIRE = {wire: policy for policy, wire in POLICY_WIRE.items()}


def validate_version_id(value: str, field: str = "version_id") -> str:
    if not _VERSION_ID.fullmatch(value):
        raise InvalidArgument(field, "a feed version id is 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'")
    return value


def quoted(value: str) -> str:
    """``value`` as a message may show it: cut short, and masked if it could be an ID number in the wrong field."""
    if sum(c.isdigit() for c in value) >= 14:
        return repr(mask_id_number(value))
    return repr(value if len(value) <= 24 else value[:24] + "…")


def parse_date(value: str, field: str) -> dt.date:
    """A strict ``YYYY-MM-DD`` date (``fromisoformat`` alone would also take ``20250601``)."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise InvalidArgument(field, f"{quoted(value)} is not a date written YYYY-MM-DD", problem="format")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(field, f"{value!r} is not a real date", problem="date") from None


@dataclass(frozen=True)
class FeedMeta:
    """A feed version's declaration; two uploads with the same ``version_id`` must declare the same."""

    version_id: str
    department: str
    supplier: str
    kind: str
    period_start: dt.date
    period_end: dt.date
    expected_records: int
    policy: Policy

    def __post_init__(self) -> None:
        validate_version_id(self.version_id)
        validate_member_id(self.supplier, "meta.supplier")
        record_kind = kind_by_code(self.kind)
        if record_kind.department != self.department:
            raise InvalidArgument(
                "meta.kind", f"{self.kind} records come from {record_kind.department}, not {self.department}"
            )
        if self.period_end < self.period_start:
            raise InvalidArgument("meta.period_end", "the period ends before it starts")
        if not 0 <= self.expected_records <= MAX_RECORDS:
            raise InvalidArgument("meta.expected_records", f"must be between 0 and {MAX_RECORDS:,}")
        Policy(self.policy)

    @classmethod
    def from_proto(cls, version_id: str, meta: pb.FeedVersionMeta) -> FeedMeta:
        """Check and convert the wire declaration (``InvalidArgument`` names the field at fault)."""
        policy = _POLICY_BY_WIRE.get(meta.policy)
        if policy is None:
            raise InvalidArgument("meta.policy", "choose reject_version or accept_valid")
        return cls(
            version_id=validate_version_id(version_id),
            department=department_code(meta.department),
            supplier=meta.supplier,
            kind=kind_by_wire(meta.kind).code,
            period_start=parse_date(meta.period_start, "meta.period_start"),
            period_end=parse_date(meta.period_end, "meta.period_end"),
            expected_records=meta.expected_records,
            policy=policy,
        )

    def to_proto(self) -> pb.FeedVersionMeta:
        return pb.FeedVersionMeta(
            department=DEPARTMENTS[self.department],
            kind=kind_by_code(self.kind).wire,
            supplier=self.supplier,
            period_start=self.period_start.isoformat(),
            period_end=self.period_end.isoformat(),
            expected_records=self.expected_records,
            policy=POLICY_WIRE[self.policy],
        )

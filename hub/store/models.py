"""Every table of the hub, imported in one place so Alembic and ``create_all`` see them all."""

from hub.audit._models import AuditCheckpointRow, AuditEntryRow, AuditHeadRow, AuditNodeRow, AuditSubjectRow
from hub.feeds._tables import FeedChunkRow, FeedCurrentRow, FeedRejectionRow, FeedTokenMapRow, FeedVersionRow
from hub.findings._models import ComparisonRunRow, FindingEventRow, FindingRow
from hub.jobs._models import JobRunItemRow, JobRunRow
from hub.store._base import Base
from hub.store._consent import ConsentRow, ConsentSubjectRow
from hub.store._members import (
    CertificateRow,
    GrantRow,
    JurisdictionRow,
    MemberRow,
    SeenMessageRow,
    SigningKeyRow,
)

__all__ = [
    "AuditCheckpointRow",
    "AuditEntryRow",
    "AuditHeadRow",
    "AuditNodeRow",
    "AuditSubjectRow",
    "Base",
    "CertificateRow",
    "ComparisonRunRow",
    "ConsentRow",
    "ConsentSubjectRow",
    "FeedChunkRow",
    "FeedCurrentRow",
    "FeedRejectionRow",
    "FeedTokenMapRow",
    "FeedVersionRow",
    "FindingEventRow",
    "FindingRow",
    "GrantRow",
    "JobRunItemRow",
    "JobRunRow",
    "JurisdictionRow",
    "MemberRow",
    "SeenMessageRow",
    "SigningKeyRow",
]

"""The tamper-evident audit log (审计日志): a hash chain of every envelope that crosses the hub.

Each entry holds the header fields, the payload hash, the signatures and the subject tokens (never a
raw ID number) and chains to the previous entry's hash; it is appended in the same transaction as the
effect it records. Signed checkpoints (an RFC 6962 Merkle tree head) back inclusion and consistency
proofs, and an export verifies offline with only the hub's public key.

    log = AuditLog(store, hub_signing_key)
    with store.session() as session:
        ...  # the effect
        log.append(session, record_from_opened(opened, kind="request", subject_tokens=[token]))
    log.checkpoint()
"""

from hub.audit._checkpoint import DEFAULT_ORIGIN, SignedCheckpoint
from hub.audit._errors import AuditTampered, ProofInvalid
from hub.audit._export import ExportSummary, export
from hub.audit._log import AuditLog, ConsistencyProof, InclusionProof
from hub.audit._proto import (
    access_report_to_proto,
    checkpoint_from_proto,
    checkpoint_to_proto,
    consistency_to_proto,
    inclusion_to_proto,
)
from hub.audit._record import (
    KINDS,
    AuditEntry,
    AuditRecord,
    PreparedRecord,
    decode_entry,
    encode_entry,
    operator_review_record,
    prepare_envelope,
    prepare_opened,
    record_from_envelope,
    record_from_opened,
)
from hub.audit._report import AccessEntry, access_report_record, render_access_report
from hub.audit._verify import VerifyReport, verify_export

__all__ = [
    "DEFAULT_ORIGIN",
    "KINDS",
    "AccessEntry",
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "AuditTampered",
    "ConsistencyProof",
    "ExportSummary",
    "InclusionProof",
    "PreparedRecord",
    "ProofInvalid",
    "SignedCheckpoint",
    "VerifyReport",
    "access_report_record",
    "access_report_to_proto",
    "checkpoint_from_proto",
    "checkpoint_to_proto",
    "consistency_to_proto",
    "decode_entry",
    "encode_entry",
    "export",
    "inclusion_to_proto",
    "operator_review_record",
    "prepare_envelope",
    "prepare_opened",
    "record_from_envelope",
    "record_from_opened",
    "render_access_report",
    "verify_export",
]

"""The audit core's results as ``hub.v1`` messages, for the servicer to seal into answers (no gRPC here)."""

from __future__ import annotations

from collections.abc import Sequence

from hub.audit._checkpoint import SignedCheckpoint
from hub.audit._log import ConsistencyProof, InclusionProof
from hub.audit._report import AccessEntry
from hub.envelope import timestamp
from hub.v1 import audit_pb2
from hub.v1.envelope_pb2 import Purpose


def checkpoint_to_proto(checkpoint: SignedCheckpoint) -> audit_pb2.Checkpoint:
    return audit_pb2.Checkpoint(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        timestamp=timestamp(checkpoint.timestamp),
        keyid=checkpoint.keyid,
        signature=checkpoint.signature,
        origin=checkpoint.origin,
        body=checkpoint.body,
    )


def checkpoint_from_proto(message: audit_pb2.Checkpoint) -> SignedCheckpoint:
    """Read a checkpoint from its signed ``body`` (the other fields are ignored); verify it before use."""
    return SignedCheckpoint.from_body(message.body, message.keyid, message.signature)


def inclusion_to_proto(proof: InclusionProof, checkpoint: SignedCheckpoint | None = None) -> audit_pb2.InclusionProof:
    message = audit_pb2.InclusionProof(
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        hashes=list(proof.hashes),
        entry_hash=proof.entry_hash,
        entry=proof.entry,
    )
    if checkpoint is not None:
        message.checkpoint.CopyFrom(checkpoint_to_proto(checkpoint))
    return message


def consistency_to_proto(
    proof: ConsistencyProof, checkpoint: SignedCheckpoint | None = None
) -> audit_pb2.ConsistencyProof:
    message = audit_pb2.ConsistencyProof(hashes=list(proof.hashes), first=proof.first, second=proof.second)
    if checkpoint is not None:
        message.checkpoint.CopyFrom(checkpoint_to_proto(checkpoint))
    return message


def access_report_to_proto(entries: Sequence[AccessEntry], *, subject: str, report_seq: int) -> audit_pb2.AccessReport:
    """``subject`` must already be masked (``hub.identifiers.mask_id_number``)."""
    return audit_pb2.AccessReport(
        subject=subject,
        report_seq=report_seq,
        entries=[
            audit_pb2.AccessEntry(
                asker=e.asker,
                service=e.service,
                time=timestamp(e.recorded_at),
                purpose=Purpose(code=e.purpose_code, legal_basis=e.legal_basis, case_number=e.case_number),
                consent_ref=e.consent_ref,
                kind=e.kind,
                recipient=e.recipient,
                message_id=e.message_id,
                outcome=e.outcome,
                seq=e.seq,
            )
            for e in entries
        ],
    )

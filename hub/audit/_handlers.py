"""The Audit service, answered by the hub from its own log (thin: the log does the work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.protobuf.message import Message as ProtoMessage

from hub import services
from hub.audit._log import AuditLog
from hub.audit._proto import access_report_to_proto, checkpoint_to_proto, consistency_to_proto, inclusion_to_proto
from hub.envelope import Opened
from hub.errors import NotFound
from hub.identifiers import mask_id_number, validate_id_number
from hub.privacy import Tokenizer
from hub.v1 import audit_pb2

if TYPE_CHECKING:
    from hub.exchange import LocalHandler
    from hub.policy import Call


def audit_handlers(log: AuditLog, tokenizer: Tokenizer) -> dict[str, LocalHandler]:
    async def latest_checkpoint(request: Opened, call: Call) -> ProtoMessage:
        request.body(audit_pb2.CheckpointRequest)
        checkpoint = log.latest_checkpoint()
        if checkpoint is None:
            raise NotFound("the hub has not signed a checkpoint yet")
        return checkpoint_to_proto(checkpoint)

    async def inclusion_proof(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(audit_pb2.InclusionProofRequest)
        entry: int | str = body.seq if body.WhichOneof("entry") == "seq" else body.message_id
        proof = log.inclusion_proof(entry, body.tree_size or None)
        # The checkpoint of the proof's own size (the proto's contract), not the latest: that one is of another
        # size when the client named one, or when the scheduler signed a newer one meanwhile.
        return inclusion_to_proto(proof, log.checkpoint_at(proof.tree_size))

    async def consistency_proof(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(audit_pb2.ConsistencyProofRequest)
        return consistency_to_proto(log.consistency_proof(body.first, body.second or None))

    async def access_report(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(audit_pb2.AccessReportRequest)
        number = validate_id_number(body.id_number, "id_number")
        entries = log.access_report(tokenizer.every_token(number), kinds=("request",))
        # The question itself is logged by the exchange, with this person as its subject.
        return access_report_to_proto(entries, subject=mask_id_number(number), report_seq=log.size())

    return {
        services.AUDIT_LATEST_CHECKPOINT: latest_checkpoint,
        services.AUDIT_INCLUSION_PROOF: inclusion_proof,
        services.AUDIT_CONSISTENCY_PROOF: consistency_proof,
        services.AUDIT_ACCESS_REPORT: access_report,
    }

"""The public face of ``hub.audit``, its protobuf forms, and its independence from gRPC."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import hub.audit
from hub import services
from hub.audit import (
    AuditLog,
    access_report_to_proto,
    checkpoint_from_proto,
    checkpoint_to_proto,
    consistency_to_proto,
    inclusion_to_proto,
)
from hub.audit._handlers import audit_handlers
from hub.envelope import SigningKey
from hub.privacy import Tokenizer
from hub.store import Store
from hub.v1 import audit_pb2

from .conftest import make_record, token


def test_the_public_surface_is_deliberate() -> None:
    assert set(hub.audit.__all__) == {
        "DEFAULT_ORIGIN", "KINDS", "AccessEntry", "AuditEntry", "AuditLog", "AuditRecord", "AuditTampered",
        "ConsistencyProof", "ExportSummary", "InclusionProof", "PreparedRecord", "ProofInvalid", "SignedCheckpoint", "VerifyReport",
        "access_report_record", "access_report_to_proto", "checkpoint_from_proto", "checkpoint_to_proto",
        "consistency_to_proto", "decode_entry", "encode_entry", "export", "inclusion_to_proto", "operator_review_record",
        "prepare_envelope", "prepare_opened", "record_from_envelope", "record_from_opened", "render_access_report", "verify_export",
    }  # fmt: skip


def test_the_audit_core_does_not_import_grpc() -> None:
    code = "import sys, hub.audit, hub.cli.audit; sys.exit('grpc' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_protobuf_forms_carry_what_a_client_verifies(store: Store, audit_log: AuditLog, hub_key: SigningKey) -> None:
    with store.session() as session:
        audit_log.append_many(session, [make_record(n, tokens=(token(1),)) for n in range(5)])
    signed = audit_log.checkpoint()

    wire = audit_pb2.Checkpoint.FromString(checkpoint_to_proto(signed).SerializeToString())
    assert (wire.tree_size, wire.root_hash, wire.keyid) == (5, signed.root_hash, hub_key.keyid)
    received = checkpoint_from_proto(wire)
    received.verify(hub_key.public)

    inclusion = audit_pb2.InclusionProof.FromString(
        inclusion_to_proto(audit_log.inclusion_proof(3), signed).SerializeToString()
    )
    assert (inclusion.leaf_index, inclusion.tree_size, inclusion.checkpoint.body) == (3, 5, signed.body)
    rebuilt = hub.audit.InclusionProof(
        inclusion.leaf_index, inclusion.tree_size, inclusion.entry_hash, inclusion.entry, tuple(inclusion.hashes)
    )
    rebuilt.verify(received.root_hash)
    assert hub.audit.decode_entry(inclusion.entry).record.message_id == make_record(3).message_id

    consistency = consistency_to_proto(audit_log.consistency_proof(2), signed)
    assert (consistency.first, consistency.second, len(consistency.hashes)) == (2, 5, 2)

    report = access_report_to_proto(audit_log.access_report(token(1)), subject="110105********002X", report_seq=9)
    assert [e.seq for e in report.entries] == [0, 1, 2, 3, 4]
    first = report.entries[0]
    assert (first.asker, first.purpose.code, first.purpose.case_number) == (
        "11130629MB1234567X/dibao",
        "dibao.application",
        "容民救〔2025〕0号",
    )


class _Request:
    """Stands in for an opened envelope: the handlers only read its body."""

    def __init__(self, body: object) -> None:
        self._body = body

    def body(self, cls: type) -> object:
        assert isinstance(self._body, cls)
        return self._body


def _inclusion(log: AuditLog, **fields: object) -> audit_pb2.InclusionProof:
    handler = audit_handlers(log, Tokenizer({1: bytes(32)}, 1))[services.AUDIT_INCLUSION_PROOF]
    answer = asyncio.run(handler(_Request(audit_pb2.InclusionProofRequest(**fields)), None))  # type: ignore[arg-type]
    assert isinstance(answer, audit_pb2.InclusionProof)
    return answer


def _append(store: Store, log: AuditLog, *numbers: int) -> None:
    with store.session() as session:
        log.append_many(session, [make_record(n) for n in numbers])


def test_an_inclusion_proof_for_an_older_size_carries_the_checkpoint_of_that_size(
    store: Store, audit_log: AuditLog
) -> None:
    _append(store, audit_log, 0, 1)
    audit_log.checkpoint()
    _append(store, audit_log, 2, 3)
    audit_log.checkpoint()
    answer = _inclusion(audit_log, seq=1, tree_size=2)
    assert answer.tree_size == 2
    assert answer.checkpoint.tree_size == 2  # "a signed checkpoint of `tree_size`": one the client can verify with
    checkpoint_from_proto(answer.checkpoint).verify(audit_log.signer.public)  # type: ignore[union-attr]
    audit_log.inclusion_proof(1, 2).verify(answer.checkpoint.root_hash)


def test_an_inclusion_proof_carries_the_checkpoint_it_was_made_for_when_another_is_signed_meanwhile(
    store: Store, audit_log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(store, audit_log, 0, 1)
    audit_log.checkpoint()
    prove = audit_log.inclusion_proof

    def then_the_scheduler_signs(*args: object, **kwargs: object) -> object:
        proof = prove(*args, **kwargs)  # type: ignore[arg-type]
        _append(store, audit_log, 2)
        audit_log.checkpoint()
        return proof

    monkeypatch.setattr(audit_log, "inclusion_proof", then_the_scheduler_signs)
    answer = _inclusion(audit_log, seq=0)
    assert answer.tree_size == answer.checkpoint.tree_size == 2

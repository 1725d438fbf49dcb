"""Every exchange lands in the audit log: the person can see who asked, and anyone with the hub key can verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import services
from hub.audit import checkpoint_from_proto, export, verify_export
from hub.audit._log import InclusionProof
from hub.sandbox import MemberSpec, Sandbox
from hub.v1 import audit_pb2
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Purpose
from tests.integration.conftest import ANSWERER, ASKER, answering_transport, run

pytestmark = pytest.mark.integration

PERSON = "13062919880512001X"
AUDITS = (services.AUDIT_ACCESS_REPORT, services.AUDIT_LATEST_CHECKPOINT, services.AUDIT_INCLUSION_PROOF)


def test_queries_are_logged_reported_to_the_person_and_provable_offline(tmp_path: Path, database_url: str) -> None:
    async def scenario() -> None:
        grants = ((services.HOUSEHOLD_REGISTRATION, "*"), *((s, "*") for s in AUDITS))
        sandbox = Sandbox(
            tmp_path / "world",
            [
                MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=grants),
                MemberSpec(ANSWERER, "public-security", "容城县公安局", ("130629",)),
            ],
            database_url=database_url,
        )
        sandbox.provision()
        await sandbox.start(transport=answering_transport(sandbox), with_nodes=False)
        try:
            assert sandbox.hub is not None
            client = sandbox.client(ASKER)
            purpose = Purpose(code="dibao.application", legal_basis="社会救助暂行办法 第五十八条", case_number="DX-42")
            answer = await client.ask(
                services.HOUSEHOLD_REGISTRATION,
                v.HouseholdRegistrationQuery(person=v.Person(id_number=PERSON)),
                v.HouseholdRegistrationResult,
                recipient="public-security@130629",
                purpose=purpose,
            )
            asked_id = answer.request  # the request envelope as sent

            report = await client.ask(
                services.AUDIT_ACCESS_REPORT,
                audit_pb2.AccessReportRequest(id_number=PERSON),
                audit_pb2.AccessReport,
                recipient="hub",
                purpose=Purpose(code="citizen.access_report"),
            )
            (entry,) = report.body.entries
            assert entry.asker == ASKER and entry.service == services.HOUSEHOLD_REGISTRATION
            assert entry.purpose.case_number == "DX-42" and entry.outcome == "ok"
            assert PERSON not in str(report.body) and report.body.subject.startswith("130629")

            log = sandbox.hub.core.journal.audit
            assert log is not None
            log.checkpoint()
            checkpoint = (
                await client.ask(
                    services.AUDIT_LATEST_CHECKPOINT,
                    audit_pb2.CheckpointRequest(),
                    audit_pb2.Checkpoint,
                    recipient="hub",
                    purpose=purpose,
                )
            ).body
            signed = checkpoint_from_proto(checkpoint)
            signed.verify(sandbox.hub_key())
            proof = (
                await client.ask(
                    services.AUDIT_INCLUSION_PROOF,
                    audit_pb2.InclusionProofRequest(seq=entry.seq, tree_size=signed.tree_size),
                    audit_pb2.InclusionProof,
                    recipient="hub",
                    purpose=purpose,
                )
            ).body
            InclusionProof(
                proof.leaf_index, proof.tree_size, proof.entry_hash, proof.entry, tuple(proof.hashes)
            ).verify(signed.root_hash)
            assert asked_id.payload  # the asker holds the body the log only hashes

            # The log holds no raw ID number, and verifies offline with only the hub's public key.
            exported = tmp_path / "audit.jsonl"
            export(sandbox.hub.store, exported)
            assert PERSON.encode() not in exported.read_bytes()
            summary = verify_export(exported, sandbox.hub_key())
            assert summary.entries >= 4  # query, answer, access-report question and answer
        finally:
            await sandbox.stop()

    run(scenario())

"""The Findings service over signed RPCs on a running hub: run, list, review, export — each bureau its own."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from hub import services
from hub.errors import HubError
from hub.feeds import FeedIntake
from hub.privacy import load_secrets
from hub.sandbox import MemberSpec, Sandbox
from hub.store import open_store
from hub.v1 import findings_pb2 as pb
from hub.v1.envelope_pb2 import Purpose
from tests.findings.conftest import BUREAU_OF, NOW, World

OPERATOR = "11130000MB00000118"  # 河北省民政厅, runs the hub
PURPOSE = Purpose(code="findings.review")
BUREAU_SERVICES = (services.FINDINGS_LIST, services.FINDINGS_REVIEW, services.FINDINGS_EXPORT)


def sandbox_for(root: Path, database_url: str) -> Sandbox:
    grants = tuple((s, "*") for s in BUREAU_SERVICES)
    return Sandbox(
        root,
        [
            MemberSpec(OPERATOR, "civil-affairs", "河北省民政厅", ("13",), grants=((services.FINDINGS_RUN, "*"),)),
            MemberSpec(BUREAU_OF["110105"], "civil-affairs", "朝阳区民政局", ("110105",), grants=grants),
            MemberSpec(BUREAU_OF["440308"], "civil-affairs", "盐田区民政局", ("440308",), grants=grants),
        ],
        database_url=database_url,
    )


def load_world(sandbox: Sandbox) -> list[str]:
    secrets = load_secrets(sandbox.root)
    store = open_store(sandbox.settings().resolved_database_url)
    try:
        world = World()
        chaoyang = world.household("110105", 2)
        world.death(chaoyang[1], "2025-05-01")
        yantian = world.household("440308", 2)
        world.death(yantian[0], "2025-04-01")
        world.load(FeedIntake(store, secrets.tokenizer, secrets.cipher, clock=lambda: NOW))
    finally:
        store.dispose()
    return chaoyang


@pytest.mark.integration
def test_bureaus_review_and_export_their_findings_over_the_wire(tmp_path: Path, database_url: str) -> None:
    async def scenario() -> None:
        sandbox = sandbox_for(tmp_path / "world", database_url)
        sandbox.provision()
        chaoyang = load_world(sandbox)
        await sandbox.start(with_nodes=False)
        try:
            operator = sandbox.client(OPERATOR)
            ran = await operator.ask(
                services.FINDINGS_RUN,
                pb.ComparisonRun(as_of="2025-06-30"),
                pb.ComparisonResult,
                recipient="hub",
                purpose=PURPOSE,
            )
            assert ran.body.findings_raised == 2 and ran.body.as_of == "2025-06-30"
            outcomes = {o.rule: o for o in ran.body.rules}
            assert outcomes["member_died"].new_findings == 2 and "property" in outcomes["second_home"].skipped

            bureau = sandbox.client(BUREAU_OF["110105"])
            listed = await bureau.ask(
                services.FINDINGS_LIST, pb.FindingQuery(), pb.FindingList, recipient="hub", purpose=PURPOSE
            )
            (mine,) = listed.body.findings
            assert mine.rule == "member_died" and mine.locality == "110105" and mine.bureau == BUREAU_OF["110105"]
            assert mine.status == pb.FINDING_STATUS_OPEN and mine.person.startswith(chaoyang[1][:6] + "****")
            assert chaoyang[1] not in mine.SerializeToString().decode("utf-8", "replace")
            assert json.loads(mine.evidence_json)["first_on"] == "2025-05-01" and mine.rule_title

            for action, reason in ((pb.REVIEW_ACTION_START, ""), (pb.REVIEW_ACTION_CONFIRM, "火化证明已核实")):
                reviewed = await bureau.ask(
                    services.FINDINGS_REVIEW,
                    pb.FindingReview(finding_id=mine.finding_id, action=action, reviewer="李四", reason=reason),
                    pb.Finding,
                    recipient="hub",
                    purpose=PURPOSE,
                )
            assert (
                reviewed.body.status == pb.FINDING_STATUS_CONFIRMED and reviewed.body.reviewed_by == BUREAU_OF["110105"]
            )
            assert [e.to_status for e in reviewed.body.history] == [
                pb.FINDING_STATUS_UNDER_REVIEW,
                pb.FINDING_STATUS_CONFIRMED,
            ]

            other = sandbox.client(BUREAU_OF["440308"])
            with pytest.raises(HubError) as hidden:
                await other.ask(
                    services.FINDINGS_REVIEW,
                    pb.FindingReview(finding_id=mine.finding_id, action=pb.REVIEW_ACTION_START, reviewer="赵六"),
                    pb.Finding,
                    recipient="hub",
                    purpose=PURPOSE,
                )
            assert hidden.value.reason == "NOT_FOUND"
            theirs = (
                await other.ask(
                    services.FINDINGS_LIST, pb.FindingQuery(), pb.FindingList, recipient="hub", purpose=PURPOSE
                )
            ).body.findings[0]
            with pytest.raises(HubError) as no_reason:
                await other.ask(
                    services.FINDINGS_REVIEW,
                    pb.FindingReview(finding_id=theirs.finding_id, action=pb.REVIEW_ACTION_DISMISS, reviewer="赵六"),
                    pb.Finding,
                    recipient="hub",
                    purpose=PURPOSE,
                )
            assert no_reason.value.reason == "INVALID_ARGUMENT" and "reason" in no_reason.value.explanation
            assert sandbox.hub is not None and sandbox.hub.core.journal.audit is not None
            audit = sandbox.hub.core.journal.audit
            entries = [audit.entry(seq).record for seq in range(audit.size())]
            reviews = [(e.kind, e.sender) for e in entries if e.service == services.FINDINGS_REVIEW]
            # each review step committed with its request and answer; the two refusals left nothing
            assert reviews == [("request", BUREAU_OF["110105"]), ("response", "hub")] * 2

            exported = await bureau.ask(
                services.FINDINGS_EXPORT,
                pb.FindingExportRequest(format=pb.EXPORT_FORMAT_CSV, with_id_numbers=True),
                pb.FindingExport,
                recipient="hub",
                purpose=PURPOSE,
            )
            assert exported.body.rows == 1 and exported.body.filename.endswith(".csv")
            table = list(csv.DictReader(io.StringIO(exported.body.content.decode("utf-8-sig"))))
            assert table[0]["对象身份证号 Person ID"] == chaoyang[1] and table[0]["状态 Status"] == "属实 confirmed"

            with pytest.raises(HubError) as refused:
                await bureau.ask(
                    services.FINDINGS_RUN, pb.ComparisonRun(), pb.ComparisonResult, recipient="hub", purpose=PURPOSE
                )
            assert refused.value.reason == "NOT_GRANTED"
        finally:
            await sandbox.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))

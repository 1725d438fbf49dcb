"""Household check (一键核对) fan-out to 6 in-process source adapters, through the real server over mTLS.

Target (DESIGN.md): p50 ≤ 20 ms. Each source answers from memory, so what is measured is the hub:
consent check, six hub-signed questions, six member-signed answers verified, the report signed,
everything audited.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ASKER = "11110115MB0000007E"
SOURCES = {
    "public-security": "11110000MB0000100",
    "rural-revitalisation": "11110000MB0000101",
    "hrss": "11110000MB0000102",
    "housing": "11110000MB0000103",
    "medical-insurance": "11110000MB0000104",
    "education": "11110000MB0000105",
}
MEMBERS = ["11010519491231002X", "440308199901101512"]


def uscc(first17: str) -> str:
    from hub.identifiers import uscc_check_character

    return first17 + uscc_check_character(first17)


async def measure(calls: int) -> dict[str, float]:
    from adapters.testing import MockAdapter
    from hub import services
    from hub.envelope import timestamp
    from hub.node import Node
    from hub.pki import load_member
    from hub.sandbox import MemberSpec, Sandbox
    from hub.transport import InProcessTransport
    from hub.v1 import verification_pb2 as v
    from hub.v1.envelope_pb2 import Purpose

    grants = tuple((s, "*") for s in (services.HOUSEHOLD_CHECK, services.CONSENT_REGISTER))
    specs = [MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=grants)]
    specs += [MemberSpec(uscc(base), kind, kind, ("11",)) for kind, base in SOURCES.items()]
    with tempfile.TemporaryDirectory() as tmp:
        unlimited = {"per_member_per_second": 0, "per_purpose_per_second": 0}
        sandbox = Sandbox(Path(tmp), specs, settings_overrides={"rate_limits": unlimited})
        sandbox.provision()

        def answer(body: Any, context: Any) -> v.SourceReport:
            return v.SourceReport(
                facts=[v.SourceFact(id_number=p.id_number, name="checked", value="1") for p in body.members]
            )

        nodes: dict[str, Any] = {}
        for kind, base in SOURCES.items():
            member = uscc(base)
            adapter = MockAdapter(answer, [services.HOUSEHOLD_CHECK], kind=kind)
            nodes[member] = Node(member, load_member(sandbox.pki_dir, member).signing_key, sandbox.hub_key(), adapter)
        await sandbox.start(transport=InProcessTransport(nodes, sandbox.hub_key()), with_nodes=False)
        client = sandbox.client(ASKER)
        try:
            receipt = await client.ask(
                services.CONSENT_REGISTER,
                v.ConsentRegistration(
                    signer_id_numbers=MEMBERS,
                    covered_id_numbers=MEMBERS,
                    scopes=list(SOURCES),
                    valid_until=timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)),
                    document_sha256=hashlib.sha256(b"authorisation").digest(),
                ),
                v.ConsentReceipt,
                recipient="hub",
                purpose=Purpose(code="household.check"),
            )
            request = v.HouseholdCheckRequest(members=[v.Person(id_number=n) for n in MEMBERS], sources=list(SOURCES))
            latencies = []
            for i in range(calls + 10):
                started = time.perf_counter()
                report = await client.ask(
                    services.HOUSEHOLD_CHECK,
                    request,
                    v.HouseholdCheckReport,
                    recipient="hub",
                    purpose=Purpose(code="household.check"),
                    consent_ref=receipt.body.consent_ref,
                )
                if i >= 10:
                    latencies.append((time.perf_counter() - started) * 1000)
                assert report.body.complete and len(report.body.source_answers) == len(SOURCES), str(report.body)[:3000]
        finally:
            await sandbox.stop()
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "calls": float(len(latencies)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    result = asyncio.run(measure(parser.parse_args().calls))
    verdict = "meets" if result["p50_ms"] <= 20 else "BELOW"
    print(
        f"household check, 6 sources: p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms (target p50 ≤ 20 ms): {verdict}"
    )


if __name__ == "__main__":
    main()

"""The demo: the 居住地申办 story told as signed queries between real processes on loopback.

A residence-permit holder applies for 低保 where they live (大兴区). The residence bureau verifies the
permit and the 户籍, sends a formal inquiry (函询) to the civil-affairs bureau of the 户籍 locality
(容城县), learns that applicant A already receives 低保 there and applicant B nothing, enrols B and
notifies (转接) 容城县, whose next answer about B shows the enrolment at the residence.

The hub and every agency node are separate ``python -m hub.cli`` processes over mutual TLS; the
residence bureau is this process, a ``HubClient``. The same function backs ``hubctl demo`` and an
integration test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w

from adapters.demo import Demo, DemoPerson, write_demo
from hub import services
from hub.envelope import timestamp
from hub.grpc.client import Answer, HubClient
from hub.identifiers import mask_id_number
from hub.registry import Registry
from hub.sandbox import MemberSpec, Sandbox
from hub.store import open_store
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Purpose

DAXING_CA = "11110115MB0000007E"  # 大兴区民政局: the residence bureau, asks
DAXING_PS = "11110115MB0000037H"  # 大兴区公安分局: residence permits
RONGCHENG_PS = "11130629MB1234567U"  # 容城县公安局: 户籍
RONGCHENG_CA = "11130629MB0000027U"  # 容城县民政局: the 户籍 locality's bureau

PURPOSE = Purpose(
    code="dibao.application", legal_basis="社会救助暂行办法 第十一条、第五十八条", case_number="大兴民低保〔2026〕042号"
)
NAMES = {
    DAXING_CA: "大兴区民政局",
    DAXING_PS: "大兴区公安分局",
    RONGCHENG_PS: "容城县公安局",
    RONGCHENG_CA: "容城县民政局",
    "hub": "the hub",
}
ASKED = (
    services.RESIDENCE_PERMIT,
    services.HOUSEHOLD_REGISTRATION,
    services.ASSISTANCE_INQUIRY,
    services.ENROLMENT_NOTICE,
)
PROGRAMMES = {v.DIBAO: "低保", v.TEKUN: "特困", v.DIBAO_EDGE: "低保边缘", v.TEMPORARY: "临时救助"}
CHINA = ZoneInfo("Asia/Shanghai")
PORT_LINE = re.compile(r"listening on (?:[\d.]+:|port )(\d+)")


@dataclass
class Outcome:
    """What the story established, for the test to assert and the transcript to tell."""

    permits_valid: dict[str, bool] = field(default_factory=dict)
    hukou_regions: dict[str, str] = field(default_factory=dict)
    assistance_before: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    enrolment_recorded: bool = False
    assistance_after: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)


def members(demo: Demo) -> list[MemberSpec]:
    grants = tuple((service, PURPOSE.code) for service in ASKED)
    return [
        MemberSpec(DAXING_CA, "civil-affairs", NAMES[DAXING_CA], ("110115",), grants=grants),
        MemberSpec(
            DAXING_PS,
            "public-security",
            NAMES[DAXING_PS],
            ("110115",),
            "public-security",
            demo.config("public-security"),
        ),
        MemberSpec(
            RONGCHENG_PS,
            "public-security",
            NAMES[RONGCHENG_PS],
            ("130629",),
            "public-security",
            demo.config("public-security"),
            suite="ecdsa-p256",
        ),
        MemberSpec(
            RONGCHENG_CA,
            "civil-affairs",
            NAMES[RONGCHENG_CA],
            ("130629",),
            "civil-affairs",
            demo.config("civil-affairs"),
        ),
    ]


class Processes:
    """Child processes of the demo, each logging to a file in the demo folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.children: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def start(self, name: str, *args: str) -> int:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "hub.cli", "--data-dir", str(self.root), *args]
        with log.open("wb") as handle:
            child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        self.children[name] = (child, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = PORT_LINE.search(log.read_text(errors="replace"))
            if match:
                return int(match.group(1))
            if child.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> dict[str, int]:
        """SIGTERM everyone, then wait: a clean shutdown exits 0."""
        for child, _ in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        codes: dict[str, int] = {}
        for name, (child, _) in self.children.items():
            try:
                codes[name] = child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                codes[name] = child.wait()
        return codes


def _who(member_id: str) -> str:
    return f"{NAMES.get(member_id, member_id)}"


def _verified(answer: Answer[Any]) -> str:
    keys = ", ".join(f"{_who(k.owner)} ({k.suite.name} {k.keyid[:12]}…)" for k in answer.verified_by)
    return f"verified: {keys}; request_hash binds it to this question"


def _person(p: DemoPerson) -> str:
    return f"{p.name} ({mask_id_number(p.id_number)})"


async def tell(client: HubClient, demo: Demo, outcome: Outcome, say: Callable[[str], None]) -> None:
    a, b = demo.a, demo.b
    say(f"\n① 居住证核验 · {_who(DAXING_CA)} → {_who(DAXING_PS)} (public-security@110115)")
    for p in (a, b):
        answer = await client.ask(
            services.RESIDENCE_PERMIT,
            v.ResidencePermitQuery(person=v.Person(id_number=p.id_number), region_code="110115"),
            v.ResidencePermitResult,
            recipient="public-security@110115",
            purpose=PURPOSE,
        )
        r = answer.body
        since = r.living_since.ToDatetime(tzinfo=CHINA).date() if r.HasField("living_since") else "?"
        outcome.permits_valid[p.label] = r.valid
        say(
            f"   {_person(p)}: permit {'valid' if r.valid else 'NOT valid'}, endorsed this year: {r.endorsed_this_year}, living in {r.address_region_code} since {since}"
        )
    say(f"   {_verified(answer)}")

    say(f"\n② 户籍核验 · {_who(DAXING_CA)} → {_who(RONGCHENG_PS)} (public-security@130629)")
    for p in (a, b):
        hukou = await client.ask(
            services.HOUSEHOLD_REGISTRATION,
            v.HouseholdRegistrationQuery(person=v.Person(id_number=p.id_number)),
            v.HouseholdRegistrationResult,
            recipient="public-security@130629",
            purpose=PURPOSE,
        )
        outcome.hukou_regions[p.label] = hukou.body.region_code
        say(
            f"   {_person(p)}: registered {hukou.body.registered} in {hukou.body.region_code}, household of {len(hukou.body.members)}"
        )
    say(f"   {_verified(hukou)}")

    async def inquire(when: dict[str, list[tuple[str, str]]]) -> Answer[v.AssistanceAnswer]:
        answer = await client.ask(
            services.ASSISTANCE_INQUIRY,
            v.AssistanceInquiry(
                persons=[v.Person(id_number=a.id_number), v.Person(id_number=b.id_number)],
                household_region_code="130629",
            ),
            v.AssistanceAnswer,
            recipient="civil-affairs@130629",
            purpose=PURPOSE,
        )
        for p in (a, b):
            records = [r for r in answer.body.records if r.id_number == p.id_number]
            when[p.label] = [(PROGRAMMES.get(r.programme, str(r.programme)), r.locality) for r in records]
            text = "; ".join(
                f"{PROGRAMMES.get(r.programme, r.programme)} in {r.locality} since {r.since.ToDatetime(tzinfo=CHINA).date()}"
                for r in records
            )
            say(f"   {_person(p)}: {text or 'no assistance known'}")
        return answer

    say(
        f"\n③ 函询 · {_who(DAXING_CA)} → {_who(RONGCHENG_CA)} (civil-affairs@130629): do they already receive assistance?"
    )
    inquiry = await inquire(outcome.assistance_before)
    say(f"   {_verified(inquiry)}")
    say("   → A is already on 低保 in 容城县: a second enrolment would be 重复救助. B may be enrolled.")

    say(f"\n④ 转接 · {_who(DAXING_CA)} → {_who(RONGCHENG_CA)}: B enrolled in 低保 at 大兴区")
    notice = v.EnrolmentNotice(
        change=v.NEW_ENROLMENT,
        record=v.AssistanceRecord(
            id_number=b.id_number,
            programme=v.DIBAO,
            locality="110115",
            since=timestamp(dt.datetime.now(dt.UTC)),
            monthly_amount_fen=129000,
            status=v.ACTIVE,
        ),
        reason="居住地申办 approved",
    )
    ack = await client.ask(services.ENROLMENT_NOTICE, notice, v.EnrolmentAck, recipient=RONGCHENG_CA, purpose=PURPOSE)
    outcome.enrolment_recorded = ack.body.recorded
    say(f"   recorded: {ack.body.recorded}, reference {ack.body.reference or '-'}; {_verified(ack)}")

    say(f"\n⑤ 函询 again · {_who(RONGCHENG_CA)} now knows where B is paid:")
    await inquire(outcome.assistance_after)


async def run_demo(root: Path, say: Callable[[str], None] = print) -> Outcome:
    outcome = Outcome()
    say(f"Demo folder: {root}  (dev PKI, SQLite database, agency data, process logs)")
    demo = write_demo(root / "agency-data")
    specs = members(demo)
    sandbox = Sandbox(root, specs)
    sandbox.provision()
    say("Dev PKI: a CA, the hub and 4 members, each with a TLS certificate and a separate signing key.")
    processes = Processes(root)
    try:
        registry = Registry(open_store(sandbox.settings().resolved_database_url))
        for spec in specs:
            if not spec.adapter:
                continue
            config = root / "nodes" / f"{spec.member_id[:18]}.toml"
            config.parent.mkdir(exist_ok=True)
            config.write_text(tomli_w.dumps(dict(spec.adapter_config)))
            port = processes.start(
                f"node-{spec.member_id[:18]}",
                "node",
                "--member",
                spec.member_id,
                "--adapter",
                spec.adapter,
                "--config",
                str(config),
            )
            registry.set_endpoint(spec.member_id, f"127.0.0.1:{port}")
            say(
                f"  agency node {_who(spec.member_id)} ({spec.adapter} adapter) on 127.0.0.1:{port}, pid {processes.children[f'node-{spec.member_id[:18]}'][0].pid}"
            )
        registry.store.dispose()
        sandbox.external_hub_port = processes.start("hub", "serve", "--listen", "127.0.0.1:0")
        say(f"  hub on {sandbox.hub_address} over mutual TLS, pid {processes.children['hub'][0].pid}")
        client = sandbox.client(DAXING_CA, known=[s.member_id for s in specs if s.adapter])
        try:
            await tell(client, demo, outcome, say)
        finally:
            await client.aclose()
    finally:
        outcome.exit_codes = processes.stop()
    clean = all(code == 0 for code in outcome.exit_codes.values())
    say(
        f"\nShut down {len(outcome.exit_codes)} processes with SIGTERM: {'all exited cleanly' if clean else outcome.exit_codes}."
    )
    return outcome


def run(root: Path, say: Callable[[str], None] = print) -> Outcome:
    return asyncio.run(run_demo(root, say))

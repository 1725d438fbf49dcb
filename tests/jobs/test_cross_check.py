"""The annual cross-check through real nodes in-process: who is asked, what is found, and a resumed run."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub import services
from hub.audit import AuditLog
from hub.audit._models import AuditEntryRow
from hub.envelope import SigningKey
from hub.findings import FindingBook, FindingFilter, Status
from hub.jobs import (
    CrossCheck,
    FeedFacts,
    JobEnvironment,
    JobRunner,
    MemoryFindingSink,
    RosterEnrolments,
    RunStatus,
    build_jobs,
)
from hub.jobs._context import ItemLedger
from hub.jobs._cross_check import in_region
from hub.v1 import feeds_pb2 as fpb
from hub.v1 import verification_pb2 as v
from tests.jobs.conftest import DAXING_CA, DAXING_PS, RONGCHENG_CA, RONGCHENG_PS, Clock, Federation, job_settings, run
from tests.jobs.conftest import roster_row as row

DUE = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)


def enrol_demo(federation: Federation) -> dict[str, str]:
    """Seven enrolments paid by 大兴区 (and one by 容城县); returns label → ID number."""
    demo = federation.demo
    people = {
        label: demo.persons[label].id_number for label in ("A", "A.spouse", "B", "B.father", "bg1", "bg2", "bg28")
    }
    federation.roster(
        [
            row(people["A"], people["A"]),
            row(people["A.spouse"], people["A"]),
            row(people["B"], people["B"]),
            row(people["B.father"], people["B"]),  # died this year; still on the roster
            row(people["bg1"], people["bg1"]),  # 户籍 in 安新县: no civil-affairs member there
            row(people["bg2"], people["bg2"], programme=v.TEKUN),  # 户籍 in 朝阳区: none there either
            row(people["bg28"], people["bg28"], locality="130629"),  # 容城县 pays its own resident
        ]
    )
    federation.properties(
        [
            fpb.PropertyRow(
                id_number=people["A"],
                certificate_number="C-1",
                region_code="130629",
                property_kind=fpb.PROPERTY_KIND_RESIDENTIAL,
                registered_on="2019-05-01",
                floor_area_cm2=8_000_000,
            ),
            fpb.PropertyRow(
                id_number=people["B"],
                certificate_number="C-2",
                region_code="110115",
                property_kind=fpb.PROPERTY_KIND_RESIDENTIAL,
                registered_on="2020-05-01",
                floor_area_cm2=6_000_000,
            ),
            fpb.PropertyRow(
                id_number=people["B"],
                certificate_number="C-3",
                region_code="130629",
                property_kind=fpb.PROPERTY_KIND_COMMERCIAL,
                registered_on="2021-05-01",
                floor_area_cm2=4_000_000,
            ),
        ]
    )
    return people


def cross_check(federation: Federation, sink: MemoryFindingSink, audit: AuditLog | None = None) -> CrossCheck:
    return CrossCheck(
        federation.questions,
        federation.directory,
        RosterEnrolments(federation.store, federation.secrets.cipher),
        sink,
        federation.secrets.tokenizer,
        FeedFacts(federation.store, federation.secrets.tokenizer),
        audit,
    )


def first_hash(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()[:12]


def by_person(sink: MemoryFindingSink, federation: Federation, people: dict[str, str]) -> dict[str, set[str]]:
    tokens = {federation.secrets.tokenizer.token(number): label for label, number in people.items()}
    found: dict[str, set[str]] = {}
    for finding in sink.findings.values():
        found.setdefault(tokens[finding.subject], set()).add(finding.kind)
    return found


def test_in_region_follows_division_prefixes() -> None:
    assert in_region("110115", "110115") and in_region("110115", "110100") and in_region("110115", "110000")
    assert not in_region("110105", "110115") and not in_region("130629", "110000")


def test_the_cross_check_asks_the_hukou_locality_and_raises_findings(federation: Federation, tmp_path: Path) -> None:
    people = enrol_demo(federation)
    sink = MemoryFindingSink()
    audit = AuditLog(federation.store, SigningKey.generate("ed25519", "hub"))
    job = cross_check(federation, sink, audit)
    runner = JobRunner(federation.store, {job.name: job}, job_settings(tmp_path, concurrency=3), holder="h")
    record = run(runner.run_due(job.name, DUE))
    assert record is not None and record.status is RunStatus.SUCCEEDED, record and record.error
    assert record.report == {
        "enrolments": 7,
        "asked": 7,
        "questions": 7 + 3,  # 户籍 for everyone, 函询 for the three residence-based households that could be routed
        "answered": 3,
        "local": 1,
        "not_registered": 1,
        "unreachable": 2,
        "failed": 0,
        "interrupted": 0,
        "findings": {"duplicate_assistance": 2, "hukou_missing": 1, "property": 1},
        "attempts": 1,
    }
    assert by_person(sink, federation, people) == {
        "A": {"duplicate_assistance"},  # on 低保 in 容城县 already
        "A.spouse": {"duplicate_assistance"},
        "B": {"property"},  # a flat and a shop
        "B.father": {"hukou_missing"},  # his 户籍 was cancelled at death
    }
    assert {f.owner for f in sink.findings.values()} == {DAXING_CA}
    duplicate = next(f for f in sink.findings.values() if f.kind == "duplicate_assistance")
    assert duplicate.evidence["asked"] == RONGCHENG_CA and duplicate.evidence["hukou_region"] == "130629"
    assert {"programme": "DIBAO", "status": "ACTIVE", "locality": "130629", "relation": "self"} in duplicate.evidence[
        "records"
    ]
    asked = {(member, service) for member, service, _ in federation.transport.asked}
    assert asked == {
        (RONGCHENG_PS, services.HOUSEHOLD_REGISTRATION),  # by the ID number's address code
        (DAXING_PS, services.HOUSEHOLD_REGISTRATION),  # numbers issued where no police member is registered
        (RONGCHENG_CA, services.ASSISTANCE_INQUIRY),
    }
    assert set(federation.transport.per_question().values()) == {1}
    with federation.store.session() as session:
        audited = session.scalar(
            select(func.count()).select_from(AuditEntryRow).where(AuditEntryRow.kind == "response")
        )
    assert audited == 10  # every answer, with the household's tokens


def test_a_hub_raises_cross_check_findings_into_the_table_for_the_residence_bureau_alone(
    federation: Federation, tmp_path: Path
) -> None:
    people = enrol_demo(federation)
    settings = job_settings(tmp_path, concurrency=3)
    env = JobEnvironment(federation.store, settings, federation.directory, federation.questions, federation.secrets)
    runner = JobRunner(federation.store, build_jobs(env), settings, holder="h")  # the catalogue a hub is built with
    record = run(runner.run_due("annual_cross_check", DUE))
    assert record is not None and record.status is RunStatus.SUCCEEDED, record and record.error
    labels = {federation.secrets.tokenizer.token(number): label for label, number in people.items()}
    book = FindingBook(federation.store)
    mine = book.find(FindingFilter(limit=100), bureau=DAXING_CA)  # what Findings/List and hubctl show 大兴区
    assert {(labels[f.subject], f.rule) for f in mine} == {
        ("A", "duplicate_assistance"),
        ("A.spouse", "duplicate_assistance"),
        ("B", "property"),
        ("B.father", "hukou_missing"),
    }
    assert {(f.locality, f.programme, f.status) for f in mine} == {("110115", "dibao", Status.OPEN)}
    assert {labels[f.household] for f in mine} == {"A", "B"}  # the household head's token
    assert book.find(FindingFilter(limit=100), bureau=RONGCHENG_CA) == []  # the 户籍 bureau sees none of them
    compared = run(runner.run_due("monthly_comparison", DUE))  # re-routes undecided findings by the registry
    assert compared is not None and compared.status is RunStatus.SUCCEEDED, compared and compared.error
    after = book.find(FindingFilter(ids=tuple(f.id for f in mine)))
    assert {f.bureau for f in after} == {DAXING_CA} and len(after) == len(mine)
    federation.transport.asked.clear()
    again = run(runner.run_due("annual_cross_check", DUE.replace(year=2027)))  # next year, nothing changed
    assert again is not None and again.report["findings"] == record.report["findings"]
    assert len(book.find(FindingFilter(rules=tuple(again.report["findings"])))) == len(mine), "raised twice"


def test_a_cross_check_taken_over_midway_asks_no_one_twice_and_raises_nothing_twice(
    federation: Federation, tmp_path: Path, clock: Clock
) -> None:
    enrol_demo(federation)
    settings = job_settings(tmp_path, heartbeat_seconds=60, batch_size=3)
    sink = MemoryFindingSink()
    dying = JobRunner(
        federation.store, {"annual_cross_check": cross_check(federation, sink)}, settings, holder="dying", clock=clock
    )
    survivor = JobRunner(
        federation.store,
        {"annual_cross_check": cross_check(federation, sink)},
        settings,
        holder="survivor",
        clock=clock,
    )
    transport = federation.transport
    transport.after = 5  # the fifth question never leaves: the dying hub hangs there

    async def scenario() -> Any:
        first = asyncio.create_task(dying.run_due("annual_cross_check", DUE))
        while len(transport.asked) < 5:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        transport.after = None
        clock.advance(settings.jobs.lease_seconds + 1)
        (run_id,) = await survivor.resume_stale()
        record = await survivor.wait(run_id)
        first.cancel()
        return record

    record = run(scenario())
    assert record.status is RunStatus.SUCCEEDED and record.attempts == 2 and record.holder == "survivor"
    assert set(transport.per_question().values()) == {1}, "a member was asked twice"
    assert sink.raised == len(sink.findings), "a finding was raised twice"
    report = record.report
    assert report["interrupted"] == 1 and report["asked"] == 7
    assert report["answered"] + report["local"] + report["not_registered"] + report["unreachable"] == 6


def test_only_paid_enrolments_are_cross_checked(federation: Federation) -> None:
    demo = federation.demo
    a, b, c = (demo.persons[label].id_number for label in ("A", "B", "B.mother"))
    ended, suspended = row(b, b), row(c, b)
    ended.status, ended.until = v.ENDED, "2025-01-31"
    suspended.status = v.SUSPENDED
    federation.roster([row(a, a), ended, suspended])
    source = RosterEnrolments(federation.store, federation.secrets.cipher)
    assert source.count() == 1
    (only,) = source.page(b"", 10)
    assert only.id_number == a and only.locality == "110115" and only.programme == "dibao"
    assert only.supplier == DAXING_CA and a not in repr(only)


def test_enrolments_come_in_token_order_once_per_person(federation: Federation) -> None:
    demo = federation.demo
    numbers = [demo.persons[label].id_number for label in ("A", "A.spouse", "A.child", "B")]
    head = numbers[0]
    federation.roster([row(n, head) for n in numbers] + [row(numbers[0], head, programme=v.TEMPORARY)])
    source = RosterEnrolments(federation.store, federation.secrets.cipher)
    assert source.count() == 4
    first = source.page(b"", 3)
    rest = source.page(first[-1].token, 3)
    tokens = [e.token for e in first + rest]
    assert tokens == sorted(tokens) and len(set(tokens)) == 4 and len(rest) == 1
    assert source.households({federation.secrets.tokenizer.token(head)}) == {
        federation.secrets.tokenizer.token(head): sorted(numbers, key=federation.secrets.tokenizer.token)
    }


def test_feed_facts_count_homes_and_other_property_and_deaths(federation: Federation) -> None:
    people = enrol_demo(federation)
    father = people["B.father"]
    from tests.jobs.conftest import upload

    upload(
        federation,
        "death",
        "91110000600037341L",
        [
            fpb.DeathRow(
                id_number=father, region_code="130629", died_on="2025-04-17", evidence=fpb.DEATH_EVIDENCE_CREMATION
            )
        ],
        "deaths-1",
    )
    facts = FeedFacts(federation.store, federation.secrets.tokenizer)
    found = facts.of([people["A"], people["B"], father, people["bg1"]])
    assert found[people["A"]].residential == 1 and found[people["B"]].non_residential == 1
    assert found[father].died_on == dt.date(2025, 4, 17) and people["bg1"] not in found
    assert [h.kind for h in facts.findings(father, [people["B"]], found)] == ["deceased", "property"]
    assert facts.findings(people["A"], [], found) == []


def test_findings_being_raised_when_the_hub_died_are_raised_once_and_counted(
    federation: Federation, tmp_path: Path, clock: Clock
) -> None:
    people = enrol_demo(federation)
    settings = job_settings(tmp_path)
    sink = MemoryFindingSink()
    job = cross_check(federation, sink)
    dead = JobRunner(federation.store, {job.name: job}, settings, holder="dead", clock=clock)
    claim = dead.leases.claim(job.name, DUE, "schedule")
    assert claim is not None
    token = federation.secrets.tokenizer.token(people["A"])
    evidence = {"hukou_region": "130629", "asked": RONGCHENG_CA, "records": []}
    ledger = ItemLedger(dead.leases, claim.run_id)
    ledger.begin(token.hex())
    pending = {"findings": ["duplicate_assistance"], "hukou_region": "130629", "status": "answered", "owner": DAXING_CA}
    ledger.finish(token.hex(), "raising", pending | {"hits": [{"kind": "duplicate_assistance", "evidence": evidence}]})
    key = f"{job.name}:{DUE.isoformat()}:{token.hex()}:duplicate_assistance"
    assert sink.raise_finding("duplicate_assistance", token, DAXING_CA, evidence, key)  # then the hub died
    clock.advance(settings.jobs.lease_seconds + 1)
    survivor = JobRunner(federation.store, {job.name: job}, settings, holder="survivor", clock=clock)

    async def resume() -> Any:
        (run_id,) = await survivor.resume_stale()
        return await survivor.wait(run_id)

    record = run(resume())
    assert record.status is RunStatus.SUCCEEDED
    assert len(sink.findings) == 4 and sink.raised == 5  # A's finding was offered again, and refused as known
    assert record.report["findings"] == {"duplicate_assistance": 2, "hukou_missing": 1, "property": 1}
    assert record.report["answered"] == 3 and record.report["interrupted"] == 0
    assert "raising" not in ItemLedger(survivor.leases, record.run_id).tally()
    asked_about_a = [p for _, _, p in federation.transport.asked if p == first_hash(people["A"])]
    assert asked_about_a == []  # A was not asked again

"""What each member kind answers, checked against the facts the demo planted, over every backend."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pytest

from adapters import Dataset, Row
from adapters._kind import MAX_PERSONS
from adapters._registry import KIND_CLASSES
from adapters._values import CHINA
from adapters.demo import Demo
from adapters.hrss import HrssAdapter
from hub import services
from hub.errors import FailedPrecondition, InvalidArgument
from hub.v1 import verification_pb2 as pb

from .adapter_requests import answer, ask, facts_of
from .conftest import TODAY

BACKENDS = ["csv", "sql", "memory"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", sorted(KIND_CLASSES))
def test_household_check_finds_the_planted_facts(open_adapter: Any, demo: Demo, kind: str, backend: str) -> None:
    adapter = open_adapter(kind, backend)
    asked = [p.id_number for p in demo.household("A") + demo.household("B")]
    report = ask(adapter, services.HOUSEHOLD_CHECK, asked)
    expected = {(number, name): value for number, facts in demo.facts[kind].items() for name, value in facts.items()}
    assert facts_of(report) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_household_registration_lists_the_living_household(open_adapter: Any, demo: Demo, backend: str) -> None:
    adapter = open_adapter("public-security", backend)
    result = ask(adapter, services.HOUSEHOLD_REGISTRATION, [demo.b.id_number])
    assert result.registered and result.region_code == "130629"
    assert result.household_id == demo.b.household_id
    living = [p for p in demo.household("B") if not p.deceased]
    assert [(m.id_number, m.relation) for m in result.members] == [(p.id_number, p.relation) for p in living]
    assert result.members[0].relation == "户主"
    father = ask(adapter, services.HOUSEHOLD_REGISTRATION, [demo.persons["B.father"].id_number])
    assert not father.registered, "a deceased person's registration is cancelled"


@pytest.mark.parametrize("backend", BACKENDS)
def test_residence_permit(open_adapter: Any, demo: Demo, backend: str) -> None:
    adapter = open_adapter("public-security", backend)
    result = ask(adapter, services.RESIDENCE_PERMIT, [demo.a.id_number])
    assert result.valid and result.endorsed_this_year
    assert result.address_region_code == "110115"
    assert result.permit_number == demo.a.permit_number
    assert result.living_since.ToDatetime(tzinfo=CHINA).date() < TODAY
    elsewhere = pb.ResidencePermitQuery(person=pb.Person(id_number=demo.a.id_number), region_code="130629")
    assert not answer(adapter, elsewhere, services.RESIDENCE_PERMIT).valid
    in_beijing = pb.ResidencePermitQuery(person=pb.Person(id_number=demo.a.id_number), region_code="110000")
    assert answer(adapter, in_beijing, services.RESIDENCE_PERMIT).valid
    bad_region = pb.ResidencePermitQuery(person=pb.Person(id_number=demo.a.id_number), region_code="99")
    with pytest.raises(InvalidArgument) as caught:
        answer(adapter, bad_region, services.RESIDENCE_PERMIT)
    assert caught.value.field == "region_code"


def test_an_expired_or_unendorsed_permit_is_reported(demo: Demo) -> None:
    config = demo.config("public-security", "memory")
    for row in config["datasets"]["residence_permits"]["rows"]:
        row["YXQZ"] = TODAY - dt.timedelta(days=1)
        row["QZND"] = TODAY.year - 1
    from adapters import load_adapter

    adapter = load_adapter("public-security", config)
    result = ask(adapter, services.RESIDENCE_PERMIT, [demo.a.id_number])
    assert not result.valid and not result.endorsed_this_year
    assert result.address_region_code == "110115"


@pytest.mark.parametrize("backend", BACKENDS)
def test_assistance_inquiry(open_adapter: Any, demo: Demo, backend: str) -> None:
    adapter = open_adapter("civil-affairs", backend)
    reply = ask(adapter, services.ASSISTANCE_INQUIRY, [demo.a.id_number, demo.b.id_number, demo.a.id_number])
    assert [(r.id_number, r.programme, r.locality, r.status) for r in reply.records] == [
        (demo.a.id_number, pb.DIBAO, "130629", pb.ACTIVE)
    ]
    assert reply.records[0].monthly_amount_fen == 62_800
    assert reply.records[0].since.ToDatetime(tzinfo=CHINA).year == TODAY.year - 2
    assert list(reply.not_found) == [demo.b.id_number]


@pytest.mark.parametrize("backend", BACKENDS)
def test_enrolment_notice_then_inquiry_shows_it(open_adapter: Any, demo: Demo, backend: str) -> None:
    adapter = open_adapter("civil-affairs", backend)
    record = pb.AssistanceRecord(
        id_number=demo.b.id_number.lower(), programme=pb.DIBAO, locality="110115", monthly_amount_fen=98_000
    )
    record.since.FromDatetime(dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    notice = pb.EnrolmentNotice(change=pb.NEW_ENROLMENT, record=record, reason="居住地申办")
    ack = answer(adapter, notice, services.ENROLMENT_NOTICE)
    assert ack.recorded and ack.reference

    reply = ask(adapter, services.ASSISTANCE_INQUIRY, [demo.b.id_number])
    assert not reply.not_found
    [shown] = reply.records
    assert (shown.id_number, shown.programme, shown.locality, shown.status) == (
        demo.b.id_number,
        pb.DIBAO,
        "110115",
        pb.ACTIVE,
    )
    assert shown.monthly_amount_fen == 98_000
    assert shown.since.ToDatetime(tzinfo=CHINA).date() == dt.date(2025, 6, 1)

    exit_notice = pb.EnrolmentNotice(change=pb.EXIT, record=record, reason="收入超标")
    answer(adapter, exit_notice, services.ENROLMENT_NOTICE)
    [ended] = ask(adapter, services.ASSISTANCE_INQUIRY, [demo.b.id_number]).records
    assert ended.status == pb.ENDED
    assert ended.until.ToDatetime(tzinfo=CHINA).date() == TODAY

    # A fresh adapter over the same files/database sees the roster as written (memory keeps nothing).
    if backend != "memory":
        again = open_adapter("civil-affairs", backend)
        [persisted] = ask(again, services.ASSISTANCE_INQUIRY, [demo.b.id_number]).records
        assert persisted.status == pb.ENDED


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_exit_notice_without_start_or_amount_keeps_the_stored_ones(
    open_adapter: Any, demo: Demo, backend: str
) -> None:
    """The overlap an overpayment is computed from starts at the enrolment's real start, not the exit's day."""
    adapter = open_adapter("civil-affairs", backend)
    record = pb.AssistanceRecord(
        id_number=demo.b.id_number, programme=pb.DIBAO, locality="110115", monthly_amount_fen=98_000
    )
    record.since.FromDatetime(dt.datetime(2025, 6, 1, tzinfo=CHINA))
    answer(adapter, pb.EnrolmentNotice(change=pb.NEW_ENROLMENT, record=record), services.ENROLMENT_NOTICE)
    bare = pb.AssistanceRecord(id_number=demo.b.id_number, programme=pb.DIBAO, locality="110115")
    answer(adapter, pb.EnrolmentNotice(change=pb.EXIT, record=bare, reason="收入超标"), services.ENROLMENT_NOTICE)
    [ended] = ask(adapter, services.ASSISTANCE_INQUIRY, [demo.b.id_number]).records
    assert ended.status == pb.ENDED and ended.until.ToDatetime(tzinfo=CHINA).date() == TODAY
    assert ended.since.ToDatetime(tzinfo=CHINA).date() == dt.date(2025, 6, 1)
    assert ended.monthly_amount_fen == 98_000


@pytest.mark.parametrize(
    ("change", "programme", "locality", "field"),
    [
        (pb.ENROLMENT_CHANGE_UNSPECIFIED, pb.DIBAO, "110115", "change"),
        (pb.NEW_ENROLMENT, pb.PROGRAMME_UNSPECIFIED, "110115", "record.programme"),
        (pb.NEW_ENROLMENT, pb.DIBAO, "", "record.locality"),
        (pb.NEW_ENROLMENT, pb.DIBAO, "1101", "record.locality"),
    ],
)
def test_enrolment_notice_is_checked(
    open_adapter: Any, demo: Demo, change: pb.EnrolmentChange, programme: pb.Programme, locality: str, field: str
) -> None:
    adapter = open_adapter("civil-affairs", "memory")
    record = pb.AssistanceRecord(id_number=demo.b.id_number, programme=programme, locality=locality)
    notice = pb.EnrolmentNotice(change=change, record=record)
    with pytest.raises(InvalidArgument) as caught:
        answer(adapter, notice, services.ENROLMENT_NOTICE)
    assert caught.value.field == field
    assert ask(adapter, services.ASSISTANCE_INQUIRY, [demo.b.id_number]).not_found, "nothing was written"


def test_too_many_persons_is_refused(open_adapter: Any, demo: Demo) -> None:
    adapter = open_adapter("civil-affairs", "memory")
    inquiry = pb.AssistanceInquiry(persons=[pb.Person(id_number=demo.a.id_number)] * (MAX_PERSONS + 1))
    with pytest.raises(InvalidArgument) as caught:
        answer(adapter, inquiry, services.ASSISTANCE_INQUIRY)
    assert caught.value.field == "persons"


def test_wrong_body_type_and_closed_adapter(open_adapter: Any, demo: Demo) -> None:
    adapter = open_adapter("hrss", "memory")
    with pytest.raises(InvalidArgument) as caught:
        answer(adapter, pb.AssistanceInquiry(), services.HOUSEHOLD_CHECK)
    assert caught.value.field == "body"
    asyncio.run(adapter.aclose())
    with pytest.raises(FailedPrecondition):
        ask(adapter, services.HOUSEHOLD_CHECK, [demo.a.id_number])


def test_household_check_only_for_the_sources_asked(open_adapter: Any, demo: Demo) -> None:
    adapter = open_adapter("housing", "memory")
    request = pb.HouseholdCheckRequest(members=[pb.Person(id_number=demo.b.id_number)], sources=["hrss"])
    report = answer(adapter, request, services.HOUSEHOLD_CHECK)
    assert report.status == pb.SOURCE_REFUSED and not report.facts
    request.sources.append("housing")
    report = answer(adapter, request, services.HOUSEHOLD_CHECK)
    assert report.status == pb.SOURCE_OK and report.facts


class SlowDataset:
    """A dataset whose lookups take ``delay`` seconds (a bank answering in days, in miniature)."""

    name = "insured_persons"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        await asyncio.sleep(self.delay)
        return {n: [{"id_number": n, "monthly_wage_fen": "100"}] for n in id_numbers}

    async def where(self, field: str, value: str) -> list[Row]:
        return []

    async def upsert(self, row: Mapping[str, object], key: Sequence[str]) -> None:
        raise NotImplementedError

    async def as_of(self) -> dt.datetime | None:
        return None


def _slow_adapter(delay: float) -> HrssAdapter:
    dataset: Dataset = SlowDataset(delay)
    return HrssAdapter({"insured_persons": dataset}, member="12130629MB0000002X")


def test_household_check_times_out_at_the_deadline(demo: Demo) -> None:
    adapter = _slow_adapter(5.0)
    request = pb.HouseholdCheckRequest(members=[pb.Person(id_number=demo.a.id_number)], deadline_ms=50)
    started = time.monotonic()
    report = answer(adapter, request, services.HOUSEHOLD_CHECK)
    assert time.monotonic() - started < 2
    assert report.status == pb.SOURCE_TIMED_OUT and not report.facts
    assert report.member == "12130629MB0000002X"

    request.deadline_ms = 0
    past = time.monotonic() - 1
    assert answer(adapter, request, services.HOUSEHOLD_CHECK, deadline=past).status == pb.SOURCE_TIMED_OUT


def test_household_check_within_the_deadline(demo: Demo) -> None:
    adapter = _slow_adapter(0.01)
    request = pb.HouseholdCheckRequest(members=[pb.Person(id_number=demo.a.id_number)], deadline_ms=5000)
    report = answer(adapter, request, services.HOUSEHOLD_CHECK, deadline=time.monotonic() + 5)
    assert report.status == pb.SOURCE_OK
    assert facts_of(report) == {(demo.a.id_number, "monthly_wage_fen"): "100"}
    assert not report.HasField("as_of")


def test_facts_follow_the_calendar(demo: Demo) -> None:
    """A year later the child is no longer a new entrant and last year's bills drop out of the window."""
    from adapters import load_adapter

    later = (TODAY + dt.timedelta(days=400)).isoformat()
    child, spouse = demo.persons["A.child"].id_number, demo.persons["A.spouse"].id_number
    education = load_adapter("education", {**demo.config("education", "memory"), "today": later})
    facts = facts_of(ask(education, services.HOUSEHOLD_CHECK, [child]))
    assert facts[(child, "new_university_entrant")] == "false"
    medical = load_adapter("medical-insurance", {**demo.config("medical-insurance", "memory"), "today": later})
    facts = facts_of(ask(medical, services.HOUSEHOLD_CHECK, [spouse]))
    assert facts[(spouse, "out_of_pocket_12m_fen")] == "0"


def test_datetimes_with_an_offset_are_read_as_dates_in_china(demo: Demo) -> None:
    """A database's timestamptz (or an ISO export in UTC) at 00:30 in Beijing is that day, not the day before."""
    from adapters import load_adapter

    father = demo.persons["B.father"].id_number
    config = demo.config("public-security", "memory")
    for row in config["datasets"]["household_members"]["rows"]:
        if row["GMSFHM"] == father:
            row["SWRQ"] = dt.datetime(2025, 4, 14, 16, 30, tzinfo=dt.UTC)  # 2025-04-15 00:30 in Beijing
    adapter = load_adapter("public-security", config)
    facts = facts_of(ask(adapter, services.HOUSEHOLD_CHECK, [father]))
    assert facts[(father, "death_date")] == "2025-04-15"

"""Fixtures for the comparisons: keys, an intake at a fixed time, and a small world of rosters and feeds.

Feeds are loaded through ``FeedIntake`` exactly as production receives them (validated, tokenised, indexed by
person at completion), so the engine meets the tables it meets in production.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.message import Message

from hub.feeds import FeedIntake, FeedMeta, Policy, chunked, kind_by_code
from hub.identifiers import id_check_character
from hub.privacy import FieldCipher, Tokenizer
from hub.registry import Registry
from hub.store import Store
from hub.v1 import feeds_pb2 as pb
from hub.v1 import verification_pb2 as vpb

#: The comparison's day, and the intake's "now" (the next morning in China).
AS_OF = dt.date(2025, 6, 30)
NOW = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)
SUPPLIERS = {
    "civil-affairs": "91110000600037341L",
    "hrss": "91350200MA2YJ1XR9G",
}
#: Civil-affairs bureaus: member id → jurisdiction.
BUREAUS = {
    "11110105MB0000001X": ("110105",),  # 朝阳区民政局
    "11440308MB0000002X": ("440308",),  # 盐田区民政局
    "11130629MB0000003X": ("130629",),  # 容城县民政局
}

PROGRAMMES = {
    "dibao": vpb.DIBAO,
    "tekun": vpb.TEKUN,
    "dibao_edge": vpb.DIBAO_EDGE,
    "temporary": vpb.TEMPORARY,
    "rigid_expenditure": vpb.RIGID_EXPENDITURE,
    "relapse_monitoring": vpb.RELAPSE_MONITORING,
}
STATUSES = {"active": vpb.ACTIVE, "gradual_exit": vpb.GRADUAL_EXIT, "suspended": vpb.SUSPENDED, "ended": vpb.ENDED}
#: Causes of a 临时救助 grant (RosterRow.cause); "" leaves it unset (UNSPECIFIED).
CAUSES = {
    "": pb.TEMPORARY_CAUSE_UNSPECIFIED,
    "fire": pb.TEMPORARY_CAUSE_FIRE,
    "accident": pb.TEMPORARY_CAUSE_ACCIDENT,
    "sudden_illness": pb.TEMPORARY_CAUSE_SUDDEN_ILLNESS,
    "natural_disaster": pb.TEMPORARY_CAUSE_NATURAL_DISASTER,
    "medical_expense": pb.TEMPORARY_CAUSE_MEDICAL_EXPENSE,
    "education_expense": pb.TEMPORARY_CAUSE_EDUCATION_EXPENSE,
    "other": pb.TEMPORARY_CAUSE_OTHER,
}

_numbers = itertools.count(1)


def _fix_bureau_ids() -> dict[str, tuple[str, ...]]:
    from hub.identifiers import uscc_check_character

    return {member[:17] + uscc_check_character(member[:17]): prefixes for member, prefixes in BUREAUS.items()}


BUREAU_IDS = _fix_bureau_ids()
BUREAU_OF = {prefixes[0]: member for member, prefixes in BUREAU_IDS.items()}


def new_id(region: str) -> str:
    """A fresh valid ID number registered in ``region``."""
    n = next(_numbers)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=(n * 131) % 20_000)
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_character(first17)


@dataclass
class World:
    """Rows per record kind, written as a department would send them; ``load`` runs them through the intake."""

    rows: dict[str, list[Message]] = field(default_factory=dict)

    def add(self, kind: str, row: Message) -> None:
        self.rows.setdefault(kind, []).append(row)

    def household(
        self,
        locality: str,
        size: int,
        programme: str = "dibao",
        *,
        status: str = "active",
        since: str = "2024-01-01",
        until: str = "",
        amount: int = 50_000,
    ) -> list[str]:
        """A household of ``size`` persons on ``programme``; returns their ID numbers, head first."""
        members = [new_id(locality) for _ in range(size)]
        for member in members:
            self.enrol(member, members[0], locality, programme, status=status, since=since, until=until, amount=amount)
        return members

    def enrol(
        self,
        person: str,
        head: str,
        locality: str,
        programme: str,
        *,
        status: str = "active",
        since: str = "2024-01-01",
        until: str = "",
        amount: int = 50_000,
        cause: str = "",
    ) -> None:
        self.add(
            "roster",
            pb.RosterRow(
                id_number=person,
                household_head_id_number=head,
                programme=PROGRAMMES[programme],
                locality=locality,
                since=since,
                until=until,
                monthly_amount_fen=amount,
                status=STATUSES[status],
                cause=CAUSES[cause],
            ),
        )

    def grant(
        self,
        members: Iterable[str],
        head: str,
        locality: str,
        cause: str,
        on: str,
        *,
        programme: str = "temporary",
        status: str = "ended",
        amount: int = 120_000,
    ) -> None:
        """A one-off 临时救助 grant paid on ``on``, listed once for each of ``members`` (paid: ended that day)."""
        for member in members:
            self.enrol(member, head, locality, programme, status=status, since=on, until=on, amount=amount, cause=cause)

    def wages(self, person: str, gross: int, months: Iterable[str]) -> None:
        for month in months:
            self.add("wage", pb.WageRow(id_number=person, month=month, gross_fen=gross))

    def pensions(self, person: str, amount: int, months: Iterable[str]) -> None:
        for month in months:
            self.add(
                "pension",
                pb.PensionRow(
                    id_number=person,
                    scheme=pb.PENSION_SCHEME_URBAN_RURAL_RESIDENT,
                    region_code="110105",
                    month=month,
                    amount_fen=amount,
                ),
            )

    def property(self, person: str, certificate: str, kind: int = pb.PROPERTY_KIND_RESIDENTIAL) -> None:
        self.add(
            "property",
            pb.PropertyRow(
                id_number=person,
                certificate_number=certificate,
                region_code="440308",
                property_kind=kind,  # type: ignore[arg-type]
                registered_on="2019-05-20",
                floor_area_cm2=800_000,
            ),
        )

    def settlement(self, person: str, out_of_pocket: int, settled_on: str) -> None:
        self.add(
            "medical_settlement",
            pb.MedicalSettlementRow(
                id_number=person,
                settlement_id=f"S{next(_numbers):08d}",
                region_code="110105",
                settled_on=settled_on,
                care_kind=pb.CARE_KIND_INPATIENT,
                total_fen=out_of_pocket * 2,
                fund_paid_fen=out_of_pocket,
                out_of_pocket_fen=out_of_pocket,
            ),
        )

    def employment(self, person: str, kind: int, started_on: str, ended_on: str = "") -> None:
        self.add(
            "employment",
            pb.EmploymentRow(
                id_number=person,
                employer_kind=kind,  # type: ignore[arg-type]
                region_code="110105",
                started_on=started_on,
                ended_on=ended_on,
                monthly_wage_fen=600_000,
            ),
        )

    def death(self, person: str, died_on: str) -> None:
        self.add(
            "death",
            pb.DeathRow(id_number=person, region_code="110105", died_on=died_on, evidence=pb.DEATH_EVIDENCE_CREMATION),
        )

    def entrant(self, person: str, admitted_on: str) -> None:
        self.add(
            "university_entrant",
            pb.UniversityEntrantRow(
                id_number=person,
                institution_code="10001",
                origin_region_code="110105",
                level=pb.EDUCATION_LEVEL_UNDERGRADUATE,
                admitted_on=admitted_on,
                annual_tuition_fen=500_000,
            ),
        )

    def unemployment(self, person: str, registered_on: str, ended_on: str = "") -> None:
        self.add(
            "unemployment",
            pb.UnemploymentRow(
                id_number=person,
                region_code="110105",
                registered_on=registered_on,
                ended_on=ended_on,
                monthly_benefit_fen=150_000,
            ),
        )

    def monitored(self, person: str, head: str, identified_on: str, cleared_on: str = "") -> None:
        self.add(
            "monitored_household",
            pb.MonitoredHouseholdRow(
                id_number=person,
                household_head_id_number=head,
                region_code="110105",
                category=pb.MONITORING_CATEGORY_SUDDEN_HARDSHIP,
                identified_on=identified_on,
                risk_cleared_on=cleared_on,
            ),
        )

    def load(self, intake: FeedIntake, *, suffix: str = "1") -> None:
        for kind_code, rows in self.rows.items():
            kind = kind_by_code(kind_code)
            supplier = SUPPLIERS.get(kind.department, SUPPLIERS["hrss"])
            meta = FeedMeta(
                version_id=f"{kind_code}-{suffix}",
                department=kind.department,
                supplier=supplier,
                kind=kind_code,
                period_start=dt.date(2024, 1, 1),
                period_end=dt.date(2025, 6, 30),
                expected_records=len(rows),
                policy=Policy.REJECT_VERSION,
            )
            for chunk in chunked(meta, rows, 50):
                intake.receive(chunk, sender=supplier)
            receipt = intake.complete(meta.version_id)
            assert receipt.rejected_records == 0, receipt.rejections


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer.generate()


@pytest.fixture(scope="session")
def cipher() -> FieldCipher:
    return FieldCipher.generate()


@pytest.fixture
def intake(store: Store, tokenizer: Tokenizer, cipher: FieldCipher) -> FeedIntake:
    return FeedIntake(store, tokenizer, cipher, clock=lambda: NOW)


@pytest.fixture
def dataset(intake: FeedIntake) -> Any:
    """The hand-built world of ``tests.findings.dataset``, loaded."""
    from tests.findings.dataset import build

    data = build()
    data.world.load(intake)
    return data


def register_bureaus(store: Store) -> None:
    registry = Registry(store)
    for member, prefixes in BUREAU_IDS.items():
        registry.add_member(member, kind="civil-affairs", name=f"bureau {prefixes[0]}", jurisdictions=prefixes)


def months(*values: str) -> list[str]:
    return list(values)


Q2 = months("2025-04", "2025-05", "2025-06")
H1 = months("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")

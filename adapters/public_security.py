"""Public security (公安): household registration (户籍) and residence permits (居住证).

Answers ``HOUSEHOLD_REGISTRATION`` (is the person registered, where, in which household, with whom),
``RESIDENCE_PERMIT`` (is the permit valid for the region asked, endorsed this year, living there since)
and contributes household-check facts: ``registered_region``, ``household_id``, ``relation``,
``household_size`` (living members), ``deceased`` and ``death_date``.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._datasets import DatasetSpec, Row
from adapters._interface import QueryContext
from adapters._kind import Handler, KindAdapter, fact
from adapters._values import parse_date, parse_flag, parse_int, timestamp
from hub import services
from hub.identifiers import validate_id_number, validate_region_code
from hub.v1 import verification_pb2 as pb

HOUSEHOLD_MEMBERS = DatasetSpec(
    "household_members",
    ("id_number", "name", "household_id", "relation", "region_code", "deceased", "death_date"),
    required=("id_number", "household_id"),
    doc="常住人口: one row per registered person",
)
RESIDENCE_PERMITS = DatasetSpec(
    "residence_permits",
    ("id_number", "permit_number", "region_code", "living_since", "valid_until", "endorsed_year"),
    doc="居住证: one row per permit issued",
)
HEAD = "户主"


def _deceased(row: Row) -> bool:
    return bool(parse_flag(row.get("deceased", ""))) or parse_date(row.get("death_date", "")) is not None


def within(code: str, region: str) -> bool:
    """Whether division ``code`` lies in ``region`` (a county, or a prefecture/province written ``xxxx00``)."""
    prefix = region
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return code.startswith(prefix)


class PublicSecurityAdapter(KindAdapter):
    kind = "public-security"
    DATASETS = (HOUSEHOLD_MEMBERS, RESIDENCE_PERMITS)

    def handlers(self) -> dict[str, Handler]:
        return {
            services.HOUSEHOLD_REGISTRATION: self.household_registration,
            services.RESIDENCE_PERMIT: self.residence_permit,
        }

    async def household_registration(
        self, query: pb.HouseholdRegistrationQuery, context: QueryContext
    ) -> pb.HouseholdRegistrationResult:
        number = validate_id_number(query.person.id_number, "person.id_number")
        members = self.datasets[HOUSEHOLD_MEMBERS.name]
        living = [r for r in (await members.by_id([number])).get(number, []) if not _deceased(r)]
        if not living:
            return pb.HouseholdRegistrationResult(registered=False)
        row = living[-1]
        household = [r for r in await members.where("household_id", row["household_id"]) if not _deceased(r)]
        household.sort(key=lambda r: r.get("relation") != HEAD)
        return pb.HouseholdRegistrationResult(
            registered=True,
            region_code=row.get("region_code", ""),
            household_id=row["household_id"],
            members=[
                pb.HouseholdMember(id_number=r["id_number"], name=r.get("name", ""), relation=r.get("relation", ""))
                for r in household
            ],
        )

    async def residence_permit(self, query: pb.ResidencePermitQuery, context: QueryContext) -> pb.ResidencePermitResult:
        number = validate_id_number(query.person.id_number, "person.id_number")
        region = validate_region_code(query.region_code, "region_code") if query.region_code else ""
        permits = (await self.datasets[RESIDENCE_PERMITS.name].by_id([number])).get(number, [])
        if region:
            permits = [p for p in permits if within(p.get("region_code", ""), region)]
        if not permits:
            return pb.ResidencePermitResult(valid=False)
        today = self.today()
        permit = max(permits, key=lambda p: parse_date(p.get("valid_until", "")) or today)
        valid_until = parse_date(permit.get("valid_until", ""))
        result = pb.ResidencePermitResult(
            valid=valid_until is None or valid_until >= today,
            endorsed_this_year=parse_int(permit.get("endorsed_year", "")) == today.year,
            address_region_code=permit.get("region_code", ""),
            permit_number=permit.get("permit_number", ""),
        )
        living_since = parse_date(permit.get("living_since", ""))
        if living_since is not None:
            result.living_since.CopyFrom(timestamp(living_since))
        return result

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        members = self.datasets[HOUSEHOLD_MEMBERS.name]
        found = await members.by_id(id_numbers)
        sizes: dict[str, int] = {}
        facts: list[pb.SourceFact] = []
        for number in id_numbers:
            if number not in found:
                continue
            row = found[number][-1]
            household = row["household_id"]
            if household not in sizes:
                sizes[household] = sum(not _deceased(r) for r in await members.where("household_id", household))
            facts += [
                fact(number, "registered_region", row.get("region_code", "")),
                fact(number, "household_id", household),
                fact(number, "relation", row.get("relation", "")),
                fact(number, "household_size", sizes[household]),
                fact(number, "deceased", _deceased(row)),
            ]
            death = parse_date(row.get("death_date", ""))
            if death is not None:
                facts.append(fact(number, "death_date", death.isoformat()))
        return facts

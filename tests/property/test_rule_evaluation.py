"""The SQL comparison engine against small, obviously correct Python oracles, on random rosters and feeds.

Three rules of different shapes from the packaged rules (``hub/findings/rules``):

- ``income_over_standard`` (threshold): 低保 households, active only (渐退期 disregarded), wages and pensions over
  the last ``months`` months, per person per month above the local 低保标准 — 110105 and 440308 follow the default
  file (628 yuan, 3 months), 130629 its own (700 yuan, 6 months);
- ``second_home`` / ``non_residential_property`` (count): distinct certificates of the household's residential
  homes (at least 2) or of its non-residential property (at least 1);
- ``duplicate_locality`` (duplicate): a person enrolled on the day in two localities; the later enrolment (on a
  tie, the larger locality code) is the redundant one, flagged once per person, household and locality.

Each example is loaded through ``FeedIntake`` into a fresh copy of the migrated SQLite template, as production
receives feeds, and the engine's findings for the rule are compared with the oracle's as sets of
(locality, household head, subject).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.feeds import FeedIntake
from hub.findings import FindingBook, FindingFilter, load_rules, run_comparison
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store, make_engine
from hub.v1 import feeds_pb2 as pb
from tests.findings.conftest import AS_OF, NOW, World, new_id

Hit = tuple[str, str, str]  # (locality, household head's ID number, subject's ID number)

TOKENIZER, CIPHER = Tokenizer.generate(), FieldCipher.generate()
RULES = load_rules()
#: The local parameters of the packaged rule files: locality → (低保标准 in fen, months of income averaged).
INCOME = {"110105": (62_800, 3), "440308": (62_800, 3), "130629": (70_000, 6)}
MONTHS = ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
#: Amounts near the lines: 1, 3 and 6 months of either standard, for one to three persons, and one fen either side.
LINES = sorted({m * s * n + d for s in (62_800, 70_000) for m in (1, 3, 6) for n in (1, 2, 3) for d in (-1, 0, 1)})
PROPERTY_KINDS = {
    "residential": pb.PROPERTY_KIND_RESIDENTIAL,
    "parking": pb.PROPERTY_KIND_PARKING,
    "commercial": pb.PROPERTY_KIND_COMMERCIAL,
    "office": pb.PROPERTY_KIND_OFFICE,
}
NON_RESIDENTIAL = {"commercial", "office"}  # of those generated: the rule's commercial/office/industrial/other

EXAMPLES = settings(
    max_examples=20,
    deadline=dt.timedelta(seconds=30),  # one example loads and compares a whole database: slow on a busy machine
    suppress_health_check=[HealthCheck.too_slow],
)


def compare(template: Path, world: World) -> dict[str, set[Hit]]:
    """Load ``world`` into a fresh database, run the comparison, and return each rule's findings, untokenised."""
    directory = Path(tempfile.mkdtemp(prefix="rules-"))
    try:
        shutil.copyfile(template, directory / "hub.db")
        store = Store(make_engine(f"sqlite:///{directory / 'hub.db'}"))
        try:
            world.load(FeedIntake(store, TOKENIZER, CIPHER, clock=lambda: NOW))
            run_comparison(store, RULES, as_of=AS_OF, clock=lambda: NOW)
            found = FindingBook(store, clock=lambda: NOW).find(FindingFilter(limit=1000))
        finally:
            store.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    roster = [row.id_number for row in world.rows["roster"] if isinstance(row, pb.RosterRow)]
    persons = {TOKENIZER.token(number): number for number in roster}
    hits: dict[str, set[Hit]] = defaultdict(set)
    for f in found:
        hits[f.rule].add((f.locality, persons[f.household], persons[f.subject]))
    return hits


# --- households with incomes and property, each person enrolled once --------------------------------------


@dataclass(frozen=True)
class Household:
    locality: str
    programme: str
    status: str
    size: int


@dataclass(frozen=True)
class Income:
    household: int
    member: int
    kind: str  # wage | pension
    month: str
    amount: int


@dataclass(frozen=True)
class Property:
    household: int
    member: int
    certificate: str
    kind: str


households_ = st.lists(
    st.builds(
        Household,
        locality=st.sampled_from(sorted(INCOME)),
        programme=st.sampled_from(["dibao", "dibao", "tekun", "dibao_edge", "temporary"]),
        status=st.sampled_from(["active", "active", "gradual_exit", "suspended"]),
        size=st.integers(1, 3),
    ),
    min_size=1,
    max_size=4,
)


@st.composite
def households_with_facts(draw: st.DrawFn) -> tuple[list[Household], list[Income], list[Property]]:
    households = draw(households_)
    member = st.integers(0, 2)
    where = st.tuples(st.integers(0, len(households) - 1), member)
    incomes = draw(
        st.lists(
            st.builds(
                lambda at, kind, month, amount: Income(at[0], at[1] % households[at[0]].size, kind, month, amount),
                where,
                st.sampled_from(["wage", "pension"]),
                st.sampled_from(MONTHS),
                st.one_of(st.sampled_from(LINES), st.integers(0, 450_000)),
            ),
            max_size=8,
            unique_by=lambda i: (i.household, i.member, i.kind, i.month),
        )
    )
    properties = draw(
        st.lists(
            st.builds(
                lambda at, certificate, kind: Property(at[0], at[1] % households[at[0]].size, certificate, kind),
                where,
                st.sampled_from(["C1", "C2", "C3"]),  # few certificates: joint ownership happens
                st.sampled_from(sorted(PROPERTY_KINDS)),
            ),
            max_size=6,
            unique_by=lambda p: (p.household, p.member, p.certificate),
        )
    )
    return households, incomes, properties


def build(
    households: list[Household], incomes: list[Income], properties: list[Property]
) -> tuple[World, list[list[str]]]:
    world, members = World(), []
    for h in households:
        members.append(world.household(h.locality, h.size, h.programme, status=h.status))
    for i in incomes:
        person = members[i.household][i.member]
        if i.kind == "wage":
            world.wages(person, i.amount, [i.month])
        else:
            world.pensions(person, i.amount, [i.month])
    for p in properties:
        world.property(members[p.household][p.member], f"冀(2019)不动产权第{p.certificate}号", PROPERTY_KINDS[p.kind])
    return world, members


def income_oracle(households: list[Household], incomes: list[Income], members: list[list[str]]) -> set[Hit]:
    """低保, active: wages + pensions of the last ``months`` months > standard × months × persons."""
    totals: dict[int, int] = defaultdict(int)
    for i in incomes:
        standard, months = INCOME[households[i.household].locality]
        if i.month in MONTHS[-months:]:
            totals[i.household] += i.amount
    hits = set()
    for n, h in enumerate(households):
        standard, months = INCOME[h.locality]
        if h.programme == "dibao" and h.status == "active" and Fraction(totals[n], months * h.size) > standard:
            hits.add((h.locality, members[n][0], members[n][0]))
    return hits


def property_oracle(
    households: list[Household], properties: list[Property], members: list[list[str]], kinds: set[str], at_least: int
) -> set[Hit]:
    certificates: dict[int, set[str]] = defaultdict(set)
    for p in properties:
        if p.kind in kinds:
            certificates[p.household].add(p.certificate)
    return {
        (h.locality, members[n][0], members[n][0])
        for n, h in enumerate(households)
        if h.programme in {"dibao", "tekun", "dibao_edge"}
        and h.status in {"active", "gradual_exit"}
        and len(certificates[n]) >= at_least
    }


@pytest.mark.integration
@EXAMPLES
@given(households_with_facts())
@example(([Household("110105", "dibao", "active", 1)], [Income(0, 0, "wage", "2025-06", 188_400)], []))  # = line
@example(([Household("110105", "dibao", "active", 1)], [Income(0, 0, "wage", "2025-06", 188_401)], []))  # above
@example(([Household("130629", "dibao", "active", 2)], [Income(0, 1, "pension", "2025-01", 840_001)], []))
@example(([Household("130629", "dibao", "active", 2)], [Income(0, 1, "wage", "2024-12", 999_999)], []))  # before
def test_income_over_standard_matches_the_oracle(
    sqlite_template: Path, case: tuple[list[Household], list[Income], list[Property]]
) -> None:
    households, incomes, properties = case
    world, members = build(households, incomes, properties)
    found = compare(sqlite_template, world)
    assert found["income_over_standard"] == income_oracle(households, incomes, members)


@pytest.mark.integration
@EXAMPLES
@given(households_with_facts())
@example(  # one home owned jointly by two members is one home; a second certificate makes two
    (
        [Household("440308", "dibao", "gradual_exit", 2)],
        [],
        [Property(0, 0, "C1", "residential"), Property(0, 1, "C1", "residential"), Property(0, 1, "C2", "parking")],
    )
)
def test_property_counts_match_the_oracle(
    sqlite_template: Path, case: tuple[list[Household], list[Income], list[Property]]
) -> None:
    households, incomes, properties = case
    world, members = build(households, incomes, properties)
    found = compare(sqlite_template, world)
    assert found["second_home"] == property_oracle(households, properties, members, {"residential"}, 2)
    assert found["non_residential_property"] == property_oracle(households, properties, members, NON_RESIDENTIAL, 1)


# --- persons enrolled in several places: duplicates across localities ---------------------------------------


@dataclass(frozen=True)
class Enrolment:
    locality: str
    programme: str
    status: str
    since: str
    until: str
    own_household: bool  # the person heads a household of their own here, or belongs to the first one


EXAMINED = ("tekun", "dibao", "dibao_edge", "rigid_expenditure")

enrolments_ = st.builds(
    Enrolment,
    locality=st.sampled_from(["110105", "130629", "440308"]),
    programme=st.sampled_from([*EXAMINED, "temporary"]),
    status=st.sampled_from(["active", "gradual_exit", "suspended"]),
    since=st.sampled_from(["2023-01-01", "2024-01-01", "2024-06-01", "2025-06-30"]),  # ties and the day itself
    until=st.sampled_from(["", "", "2025-05-31", "2025-06-30", "2025-12-31"]),
    own_household=st.booleans(),
).filter(lambda e: not e.until or e.until >= e.since)  # the intake refuses an enrolment that ends before it begins
persons_ = st.lists(st.lists(enrolments_, min_size=1, max_size=3), min_size=1, max_size=4)


def enrolled(persons: list[list[Enrolment]]) -> tuple[World, list[list[tuple[str, str, Enrolment]]]]:
    """Person n's enrolments as (person, household head, enrolment); the first person heads the shared household."""
    world, table = World(), []
    shared = new_id("110105")
    world.enrol(shared, shared, "110105", "dibao")
    for enrolments in persons:
        person = new_id(enrolments[0].locality)
        rows = []
        for e in enrolments:
            head = person if e.own_household else shared
            world.enrol(person, head, e.locality, e.programme, status=e.status, since=e.since, until=e.until)
            rows.append((person, head, e))
        table.append(rows)
    return world, table


def duplicate_oracle(table: list[list[tuple[str, str, Enrolment]]]) -> set[Hit]:
    """An examined enrolment on the day is redundant if another of the person's, elsewhere, began earlier (on a
    tie: is in the smaller locality code)."""
    day = AS_OF.isoformat()

    def examined(e: Enrolment) -> bool:
        in_force = e.since <= day and (not e.until or e.until >= day)
        return in_force and e.programme in EXAMINED and e.status in {"active", "gradual_exit"}

    hits = set()
    for rows in table:
        for person, head, own in rows:
            for _, _, other in rows:
                both = examined(own) and examined(other) and own.locality != other.locality
                if both and (own.since, own.locality) > (other.since, other.locality):
                    hits.add((own.locality, head, person))
    return hits


@pytest.mark.integration
@EXAMPLES
@given(persons_)
@example(  # begun the same day in two places: the larger locality code is the redundant one
    [
        [
            Enrolment("110105", "dibao", "active", "2024-01-01", "", True),
            Enrolment("440308", "tekun", "active", "2024-01-01", "2025-06-30", False),
        ]
    ]
)
def test_duplicate_locality_matches_the_oracle(sqlite_template: Path, persons: list[list[Enrolment]]) -> None:
    world, table = enrolled(persons)
    assert compare(sqlite_template, world)["duplicate_locality"] == duplicate_oracle(table)

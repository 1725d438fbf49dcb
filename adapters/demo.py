"""A deterministic synthetic scenario for demos and integration tests: every agency's data for two applicants.

Two households registered (户籍) in 容城县 (130629) live in 大兴区 (110115) on residence permits:

- **A** is already on 低保 in 容城县, with the rest of the household: applying again in 大兴区 is a
  duplicate the 函询 must reveal. A's spouse earns a wage and had large medical bills; their child
  entered university this year; the household is monitored for relapse into poverty.
- **B** receives no assistance anywhere (the 函询 answers ``not_found``). B owns a flat and a shop;
  B's father died this year; B's mother draws a pension.

Around them live a few dozen background persons in nearby counties, so lookups have something to miss.
ID numbers are valid GB 11643 numbers with real address codes; names come from ``faker`` (zh_CN); the
same ``seed`` and ``today`` give the same scenario. Some rows store an ID number as agencies do (a
lower-case ``x``, a legacy 15-digit number) to exercise normalisation.

``write_demo(directory)`` writes a CSV folder and a SQLite file per member kind, laid out as the example
configurations expect, and returns the ``Demo``; ``demo.config(name, backend)`` is a ready configuration.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from faker import Faker

from adapters._datasets import DatasetSpec
from adapters._examples import example_config
from adapters._registry import KIND_CLASSES, resolve
from adapters._sql import make_engine
from adapters._values import CHINA
from hub.identifiers import id_check_character

DEFAULT_SEED = 20240614
HUKOU_REGION = "130629"  # 容城县, 保定市, 河北省
RESIDENCE_REGION = "110115"  # 大兴区, 北京市
BACKGROUND_REGIONS = ("130632", "130638", "130602", "110105", "110108")  # 安新县, 雄县, 竞秀区, 朝阳区, 海淀区
REGION_NAMES = {
    "130629": "容城县",
    "130632": "安新县",
    "130638": "雄县",
    "130602": "竞秀区",
    "110105": "朝阳区",
    "110108": "海淀区",
    "110115": "大兴区",
}

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class DemoPerson:
    """One synthetic person; ``label`` is ``A``, ``A.spouse``, ``B.father``, ... or ``bg<n>`` for background."""

    label: str
    id_number: str
    name: str
    household_id: str
    relation: str
    hukou_region: str
    residence_region: str = ""
    permit_number: str = ""
    deceased: bool = False


@dataclass
class Demo:
    """The scenario: persons, every agency's rows (logical fields), and the facts a household check should find."""

    seed: int
    today: dt.date
    persons: dict[str, DemoPerson] = field(default_factory=dict)
    rows: dict[str, Rows] = field(default_factory=dict)
    """member kind → dataset → rows keyed by logical field names."""
    facts: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """member kind → ID number → fact name → value, for the A and B households."""
    unknown_id: str = ""
    """A valid ID number that no agency holds."""
    directory: Path | None = None

    @property
    def a(self) -> DemoPerson:
        return self.persons["A"]

    @property
    def b(self) -> DemoPerson:
        return self.persons["B"]

    def household(self, label: str) -> list[DemoPerson]:
        """Every person registered in the household of ``label`` (living or not), head first."""
        household_id = self.persons[label].household_id
        return [p for p in self.persons.values() if p.household_id == household_id]

    def config(self, name: str, backend: str | None = None) -> dict[str, Any]:
        """The example configuration of adapter ``name``, pointed at this demo's files.

        ``backend`` (kind adapters only) switches between ``csv``, ``sql`` (the SQLite files) and ``memory``
        (the rows inline); the date is pinned to ``today`` so answers do not depend on the calendar.
        """
        config = example_config(name)
        config["today"] = self.today.isoformat()
        if self.directory is not None:
            config["base_dir"] = str(self.directory)
        if backend is not None:
            config["backend"] = backend
        if config.get("backend") == "memory":
            kind = config.get("kind", name)
            for spec in _specs(kind):
                table = config.setdefault("datasets", {}).setdefault(spec.name, {})
                table["rows"] = _native(self.rows[kind][spec.name], _columns(table, spec))
        return config

    def write_csv(self, directory: Path) -> None:
        """A drop folder per kind: ``<directory>/<kind>/<file>``, columns named as in the examples."""
        for kind, datasets in self.rows.items():
            config = example_config(kind)
            for spec in _specs(kind):
                table = config["datasets"][spec.name]
                columns = _columns(table, spec)
                path = directory / config["folder"] / table["file"]
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(columns.values())
                    for row in _native(datasets[spec.name], columns):
                        writer.writerow([_cell(row.get(c)) for c in columns.values()])

    def write_sql(self, url: str, kinds: Iterable[str] | None = None, schema: str | None = None) -> None:
        """The tables of each kind (all by default) into the database at ``url``, typed from the values."""
        engine = make_engine(url)
        try:
            for kind in kinds or self.rows:
                metadata = sa.MetaData(schema=schema)
                config = example_config(kind)
                loads = []
                for spec in _specs(kind):
                    table_config = config["datasets"][spec.name]
                    columns = _columns(table_config, spec)
                    rows = self.rows[kind][spec.name]
                    table = sa.Table(
                        table_config["table"],
                        metadata,
                        *(sa.Column(columns[f], _sql_type(rows, f)) for f in spec.fields),
                    )
                    loads.append((table, _native(rows, columns)))
                metadata.drop_all(engine)
                metadata.create_all(engine)
                with engine.begin() as connection:
                    for table, native in loads:
                        if native:
                            values = [{c.name: r.get(c.name) for c in table.c} for r in native]
                            connection.execute(sa.insert(table), values)
        finally:
            engine.dispose()


def sqlite_url(directory: Path, kind: str) -> str:
    return f"sqlite:///{directory / f'{kind}.db'}"


def write_demo(directory: Path, *, seed: int = DEFAULT_SEED, today: dt.date | None = None, sqlite: bool = True) -> Demo:
    """Build the scenario and write it under ``directory`` (CSV folders, and SQLite files unless ``sqlite=False``)."""
    demo = build_demo(seed=seed, today=today)
    directory.mkdir(parents=True, exist_ok=True)
    demo.directory = directory
    demo.write_csv(directory)
    if sqlite:
        for kind in demo.rows:
            demo.write_sql(sqlite_url(directory, kind), [kind])
    return demo


def build_demo(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> Demo:
    """The scenario in memory, nothing written."""
    return _Builder(seed, today or dt.datetime.now(CHINA).date()).build()


def _specs(kind: str) -> tuple[DatasetSpec, ...]:
    specs: tuple[DatasetSpec, ...] = resolve(KIND_CLASSES[kind]).DATASETS
    return specs


def _columns(table: Mapping[str, Any], spec: DatasetSpec) -> dict[str, str]:
    configured = table.get("columns", {})
    return {f: configured.get(f, f) for f in spec.fields}


def _native(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{columns[k]: v for k, v in row.items() if v is not None} for row in rows]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sql_type(rows: Sequence[Mapping[str, Any]], field: str) -> sa.types.TypeEngine[Any]:
    sample = next((r[field] for r in rows if r.get(field) is not None), None)
    if sample is None:  # no value to go by: the field's name tells
        if field.endswith(("_date", "_on", "since", "until")):
            return sa.Date()
        if field.endswith("_fen"):
            return sa.BigInteger()
    if isinstance(sample, bool):
        return sa.Boolean()
    if isinstance(sample, int):
        return sa.BigInteger()
    if isinstance(sample, dt.date):
        return sa.Date()
    return sa.String(200)


class _Builder:
    """Plants the A and B households, then the background, recording rows and expected facts."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.random = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.today = today
        self.demo = Demo(seed=seed, today=today)
        self.demo.rows = {kind: {spec.name: [] for spec in _specs(kind)} for kind in KIND_CLASSES}
        self.issued: set[str] = set()
        self.households = 0

    # --- identities ---------------------------------------------------------------------------------

    def id_number(self, region: str, born: dt.date, male: bool, *, check: str | None = None) -> str:
        """A fresh valid number; ``check`` asks for a given check character (e.g. ``X``)."""
        while True:
            sequence = self.random.randrange(0, 999)
            if (sequence % 2 == 1) != male:
                sequence += 1
            first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
            number = first17 + id_check_character(first17)
            if number not in self.issued and (check is None or number.endswith(check)):
                self.issued.add(number)
                return number

    def born(self, first_year: int, last_year: int) -> dt.date:
        return dt.date(self.random.randint(first_year, last_year), 1, 1) + dt.timedelta(days=self.random.randrange(365))

    def household_id(self, region: str) -> str:
        self.households += 1
        return f"{region}{self.households:07d}"

    def person(
        self,
        label: str,
        household: str,
        relation: str,
        region: str,
        born: dt.date,
        male: bool,
        *,
        surname: str | None = None,
        check: str | None = None,
        deceased: bool = False,
    ) -> DemoPerson:
        given = self.fake.first_name_male() if male else self.fake.first_name_female()
        person = DemoPerson(
            label=label,
            id_number=self.id_number(region, born, male, check=check),
            name=(surname or self.fake.last_name()) + given,
            household_id=household,
            relation=relation,
            hukou_region=region,
            deceased=deceased,
        )
        self.demo.persons[label] = person
        death = self.today - dt.timedelta(days=60) if deceased else None
        self.add(
            "public-security",
            "household_members",
            id_number=person.id_number,
            name=person.name,
            household_id=household,
            relation=relation,
            region_code=region,
            deceased=deceased,
            death_date=death,
        )
        return person

    def permit(self, label: str, region: str, years_living: int) -> None:
        person = self.demo.persons[label]
        number = f"{region}{self.today.year}{self.random.randrange(10**6):06d}"
        self.demo.persons[label] = replace(person, residence_region=region, permit_number=number)
        self.add(
            "public-security",
            "residence_permits",
            id_number=person.id_number,
            permit_number=number,
            region_code=region,
            living_since=self.today - dt.timedelta(days=365 * years_living + 30),
            valid_until=self.today.replace(year=self.today.year + 3, day=1),
            endorsed_year=self.today.year,
        )

    # --- rows and expected facts --------------------------------------------------------------------

    def add(self, kind: str, dataset: str, **row: Any) -> None:
        self.demo.rows[kind][dataset].append(row)

    def expect(self, kind: str, person: DemoPerson, **facts: object) -> None:
        target = self.demo.facts.setdefault(kind, {}).setdefault(person.id_number, {})
        for name, value in facts.items():
            target[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)

    def on_roster(self, person: DemoPerson, programme: str, locality: str, since: dt.date, amount_fen: int) -> None:
        self.add(
            "civil-affairs",
            "assistance_records",
            id_number=person.id_number,
            name=person.name,
            programme=programme,
            locality=locality,
            since=since,
            until=None,
            monthly_amount_fen=amount_fen,
            status="在保",
        )

    def university_start(self) -> dt.date:
        """1 September of the academic year under way."""
        start = dt.date(self.today.year, 9, 1)
        return start if start <= self.today else start.replace(year=self.today.year - 1)

    # --- the scenario -------------------------------------------------------------------------------

    def build(self) -> Demo:
        self.household_a()
        self.household_b()
        self.background()
        unknown = self.id_number(HUKOU_REGION, self.born(1960, 1990), True)
        self.demo.unknown_id = unknown
        return self.demo

    def household_a(self) -> None:
        household = self.household_id(HUKOU_REGION)
        surname = self.fake.last_name()
        a = self.person("A", household, "户主", HUKOU_REGION, self.born(1972, 1980), True, surname=surname)
        spouse = self.person("A.spouse", household, "配偶", HUKOU_REGION, self.born(1974, 1982), False, check="X")
        child = self.person("A.child", household, "子", HUKOU_REGION, self.born(2005, 2006), True, surname=surname)
        members = (a, spouse, child)
        for label in ("A", "A.spouse"):
            self.permit(label, RESIDENCE_REGION, 2)
        since = dt.date(self.today.year - 2, 3, 1)
        for person in members:
            self.on_roster(person, "低保", HUKOU_REGION, since, 62_800)
            self.expect("civil-affairs", person, assistance=f"DIBAO/ACTIVE/{HUKOU_REGION}")
            self.expect(
                "public-security",
                person,
                registered_region=HUKOU_REGION,
                household_id=household,
                relation=person.relation,
                household_size=3,
                deceased=False,
            )
        # The spouse's employer stores her number with a lower-case x.
        employer = self.fake.company()
        self.add(
            "hrss",
            "insured_persons",
            id_number=spouse.id_number.lower(),
            name=spouse.name,
            employer=employer,
            monthly_wage_fen=320_000,
            unemployment_registered=False,
        )
        self.expect("hrss", spouse, employer=employer, monthly_wage_fen=320_000, unemployment_registered=False)
        self.add("hrss", "insured_persons", id_number=a.id_number, name=a.name, unemployment_registered=True)
        self.expect("hrss", a, unemployment_registered=True)
        self.property(a, "住宅", HUKOU_REGION)
        self.expect("housing", a, property_count=1, non_residential_count=0)
        for days, fen in ((40, 1_200_000), (200, 350_000), (400, 900_000)):  # the last one is outside 12 months
            self.settlement(spouse, days, fen)
        self.expect("medical-insurance", spouse, out_of_pocket_12m_fen=1_550_000)
        self.add(
            "education",
            "enrolments",
            id_number=child.id_number,
            school=self.fake.company_prefix() + "大学",
            level="本科",
            enrolled_on=self.university_start(),
            left_on=None,
        )
        self.expect("education", child, enrolled_level="undergraduate", new_university_entrant=True)
        for person in members:
            self.add(
                "rural-revitalisation",
                "monitored_persons",
                id_number=person.id_number,
                household_id=household,
                monitoring_type="脱贫不稳定户",
                since=dt.date(self.today.year - 1, 6, 1),
                risk_eliminated=False,
            )
            self.expect("rural-revitalisation", person, monitored_household=True, monitoring_type="脱贫不稳定户")

    def household_b(self) -> None:
        household = self.household_id(HUKOU_REGION)
        surname = self.fake.last_name()
        b = self.person("B", household, "户主", HUKOU_REGION, self.born(1982, 1990), True, surname=surname)
        father = self.person(
            "B.father", household, "父亲", HUKOU_REGION, self.born(1950, 1956), True, surname=surname, deceased=True
        )
        mother = self.person("B.mother", household, "母亲", HUKOU_REGION, self.born(1955, 1960), False)
        self.permit("B", RESIDENCE_REGION, 1)
        for person in (b, mother):
            self.expect(
                "public-security",
                person,
                registered_region=HUKOU_REGION,
                household_id=household,
                relation=person.relation,
                household_size=2,
                deceased=False,
            )
        self.expect(
            "public-security",
            father,
            registered_region=HUKOU_REGION,
            household_id=household,
            relation="父亲",
            household_size=2,
            deceased=True,
            death_date=(self.today - dt.timedelta(days=60)).isoformat(),
        )
        employer = self.fake.company()
        self.add(
            "hrss", "insured_persons", id_number=b.id_number, name=b.name, employer=employer, monthly_wage_fen=680_000
        )
        self.expect("hrss", b, employer=employer, monthly_wage_fen=680_000)
        self.add("hrss", "insured_persons", id_number=mother.id_number, name=mother.name, pension_fen=180_000)
        self.expect("hrss", mother, pension_fen=180_000)
        self.property(b, "住宅", RESIDENCE_REGION)
        self.property(b, "商业", HUKOU_REGION)
        self.expect("housing", b, property_count=2, non_residential_count=1)
        # The hospital system still keeps the mother's old 15-digit number.
        legacy = mother.id_number[:6] + mother.id_number[8:17]
        self.settlement(mother, 90, 420_000, stored_as=legacy)
        self.expect("medical-insurance", mother, out_of_pocket_12m_fen=420_000)

    def property(self, owner: DemoPerson, usage: str, region: str) -> None:
        self.add(
            "housing",
            "properties",
            id_number=owner.id_number,
            certificate_number=f"冀({self.today.year - 3})不动产权第{self.random.randrange(10**7):07d}号",
            usage=usage,
            area_m2=self.random.randint(45, 140),
            location=REGION_NAMES.get(region, "") + self.fake.street_address(),
            region_code=region,
        )

    def settlement(self, person: DemoPerson, days_ago: int, out_of_pocket_fen: int, stored_as: str = "") -> None:
        self.add(
            "medical-insurance",
            "settlements",
            id_number=stored_as or person.id_number,
            settled_on=self.today - dt.timedelta(days=days_ago),
            total_fen=out_of_pocket_fen * 3,
            out_of_pocket_fen=out_of_pocket_fen,
        )

    def background(self) -> None:
        """A few dozen people in nearby counties, with a little of everything."""
        count = 0
        for _ in range(12):
            region = self.random.choice((HUKOU_REGION, *BACKGROUND_REGIONS))
            household = self.household_id(region)
            surname = self.fake.last_name()
            for index, relation in enumerate(("户主", "配偶", "子", "女")[: self.random.randint(1, 4)]):
                count += 1
                young = index >= 2
                born = self.born(2008, 2016) if young else self.born(1960, 1990)
                male = relation in ("户主", "子")
                person = self.person(f"bg{count}", household, relation, region, born, male, surname=surname)
                self.background_rows(person, region, young)

    def background_rows(self, person: DemoPerson, region: str, young: bool) -> None:
        chance = self.random.random
        if young:
            level = "小学" if person.id_number[6:10] >= "2013" else "初中"
            self.add(
                "education",
                "enrolments",
                id_number=person.id_number,
                school=REGION_NAMES.get(region, "") + "第一中心学校",
                level=level,
                enrolled_on=dt.date(int(person.id_number[6:10]) + 6, 9, 1),
                left_on=None,
            )
            return
        if chance() < 0.3:
            programme = self.random.choice(("低保", "特困", "低保边缘"))
            since = self.today - dt.timedelta(days=self.random.randint(100, 2000))
            self.on_roster(person, programme, region, since, self.random.choice((45_000, 62_800, 98_000)))
        if chance() < 0.5:
            self.add(
                "hrss",
                "insured_persons",
                id_number=person.id_number,
                name=person.name,
                employer=self.fake.company(),
                monthly_wage_fen=self.random.randint(200_000, 1_200_000),
            )
        if chance() < 0.4:
            self.property(person, self.random.choice(("住宅", "住宅", "商业")), region)
        if chance() < 0.3:
            self.settlement(person, self.random.randint(1, 500), self.random.randint(10_000, 800_000))
        if chance() < 0.2:
            self.permit(person.label, self.random.choice(BACKGROUND_REGIONS), self.random.randint(1, 5))
        if region.startswith("1306") and chance() < 0.2:
            self.add(
                "rural-revitalisation",
                "monitored_persons",
                id_number=person.id_number,
                household_id=person.household_id,
                monitoring_type="边缘易致贫户",
                since=self.today - dt.timedelta(days=300),
                risk_eliminated=chance() < 0.5,
            )

"""The demo scenario: deterministic, valid identifiers, and the A/B story it promises."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from adapters import example_config
from adapters.demo import HUKOU_REGION, REGION_NAMES, RESIDENCE_REGION, Demo, build_demo
from hub.identifiers import validate_id_number

from .conftest import TODAY


def test_same_seed_same_scenario_other_seed_other_people() -> None:
    first, again = build_demo(seed=7, today=TODAY), build_demo(seed=7, today=TODAY)
    assert first.persons == again.persons and first.rows == again.rows and first.facts == again.facts
    other = build_demo(seed=8, today=TODAY)
    assert {p.id_number for p in other.persons.values()} != {p.id_number for p in first.persons.values()}


def test_every_id_number_is_valid_with_a_real_region_code(demo: Demo) -> None:
    numbers = [p.id_number for p in demo.persons.values()] + [demo.unknown_id]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert validate_id_number(number) == number
        assert number[:6] in REGION_NAMES
    assert demo.unknown_id not in {str(r.get("id_number")) for d in demo.rows.values() for rs in d.values() for r in rs}


def test_the_a_and_b_story(demo: Demo) -> None:
    a, b = demo.a, demo.b
    assert a.hukou_region == b.hukou_region == HUKOU_REGION
    assert a.residence_region == b.residence_region == RESIDENCE_REGION
    assert a.permit_number and b.permit_number
    roster = demo.rows["civil-affairs"]["assistance_records"]
    on_roster = {r["id_number"]: r for r in roster}
    assert on_roster[a.id_number]["programme"] == "低保" and on_roster[a.id_number]["locality"] == HUKOU_REGION
    assert not {p.id_number for p in demo.household("B")} & set(on_roster), "B's household gets nothing anywhere"
    assert demo.household("A")[0].relation == "户主"
    assert any(p.deceased for p in demo.household("B"))
    for kind in ("public-security", "civil-affairs", "education", "hrss", "housing", "medical-insurance"):
        assert demo.facts[kind], f"the demo plants {kind} facts"


def test_write_demo_lays_out_what_the_examples_expect(demo: Demo) -> None:
    directory = demo.directory
    assert directory is not None
    for kind, datasets in demo.rows.items():
        config = example_config(kind)
        engine = sa.create_engine(f"sqlite:///{directory / f'{kind}.db'}")
        for name, rows in datasets.items():
            table = config["datasets"][name]
            path = Path(directory, config["folder"], table["file"])
            with path.open(encoding="utf-8", newline="") as handle:
                written = list(csv.DictReader(handle))
            assert len(written) == len(rows)
            assert set(written[0]) == set(table["columns"].values())
            with engine.connect() as connection:
                count = connection.execute(sa.text(f'SELECT count(*) FROM "{table["table"]}"')).scalar_one()
            assert count == len(rows)
        engine.dispose()


def test_today_moves_the_dates(demo: Demo) -> None:
    later = build_demo(today=TODAY + dt.timedelta(days=30))
    [permit] = [r for r in later.rows["public-security"]["residence_permits"] if r["id_number"] == demo.a.id_number]
    assert permit["endorsed_year"] == (TODAY + dt.timedelta(days=30)).year
    assert later.persons == demo.persons

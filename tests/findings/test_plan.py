"""The plan's pieces that need no feeds: picking a region's figure for each row."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Integer, column, create_engine, literal, select

from hub.findings._plan import by_region


def _governing(prefixes: dict[str, int], locality: str) -> int | None:
    matches = [prefix for prefix in prefixes if locality.startswith(prefix)]
    return prefixes[max(matches, key=len)] if matches else None


@pytest.mark.parametrize("seed", range(40))
def test_each_locality_takes_the_figure_of_its_most_specific_region(seed: int) -> None:
    """Nested regions (a province, a city in it, a county in that) with figures repeated or not: the ``CASE``
    answers what the longest matching prefix states, though it leaves out the regions that repeat the region
    around them."""
    rng = random.Random(seed)
    codes = [f"{p}{c:02d}{d:02d}" for p in ("11", "13", "44") for c in (1, 6) for d in (5, 29)]
    prefixes = {"": rng.choice((3, 6))}
    for code in rng.sample(codes, 5):
        prefixes[code[: rng.choice((2, 4, 6))]] = rng.choice((3, 6, 12))
    locality = column("locality")
    picked = by_region(sorted(prefixes.items()), locality, lambda value: literal(value, Integer))
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        for code in codes:
            got = connection.execute(select(picked).select_from(select(literal(code).label("locality")).subquery()))
            assert got.scalar_one() == _governing(prefixes, code), (prefixes, code)


def test_regions_that_repeat_the_region_around_them_need_no_branch() -> None:
    locality = column("locality")
    repeated = by_region([("", 3), ("13", 3), ("1306", 3), ("130629", 3)], locality, lambda v: literal(v, Integer))
    assert "CASE" not in str(repeated)
    one = by_region(
        [("", 3), ("13", 6), ("1306", 6), ("130629", 6), ("44", 3)], locality, lambda v: literal(v, Integer)
    )
    assert str(one).count("WHEN") == 1  # 13: the county and its city repeat it, 44 repeats the default

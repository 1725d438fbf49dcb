"""Rules as data: the packaged files, inheritance per region, scopes, and every mistake a rule file can hold."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.errors import InvalidArgument
from hub.feeds import FeedIntake
from hub.findings import FindingBook, FindingFilter, load_rules, parse_rules, run_comparison
from hub.findings._facts import FACTS
from hub.findings._plan import window_start
from hub.findings._rules import Across, CountRule, Measure, ThresholdRule, packaged_rules_dir
from hub.store import Store
from tests.findings.conftest import AS_OF, NOW, World


def default_document() -> dict[str, Any]:
    with (packaged_rules_dir() / "default.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_the_packaged_rules_cover_every_signal_of_the_domain() -> None:
    book = load_rules()
    default = book.region("")
    assert default.standard_fen == 62_800
    codes = {rule.code for rule in default.rules}
    assert codes >= {
        "income_over_standard",
        "second_home",
        "non_residential_property",
        "state_salaried",
        "member_died",
        "medical_spending",
        "university_entrant",
        "unemployment_registered",
        "income_marginal",
        "monitored_household",
        "duplicate_locality",
        "duplicate_programme",
        "repeat_temporary",
    }
    income = default.rule("income_over_standard")
    assert isinstance(income, ThresholdRule) and income.statuses == ("active",)  # 渐退期 disregarded
    assert income.measure is Measure.PER_CAPITA_MONTHLY and income.above.percent == 100
    marginal = default.rule("income_marginal")
    assert isinstance(marginal, ThresholdRule) and marginal.at_most is not None and marginal.at_most.percent == 150
    assert all(rule.title and "/" in rule.title for rule in default.rules), "titles in Chinese and English"


def test_a_county_file_states_only_what_differs() -> None:
    county = load_rules().region("130629")
    assert county.sources == ("default.toml", "130629.toml")
    assert county.standard_fen == 70_000
    income = county.rule("income_over_standard")
    assert isinstance(income, ThresholdRule) and income.months == 6
    assert income.feeds == ("wage", "pension") and income.statuses == ("active",)  # inherited keys
    assert {r.code for r in county.rules} == {r.code for r in load_rules().region("").rules}


def test_regions_inherit_from_the_nearest_shorter_prefix() -> None:
    book = parse_rules(
        {
            "": default_document(),
            "13": {
                "region": "13",
                "standard": {"dibao_monthly_fen": 60_000},
                "rules": {"second_home": {"at_least": 3}},
            },
            "1306": {"region": "1306", "rules": {"second_home": {"enabled": False}}},
            "130629": {"region": "130629", "standard": {"dibao_monthly_fen": 70_000}},
        }
    )
    assert book.region("13").standard_fen == 60_000 and book.region("1306").standard_fen == 60_000
    assert book.region("130629").standard_fen == 70_000
    second_home = book.region("13").rule("second_home")
    assert isinstance(second_home, CountRule) and second_home.at_least == 3
    assert "second_home" not in {r.code for r in book.region("1306").rules}
    assert "second_home" not in {r.code for r in book.region("130629").rules}  # disabled above it
    assert book.governing("130629").prefix == "130629" and book.governing("130681").prefix == "1306"
    assert book.governing("110105").prefix == ""


def test_scopes_split_a_run_between_regions() -> None:
    book = parse_rules({"": default_document(), "1306": {"region": "1306"}, "130629": {"region": "130629"}})
    everywhere = {(s.rules.prefix, s.prefix, s.excluded) for s in book.scopes()}
    assert everywhere == {("", "", ("1306", "130629")), ("1306", "1306", ("130629",)), ("130629", "130629", ())}
    within = {(s.rules.prefix, s.prefix, s.excluded) for s in book.scopes("1306")}
    assert within == {("1306", "1306", ("130629",)), ("130629", "130629", ())}
    assert {(s.rules.prefix, s.prefix) for s in book.scopes("130681")} == {("1306", "130681")}
    assert {(s.rules.prefix, s.prefix) for s in book.scopes("44")} == {("", "44")}


def test_a_new_rule_of_an_existing_shape_needs_no_code(tmp_path: Path, store: Store, intake: FeedIntake) -> None:
    (tmp_path / "440308.toml").write_text(
        """
region = "440308"
name = "盐田区"
[rules.three_homes]
title = "三套及以上住房 / three or more homes"
shape = "count"
signal = "exclusion"
severity = "high"
programmes = ["dibao"]
feed = "property"
where = { property_kind = ["residential"] }
distinct = "certificate_number"
at_least = 3
""",
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    world = World()
    for locality in ("440308", "110105"):
        members = world.household(locality, 1)
        for n in range(3):
            world.property(members[0], f"{locality}-{n}")
    world.load(intake)
    summary = run_comparison(store, rules, as_of=AS_OF, clock=lambda: NOW)
    assert summary.counts["three_homes"].new == 1
    (finding,) = FindingBook(store).find(FindingFilter(rules=("three_homes",)))
    assert finding.locality == "440308" and finding.evidence["count"] == 3


def _broken(rule: str, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(default_document())
    body = document["rules"][rule]
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return document


@pytest.mark.parametrize(
    ("rule", "changes", "field", "words"),
    [
        ("second_home", {"at_lest": 2}, "default.toml:rules.second_home", "unknown keys at_lest"),
        ("second_home", {"programmes": ["dibao", "wubao"]}, "rules.second_home.programmes", "unknown codes wubao"),
        ("second_home", {"feed": "cars"}, "rules.second_home.feed", "not a feed"),
        ("second_home", {"where": {"property_kind": ["castle"]}}, "where.property_kind", "unknown codes castle"),
        ("second_home", {"where": {"colour": ["red"]}}, "where.colour", "no enumerated column colour"),
        ("second_home", {"distinct": "owner_name"}, "rules.second_home.distinct", "column of property"),
        ("second_home", {"at_least": 0}, "rules.second_home.at_least", "whole number ≥ 1"),
        ("income_over_standard", {"above": 1.005}, "income_over_standard.above", "two decimals"),
        ("income_over_standard", {"above_fen": 1000}, "income_over_standard.above", "not both"),
        ("income_over_standard", {"above": None}, "income_over_standard.above", "give above"),
        ("income_over_standard", {"feeds": ["property"]}, "income_over_standard.feeds", "no amount"),
        ("income_over_standard", {"measure": "per_head"}, "income_over_standard.measure", "one of"),
        ("member_died", {"current": True}, "member_died.current", "events"),
        ("member_died", {"signal": "duplicate"}, "member_died.signal", 'shape = "duplicate"'),
        ("duplicate_locality", {"across": "province"}, "duplicate_locality.across", "one of"),
        ("member_died", {"title": None}, "member_died.title", "required"),
    ],
)
def test_a_mistake_in_a_rule_file_is_refused_naming_the_key(
    rule: str, changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_rules({"": _broken(rule, **changes)})
    assert field in refused.value.field and words in refused.value.explanation


def test_rule_files_name_their_region_and_need_a_default(tmp_path: Path) -> None:
    (tmp_path / "440308.toml").write_text('region = "440309"\n', encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"must be named 440309\.toml"):
        load_rules(tmp_path)
    with pytest.raises(InvalidArgument, match="needs a default"):
        parse_rules({"13": {"region": "13"}})
    with pytest.raises(InvalidArgument, match="region"):
        parse_rules({"": default_document(), "1x": {"region": "1x"}})
    (tmp_path / "440308.toml").write_text("region = \n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match="not valid TOML"):
        load_rules(tmp_path)


def test_the_digest_changes_with_any_parameter() -> None:
    base = parse_rules({"": default_document()})
    changed = parse_rules({"": _broken("second_home", at_least=3)})
    assert base.digest() == parse_rules({"": default_document()}).digest() != changed.digest()


def test_duplicate_rules_list_programmes_by_precedence() -> None:
    rule = load_rules().region("").rule("duplicate_programme")
    assert rule.programmes[:2] == ("tekun", "dibao") and rule.across is Across.PROGRAMME


def test_every_feed_fact_names_stored_columns() -> None:
    for facts in FACTS.values():
        columns = set(facts.by_person.c.keys())
        assert facts.date in columns
        assert facts.end is None or facts.end in columns
        assert facts.amount is None or facts.amount in columns


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        (dt.date(2025, 6, 30), 3, dt.date(2025, 4, 1)),
        (dt.date(2025, 6, 30), 12, dt.date(2024, 7, 1)),
        (dt.date(2025, 1, 15), 2, dt.date(2024, 12, 1)),
        (dt.date(2025, 3, 31), 1, dt.date(2025, 3, 1)),
    ],
)
def test_windows_are_whole_calendar_months_ending_with_the_day(as_of: dt.date, months: int, start: dt.date) -> None:
    assert window_start(as_of, months) == start

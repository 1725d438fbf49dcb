"""A repeat 临时救助 grant for the same cause (shape ``repeat``): the rule as data, and the engine on both databases."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from sqlalchemy import event

from hub.errors import InvalidArgument
from hub.feeds import FeedIntake
from hub.findings import Action, FindingBook, FindingFilter, RuleBook, parse_rules, run_comparison
from hub.findings._rules import Per, RepeatRule, Shape, Signal, packaged_rules_dir
from hub.privacy import Tokenizer
from hub.store import Store
from tests.findings.conftest import AS_OF, BUREAU_OF, NOW, World, new_id, register_bureaus

RULE = "repeat_temporary"


def default_document() -> dict[str, Any]:
    with (packaged_rules_dir() / "default.toml").open("rb") as handle:
        return tomllib.load(handle)


def only_the_repeat_rule(**changes: Any) -> dict[str, Any]:
    document = default_document()
    document["rules"] = {RULE: {**document["rules"][RULE], **changes}}
    return document


def book_of(documents: dict[str, dict[str, Any]]) -> RuleBook:
    return parse_rules(documents)


def compare(store: Store, rules: RuleBook | None = None) -> Any:
    return run_comparison(store, rules or book_of({"": only_the_repeat_rule()}), as_of=AS_OF, clock=lambda: NOW)


def findings(store: Store) -> list[Any]:
    return FindingBook(store, clock=lambda: NOW).find(FindingFilter(rules=(RULE,), limit=1000))


# --- the rule as data -------------------------------------------------------------------------------------


def test_the_packaged_rule_reads_household_grants_of_temporary_assistance() -> None:
    rule = book_of({"": default_document()}).region("").rule(RULE)
    assert isinstance(rule, RepeatRule) and rule.shape is Shape.REPEAT and rule.signal is Signal.DUPLICATE
    assert rule.per is Per.HOUSEHOLD and rule.programmes == ("temporary",) and rule.within_months == 12
    assert "ended" in rule.statuses and "other" not in rule.causes and "fire" in rule.causes
    assert rule.kinds() == () and rule.window_months() == 12


def test_causes_default_to_every_cause() -> None:
    document = only_the_repeat_rule()
    del document["rules"][RULE]["causes"]
    rule = book_of({"": document}).region("").rule(RULE)
    assert isinstance(rule, RepeatRule) and len(rule.causes) == 7


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"within_months": 0}, "within_months", "whole number"),
        ({"within_months": None}, "within_months", "whole number"),
        ({"causes": ["fire", "flood"]}, "causes", "flood"),
        ({"signal": "exclusion"}, "signal", "duplicate"),
        ({"across": "locality"}, RULE, "across"),
    ],
)
def test_mistakes_in_a_repeat_rule_are_named(changes: dict[str, Any], where: str, message: str) -> None:
    document = only_the_repeat_rule()
    body = document["rules"][RULE]
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    with pytest.raises(InvalidArgument) as refused:
        book_of({"": document})
    assert where in refused.value.field or where in str(refused.value)
    assert message in str(refused.value)


# --- the engine -------------------------------------------------------------------------------------------


def test_two_grants_for_the_same_cause_within_the_window_are_one_finding_about_the_household(
    store: Store, intake: FeedIntake, tokenizer: Tokenizer
) -> None:
    world = World()
    members = [new_id("110105") for _ in range(3)]
    world.grant(members, members[0], "110105", "fire", "2024-09-10", amount=100_000)
    world.grant(members, members[0], "110105", "fire", "2025-03-05", amount=150_000)
    world.load(intake)
    summary = compare(store)
    assert summary.counts[RULE].new == 1
    (finding,) = findings(store)
    head = tokenizer.token(members[0])
    assert (finding.locality, finding.household, finding.subject, finding.person) == ("110105", head, head, None)
    assert finding.programme == "temporary" and finding.signal is Signal.DUPLICATE
    evidence = finding.evidence
    assert evidence["cause"] == "fire" and evidence["within_months"] == 12 and evidence["feeds"] == ["roster"]
    assert (evidence["since"], evidence["other_since"]) == ("2025-03-05", "2024-09-10")
    assert (evidence["monthly_amount_fen"], evidence["other_monthly_amount_fen"]) == (150_000, 100_000)
    assert evidence["other_locality"] == "110105"
    assert all(":" in evidence[key] for key in ("record", "other_record"))
    text = str(finding.evidence) + finding.evidence_key
    assert not any(member in text or member[:14] in text for member in members), "tokens and record keys only"


@pytest.mark.parametrize(
    ("first", "second", "hits"),
    [
        (("fire", "2024-07-01"), ("fire", "2025-06-30"), 1),  # the window's first and last day
        (("fire", "2024-10-01"), ("accident", "2025-04-01"), 0),  # another cause
        (("fire", "2024-06-30"), ("fire", "2025-04-01"), 0),  # the first grant before the window
        (("fire", "2025-04-01"), ("fire", "2025-07-01"), 0),  # the second after the comparison's day
        (("", "2024-10-01"), ("", "2025-04-01"), 0),  # the cause not said
        (("other", "2024-10-01"), ("other", "2025-04-01"), 0),  # 其他 is not one cause
        (("fire", "2025-04-01"), ("fire", "2025-04-01"), 0),  # one grant listed twice
    ],
)
def test_only_a_second_grant_for_the_same_said_cause_within_the_window_is_a_repeat(
    store: Store, intake: FeedIntake, first: tuple[str, str], second: tuple[str, str], hits: int
) -> None:
    world = World()
    members = [new_id("440308"), new_id("440308")]
    world.grant(members, members[0], "440308", *first)
    world.grant(members, members[0], "440308", *second)
    world.load(intake)
    assert compare(store).counts[RULE].new == hits


def test_grants_of_another_programme_or_status_are_not_examined(store: Store, intake: FeedIntake) -> None:
    world = World()
    edge = [new_id("110105")]
    world.grant(edge, edge[0], "110105", "fire", "2024-09-01", programme="dibao_edge")
    world.grant(edge, edge[0], "110105", "fire", "2025-02-01", programme="dibao_edge")
    suspended = [new_id("110105")]
    world.grant(suspended, suspended[0], "110105", "fire", "2024-09-01", status="suspended")
    world.grant(suspended, suspended[0], "110105", "fire", "2025-02-01")
    mixed = [new_id("110105")]
    world.grant(mixed, mixed[0], "110105", "fire", "2024-09-01", programme="dibao")
    world.grant(mixed, mixed[0], "110105", "fire", "2025-02-01")  # one 临时救助 grant, one 低保 enrolment
    world.load(intake)
    assert compare(store).counts[RULE].new == 0


def test_a_household_granted_again_through_another_member_and_elsewhere_is_a_repeat(
    store: Store, intake: FeedIntake, tokenizer: Tokenizer
) -> None:
    world = World()
    members = [new_id("110105") for _ in range(3)]
    world.grant(members[:2], members[0], "110105", "sudden_illness", "2024-08-01")
    world.grant(members[1:], members[0], "440308", "sudden_illness", "2025-01-15")  # moved; another applicant
    world.grant(members[1:], members[0], "440308", "sudden_illness", "2025-05-20")  # and a third time
    world.load(intake)
    compare(store)
    (finding,) = findings(store)
    assert finding.locality == "440308" and finding.household == tokenizer.token(members[0])
    assert (finding.evidence["since"], finding.evidence["other_since"]) == ("2025-05-20", "2025-01-15")


def test_a_rerun_raises_nothing_twice_and_a_further_grant_refreshes_the_finding(
    store: Store, intake: FeedIntake
) -> None:
    world = World()
    members = [new_id("110105"), new_id("110105")]
    world.grant(members, members[0], "110105", "medical_expense", "2024-09-10")
    world.grant(members, members[0], "110105", "medical_expense", "2025-01-10")
    world.load(intake)
    assert compare(store).counts[RULE].new == 1
    again = compare(store).counts[RULE]
    assert (again.new, again.unchanged, again.updated) == (0, 1, 0)
    world.grant(members, members[0], "110105", "medical_expense", "2025-06-01")
    world.load(intake, suffix="2")
    later = compare(store).counts[RULE]
    assert (later.new, later.updated) == (0, 1)
    (finding,) = findings(store)
    assert finding.evidence["since"] == "2025-06-01" and finding.evidence["other_since"] == "2025-01-10"


def test_a_region_sets_its_own_window_in_the_same_statement(store: Store, intake: FeedIntake) -> None:
    world = World()
    for locality in ("110105", "440308"):
        members = [new_id(locality)]
        world.grant(members, members[0], locality, "fire", "2024-10-01")
        world.grant(members, members[0], locality, "fire", "2025-05-01")
    world.load(intake)
    county = {"region": "440308", "name": "盐田区", "rules": {RULE: {"within_months": 6}}}
    summary = compare(store, book_of({"": only_the_repeat_rule(), "440308": county}))
    assert summary.counts[RULE].new == 1
    (finding,) = findings(store)
    assert finding.locality == "110105"


def test_a_confirmed_repeat_owes_the_repeat_grant(store: Store, intake: FeedIntake) -> None:
    register_bureaus(store)
    world = World()
    members = [new_id("110105"), new_id("110105")]
    world.grant(members, members[0], "110105", "education_expense", "2024-09-01", amount=200_000)
    world.grant(members, members[0], "110105", "education_expense", "2025-03-01", amount=180_000)
    world.load(intake)
    compare(store)
    (finding,) = findings(store)
    bureau = BUREAU_OF["110105"]
    book = FindingBook(store, clock=lambda: NOW)
    book.review(finding.id, Action.START, reviewer="李四", bureau=bureau, member=bureau)
    decided = book.review(
        finding.id, Action.CONFIRM, reviewer="李四", reason="同一事由已救助", bureau=bureau, member=bureau
    )
    assert decided.overpayment_fen == 180_000


def test_the_repeat_rule_is_set_based(store: Store, intake: FeedIntake) -> None:
    """As many statements for five repeating households as for fifty."""

    def statements_for(households: int, suffix: str) -> int:
        world = World()
        for _ in range(households):
            members = [new_id("110105"), new_id("110105")]
            world.grant(members, members[0], "110105", "fire", "2024-09-10")
            world.grant(members, members[0], "110105", "fire", "2025-03-05")
        world.load(intake, suffix=suffix)
        count = 0

        def counter(*args: Any) -> None:
            nonlocal count
            count += 1

        event.listen(store.engine, "before_cursor_execute", counter)
        try:
            summary = compare(store)
        finally:
            event.remove(store.engine, "before_cursor_execute", counter)
        assert summary.counts[RULE].new == households
        return count

    assert statements_for(5, "small") == statements_for(50, "large")

"""A finding's life: open → under review → confirmed | dismissed, by named people, with reasons and history."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.errors import FailedPrecondition, InvalidArgument, NotFound
from hub.findings import Action, Finding, FindingBook, FindingFilter, Status, load_rules, run_comparison
from hub.store import Store
from tests.findings.conftest import AS_OF, BUREAU_OF, NOW, register_bureaus
from tests.findings.dataset import Dataset, build

CHAOYANG = BUREAU_OF["110105"]
YANTIAN = BUREAU_OF["440308"]


@pytest.fixture
def book(store: Store, dataset: Dataset) -> FindingBook:
    register_bureaus(store)
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)
    return FindingBook(store, clock=lambda: NOW)


def one(book: FindingBook, rule: str) -> Finding:
    (finding,) = book.find(FindingFilter(rules=(rule,)))
    return finding


def test_a_person_takes_a_finding_through_review_to_a_decision(book: FindingBook) -> None:
    died = one(book, "member_died")
    assert died.bureau == CHAOYANG and died.status is Status.OPEN
    started = book.review(died.id, Action.START, reviewer="李四", bureau=CHAOYANG, member=CHAOYANG)
    assert started.status is Status.UNDER_REVIEW and started.reviewer == "李四" and started.reason is None
    decided = book.review(
        died.id, Action.CONFIRM, reviewer="李四", reason="火化证明已核实，停发", bureau=CHAOYANG, member=CHAOYANG
    )
    assert decided.status is Status.CONFIRMED and decided.reason == "火化证明已核实，停发"
    assert decided.reviewed_at == NOW and decided.reviewed_by == CHAOYANG
    assert decided.overpayment_fen is None  # not a duplicate
    history = book.history(died.id)
    assert [(e.from_status, e.to_status, e.actor) for e in history] == [
        (Status.OPEN, Status.UNDER_REVIEW, "李四"),
        (Status.UNDER_REVIEW, Status.CONFIRMED, "李四"),
    ]
    assert history[1].reason == "火化证明已核实，停发" and history[1].member == CHAOYANG


def test_no_decision_without_a_named_person_and_a_reason(book: FindingBook) -> None:
    died = one(book, "member_died")
    with pytest.raises(InvalidArgument) as nobody:
        book.review(died.id, Action.START, reviewer="  ")
    assert nobody.value.field == "reviewer"
    book.review(died.id, Action.START, reviewer="李四")
    with pytest.raises(InvalidArgument) as why:
        book.review(died.id, Action.DISMISS, reviewer="李四")
    assert why.value.field == "reason"
    assert book.get(died.id).status is Status.UNDER_REVIEW


def test_steps_follow_the_lifecycle_only(book: FindingBook) -> None:
    died = one(book, "member_died")
    with pytest.raises(FailedPrecondition, match="must be under_review"):
        book.review(died.id, Action.CONFIRM, reviewer="李四", reason="直接认定")
    book.review(died.id, Action.START, reviewer="李四")
    with pytest.raises(FailedPrecondition, match="must be open"):
        book.review(died.id, Action.START, reviewer="王五")
    book.review(died.id, Action.DISMISS, reviewer="李四", reason="同名误报")
    for action in Action:
        with pytest.raises(FailedPrecondition):
            book.review(died.id, action, reviewer="王五", reason="再议")
    assert book.get(died.id).status is Status.DISMISSED


def test_a_bureau_sees_and_reviews_only_its_own_findings(book: FindingBook) -> None:
    mine = book.find(FindingFilter(limit=1000), bureau=CHAOYANG)
    assert mine and {f.locality for f in mine} == {"110105"}
    theirs = one(book, "second_home")
    assert theirs.bureau == YANTIAN
    with pytest.raises(NotFound):
        book.get(theirs.id, bureau=CHAOYANG)
    with pytest.raises(NotFound):
        book.review(theirs.id, Action.START, reviewer="李四", bureau=CHAOYANG)
    with pytest.raises(NotFound):
        book.history(theirs.id, bureau=CHAOYANG)
    assert book.get(theirs.id).status is Status.OPEN


def test_confirming_a_duplicate_computes_the_overpayment(book: FindingBook) -> None:
    duplicate = one(book, "duplicate_locality")
    assert duplicate.locality == "440308" and duplicate.bureau == YANTIAN
    evidence = duplicate.evidence
    assert (evidence["since"], evidence["other_since"], evidence["other_locality"]) == (
        "2024-06-01",
        "2024-01-01",
        "110105",
    )
    book.review(duplicate.id, Action.START, reviewer="赵六", bureau=YANTIAN)
    confirmed = book.review(duplicate.id, Action.CONFIRM, reviewer="赵六", reason="两地重复享受", bureau=YANTIAN)
    # June 2024 to July 2025 (the decision's month) paid twice: 14 months × 550 yuan.
    assert confirmed.overpayment_fen == 14 * 55_000


def test_a_dismissed_duplicate_owes_nothing(book: FindingBook) -> None:
    for finding in book.find(FindingFilter(rules=("duplicate_programme",))):
        book.review(finding.id, Action.START, reviewer="赵六")
        dismissed = book.review(finding.id, Action.DISMISS, reviewer="赵六", reason="已办理退出")
        assert dismissed.overpayment_fen is None


def test_overdue_findings_are_those_undecided_past_their_day(store: Store, book: FindingBook) -> None:
    later = FindingBook(store, clock=lambda: NOW + dt.timedelta(days=11))
    everything = later.find(FindingFilter(limit=1000))
    assert everything and all(f.overdue(later.today()) for f in everything)
    died = one(later, "member_died")
    later.review(died.id, Action.START, reviewer="李四")
    later.review(died.id, Action.DISMISS, reviewer="李四", reason="误报")
    overdue = later.find(FindingFilter(overdue_only=True, limit=1000))
    assert len(overdue) == len(everything) - 1 and died.id not in {f.id for f in overdue}
    assert not book.find(FindingFilter(overdue_only=True))  # not yet on the day they were raised


def test_a_racing_second_officer_is_told_to_read_again(store: Store, book: FindingBook) -> None:
    died = one(book, "member_died")
    stale = FindingBook(store, clock=lambda: NOW)
    book.review(died.id, Action.START, reviewer="李四")
    with pytest.raises(FailedPrecondition):
        stale.review(died.id, Action.START, reviewer="王五")
    assert [e.actor for e in book.history(died.id)] == ["李四"]


def test_paging_walks_every_finding_once(book: FindingBook) -> None:
    everything = book.find(FindingFilter(limit=1000))
    seen, after = [], 0
    while True:
        page = book.find(FindingFilter(after_id=after, limit=3))
        seen += page
        if len(page) < 3:
            break
        after = page[-1].id
    assert [f.id for f in seen] == [f.id for f in everything] == sorted(f.id for f in everything)
    assert list(book.iterate()) == everything
    with pytest.raises(InvalidArgument):
        book.find(FindingFilter(limit=0))


def test_the_dataset_raises_one_finding_per_expected_hit(book: FindingBook) -> None:
    assert len(book.find(FindingFilter(limit=1000))) == sum(len(hits) for hits in build().expected.values())

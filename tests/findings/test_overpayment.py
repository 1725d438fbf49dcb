"""Overpayment of a confirmed duplicate: months both enrolments paid × the redundant monthly amount."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.errors import FailedPrecondition
from hub.findings import overlap_months, overpayment

D = dt.date


@pytest.mark.parametrize(
    ("first", "second", "until", "months", "from_month"),
    [
        ((D(2024, 1, 1), None), (D(2024, 6, 15), None), D(2025, 7, 1), 14, D(2024, 6, 1)),
        ((D(2024, 1, 1), D(2024, 3, 31)), (D(2024, 3, 1), None), D(2025, 7, 1), 1, D(2024, 3, 1)),
        ((D(2024, 1, 1), D(2024, 2, 29)), (D(2024, 3, 1), None), D(2025, 7, 1), 0, None),
        ((D(2024, 5, 20), D(2024, 5, 21)), (D(2024, 5, 1), D(2024, 5, 31)), D(2025, 7, 1), 1, D(2024, 5, 1)),
        ((D(2025, 1, 1), None), (D(2025, 1, 1), None), D(2025, 3, 10), 3, D(2025, 1, 1)),
    ],
)
def test_months_paid_twice(
    first: tuple[dt.date, dt.date | None],
    second: tuple[dt.date, dt.date | None],
    until: dt.date,
    months: int,
    from_month: dt.date | None,
) -> None:
    assert overlap_months(first, second, until=until) == (months, from_month)
    assert overlap_months(second, first, until=until) == (months, from_month)


def test_the_redundant_amount_is_repaid_for_the_overlap() -> None:
    evidence = {
        "since": "2024-06-01",
        "until": None,
        "monthly_amount_fen": 55_000,
        "other_since": "2024-01-01",
        "other_until": "2024-12-31",
    }
    owed = overpayment(evidence, decided_on=D(2025, 7, 1))
    assert (owed.months, owed.monthly_fen, owed.total_fen, owed.first_month) == (7, 55_000, 385_000, D(2024, 6, 1))


def test_evidence_of_another_rule_yields_no_overpayment() -> None:
    with pytest.raises(FailedPrecondition, match="duplicate"):
        overpayment({"count": 2, "latest_on": "2019-05-20"}, decided_on=D(2025, 7, 1))


@pytest.mark.parametrize(
    ("until", "months", "owed"), [(None, 1, 150_000), ("2025-03-05", 1, 150_000), ("2025-05-31", 3, 450_000)]
)
def test_a_repeat_grant_for_the_same_cause_is_owed_whole(until: str | None, months: int, owed: int) -> None:
    """The repeat rule's evidence: two 临时救助 grants that overlap nothing; the repeat is the redundant payment."""
    evidence = {
        "cause": "fire",
        "since": "2025-03-05",
        "until": until,
        "monthly_amount_fen": 150_000,
        "other_since": "2024-09-10",
        "other_until": "2024-09-10",
    }
    paid = overpayment(evidence, decided_on=D(2025, 7, 1))
    assert (paid.months, paid.total_fen, paid.first_month) == (months, owed, D(2025, 3, 1))

"""Overpayment of a confirmed duplicate (重复救助多发金额): the months both enrolments paid, times the redundant amount.

Benefits are paid by the month: an enrolment pays every month from the month of ``since`` to the month of
``until`` (or, while open, to the month of the decision). The redundant enrolment — the lower programme, or the
later one across localities, as the duplicate rule chose it — repaid for the overlapping months.

A repeat 临时救助 grant for the same cause (the ``repeat`` rule, whose evidence names the ``cause``) overlaps
nothing: the repeat grant is the redundant payment, whole — its amount for each month from ``since`` to ``until``
(one payment when it names no end, as a one-off grant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import FailedPrecondition


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _first_day(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Overpayment:
    months: int
    monthly_fen: int
    #: First month paid twice (``None`` when the periods do not overlap).
    first_month: dt.date | None

    @property
    def total_fen(self) -> int:
        return self.months * self.monthly_fen


def overlap_months(
    first: tuple[dt.date, dt.date | None], second: tuple[dt.date, dt.date | None], *, until: dt.date
) -> tuple[int, dt.date | None]:
    """Calendar months both periods pay; an open end runs to ``until``'s month."""
    start = max(_month(first[0]), _month(second[0]))
    end = min(_month(first[1] or until), _month(second[1] or until), _month(until))
    if end < start:
        return 0, None
    return end - start + 1, _first_day(start)


def _day(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise FailedPrecondition(f"the duplicate's evidence has no valid {field}") from None


def overpayment(evidence: Mapping[str, Any], *, decided_on: dt.date) -> Overpayment:
    """From a duplicate finding's evidence (own and other enrolment) as of the day it is confirmed."""
    since, other_since = _day(evidence.get("since"), "since"), _day(evidence.get("other_since"), "other_since")
    amount = evidence.get("monthly_amount_fen")
    if since is None or other_since is None or not isinstance(amount, int):
        raise FailedPrecondition("only a duplicate's evidence (two enrolments) yields an overpayment")
    if evidence.get("cause"):
        until = _day(evidence.get("until"), "until")
        return Overpayment(_month(until) - _month(since) + 1 if until else 1, amount, _first_day(_month(since)))
    months, first = overlap_months(
        (since, _day(evidence.get("until"), "until")),
        (other_since, _day(evidence.get("other_until"), "other_until")),
        until=decided_on,
    )
    return Overpayment(months, amount, first)

"""What each feed offers a rule: the date that places a record in time, when it ends, and the amount it carries.

Rules written as data name feeds by their record kind (``wage``, ``property``, ...) and filter on the enumerated
columns the feeds store (``property_kind = ["residential"]``); this table says which column is the event date, which
one closes a record's validity (employment ``ended_on``) and which one is the money a threshold sums. A test holds
each entry to the kind's stored columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from hub.errors import InvalidArgument
from hub.feeds import FieldType, RecordKind, kind_by_code, record_tables

ROSTER = "roster"


@dataclass(frozen=True)
class FeedFacts:
    code: str
    #: The record's date: a month, an event, a start.
    date: str
    #: Where a record stops holding (``None``: an event, it holds from its date on).
    end: str | None = None
    #: The amount in fen a threshold rule sums (``None``: the kind carries no money to compare).
    amount: str | None = None

    @property
    def kind(self) -> RecordKind:
        return kind_by_code(self.code)

    @property
    def by_person(self) -> Table:
        return record_tables(self.kind)[1]

    @property
    def records(self) -> Table:
        return record_tables(self.kind)[0]

    def enum_codes(self, column: str) -> frozenset[str] | None:
        """The codes an enumerated, compared column takes; ``None`` if ``column`` is not one."""
        for spec in self.kind.fields:
            if spec.column == column and spec.type is FieldType.ENUM and spec.compared:
                return frozenset(spec.codes.values())
        return None

    def record_column(self, column: str) -> bool:
        """Whether ``column`` is a stored, non-personal column of the records table (for ``distinct``)."""
        return any(s.column == column and s.type is not FieldType.ID_NUMBER for s in self.kind.fields[1:])


FACTS: dict[str, FeedFacts] = {
    facts.code: facts
    for facts in (
        FeedFacts("enrolment", "enrolled_on"),
        FeedFacts("university_entrant", "admitted_on", amount="annual_tuition_fen"),
        FeedFacts("employment", "started_on", end="ended_on", amount="monthly_wage_fen"),
        FeedFacts("wage", "month", amount="gross_fen"),
        FeedFacts("pension", "month", amount="amount_fen"),
        FeedFacts("unemployment", "registered_on", end="ended_on", amount="monthly_benefit_fen"),
        FeedFacts("property", "registered_on"),
        FeedFacts("medical_settlement", "settled_on", amount="out_of_pocket_fen"),
        FeedFacts("monitored_household", "identified_on", end="risk_cleared_on"),
        FeedFacts("death", "died_on"),
    )
}


def facts_of(code: str, field: str = "feed") -> FeedFacts:
    try:
        return FACTS[code]
    except KeyError:
        raise InvalidArgument(field, f"{code!r} is not a feed rules can read ({', '.join(FACTS)})") from None


def roster_table() -> Table:
    """The assistance rosters by person: the list every comparison starts from."""
    return record_tables(kind_by_code(ROSTER))[1]


def roster_records() -> Table:
    """The assistance rosters as received: every field, the ones no comparison joins on too (a grant's cause)."""
    return record_tables(kind_by_code(ROSTER))[0]


def roster_codes(column: str) -> frozenset[str]:
    (spec,) = (s for s in kind_by_code(ROSTER).fields if s.column == column)
    return frozenset(spec.codes.values())

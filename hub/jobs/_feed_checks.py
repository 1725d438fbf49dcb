"""Re-checking enrolled households against departmental feeds (部门数据): property and deaths.

Set-based per batch: one query per record kind for all the persons of a page, on the kind's by-person table
(the layout the comparisons use). Tokens are derived per feed version from the raw numbers, so a version
still under an older token key is read correctly. The rules here are the two exclusion signals a cross-check
must not miss; the full rule set, as data, belongs to the comparison engine (issue 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.feeds import current_versions, kind_by_code, lookup_tokens, record_tables
from hub.privacy import Tokenizer
from hub.store import Store
from hub.store.models import FeedVersionRow

#: Property uses that exclude a household whatever their size (DOMAIN.md: any non-residential property).
NON_RESIDENTIAL = frozenset({"commercial", "office", "industrial"})
RESIDENTIAL = "residential"


@dataclass(frozen=True)
class PersonFacts:
    #: Certificate numbers of the person's homes and other property: a home owned jointly (a row per owner in
    #: the feed) is one home of the household, as in the comparison rules (``distinct = "certificate_number"``).
    homes: frozenset[str] = frozenset()
    other_property: frozenset[str] = frozenset()
    died_on: dt.date | None = None

    @property
    def residential(self) -> int:
        return len(self.homes)

    @property
    def non_residential(self) -> int:
        return len(self.other_property)


@dataclass(frozen=True)
class Hit:
    """Something to verify (never proof): a finding's kind and evidence, before it is raised."""

    kind: str
    evidence: Mapping[str, Any]


class FeedFacts:
    def __init__(self, store: Store, tokenizer: Tokenizer, *, max_homes: int = 1) -> None:
        self.store = store
        self.tokenizer = tokenizer
        self.max_homes = max_homes

    def of(self, numbers: Collection[str]) -> dict[str, PersonFacts]:
        """Facts per ID number (persons with no row in any feed are absent)."""
        homes: dict[str, set[str]] = {}
        others: dict[str, set[str]] = {}
        deaths: dict[str, dt.date] = {}
        for number, (kind, certificate) in self._rows("property", numbers, "property_kind", "certificate_number"):
            if kind == RESIDENTIAL:
                homes.setdefault(number, set()).add(certificate)
            elif kind in NON_RESIDENTIAL:
                others.setdefault(number, set()).add(certificate)
        for number, (died_on,) in self._rows("death", numbers, "died_on"):
            deaths[number] = min(died_on, deaths.get(number, died_on))
        return {
            number: PersonFacts(frozenset(homes.get(number, ())), frozenset(others.get(number, ())), deaths.get(number))
            for number in set(homes) | set(others) | set(deaths)
        }

    def _rows(self, kind: str, numbers: Collection[str], *columns: str) -> Iterable[tuple[str, tuple[Any, ...]]]:
        table = record_tables(kind_by_code(kind))[1]
        with self.store.session() as session:
            versions = list(
                session.scalars(select(FeedVersionRow).where(FeedVersionRow.id.in_(current_versions(session, kind))))
            )
            if not versions or not numbers:
                return []
            owner = {
                token: number
                for version in versions
                for number in numbers
                for token in lookup_tokens(self.tokenizer, version, number)
            }
            rows = session.execute(
                select(table.c.token, *(table.c[column] for column in columns)).where(
                    table.c.version.in_([v.id for v in versions]), table.c.token.in_(list(owner))
                )
            ).all()
        return [(owner[row[0]], tuple(row[1:])) for row in rows]

    def findings(self, person: str, household: Collection[str], facts: Mapping[str, PersonFacts]) -> list[Hit]:
        """What the feeds say against ``person``'s enrolment: a death, or property beyond the limits."""
        found = []
        own = facts.get(person)
        if own is not None and own.died_on is not None:
            found.append(Hit("deceased", {"died_on": own.died_on.isoformat(), "source": "death feed"}))
        members = set(household) | {person}
        homes = len(frozenset().union(*(facts[n].homes for n in members if n in facts)))
        others = len(frozenset().union(*(facts[n].other_property for n in members if n in facts)))
        if homes > self.max_homes or others > 0:
            evidence = {
                "residential": homes,
                "non_residential": others,
                "members": len(members),
                "source": "property feed",
            }
            found.append(Hit("property", evidence))
        return found

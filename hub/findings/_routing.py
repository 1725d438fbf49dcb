"""Which bureau owns a finding: the civil-affairs member whose jurisdiction is the longest prefix of the locality.

The same rule as ``DirectorySnapshot.route`` for questions, read from the registry once per run (a revoked
member owns nothing). A locality no bureau covers yields ``None``: the finding waits, visible to the hub's
operator, until a bureau with that jurisdiction is registered (the next run routes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.registry import Member
    from hub.store import Store

BUREAU_KIND = "civil-affairs"


@dataclass(frozen=True)
class Bureaus:
    #: (prefix, member id), longest prefix first, then by member id so ties resolve the same way everywhere.
    prefixes: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, members: Iterable[Member]) -> Bureaus:
        pairs = {
            (prefix, member.member_id)
            for member in members
            if member.kind == BUREAU_KIND and not member.revoked
            for prefix in member.jurisdictions
        }
        return cls(tuple(sorted(pairs, key=lambda pair: (-len(pair[0]), pair[1]))))

    def owner(self, locality: str) -> str | None:
        for prefix, member_id in self.prefixes:
            if locality.startswith(prefix):
                return member_id
        return None

    def jurisdiction(self, member_id: str) -> tuple[str, ...]:
        return tuple(prefix for prefix, owner in self.prefixes if owner == member_id)


def load_bureaus(store: Store) -> Bureaus:
    from hub.registry import Registry  # the registry imports every table, this module among them

    return Bureaus.of(Registry(store).members(BUREAU_KIND))

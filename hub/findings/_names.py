"""Naming the persons of findings for the bureau that investigates them: ID numbers from its own roster.

Findings hold tokens only. A township needs to know whom to visit, so an export (for the bureau that owns the
finding) looks the tokens up in the current rosters, where the number is kept encrypted for exactly this, and
shows it masked (``110105********002X``) unless full numbers are asked for. Without the cipher key, or for a
token no longer on a roster, the finding shows a short reference derived from the token instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select

from hub.feeds import current_versions, kind_by_code, record_tables
from hub.findings._facts import ROSTER
from hub.identifiers import mask_id_number
from hub.privacy import FieldCipher
from hub.store import Store

_BATCH = 500


def reference(token: bytes) -> str:
    """A pseudonymous reference for a token: enough to tell two persons apart, nothing to identify one."""
    return "#" + token.hex()[:12]


class PersonNames:
    def __init__(self, store: Store, cipher: FieldCipher | None, *, reveal: bool = False) -> None:
        self.store = store
        self.cipher = cipher
        self.reveal = reveal
        self._known: dict[bytes, str] = {}

    def show(self, token: bytes | None) -> str:
        if token is None:
            return ""
        return self._known.get(token) or reference(token)

    def load(self, tokens: Iterable[bytes | None]) -> None:
        """Look up every token not yet known (a query per 500 tokens)."""
        wanted = sorted({t for t in tokens if t is not None and t not in self._known})
        if not wanted or self.cipher is None:
            return
        records, by_person = record_tables(kind_by_code(ROSTER))
        aad = f"{records.name}.id_number_enc".encode()
        with self.store.session() as session:
            versions = current_versions(session, ROSTER)
            for start in range(0, len(wanted), _BATCH):
                query = (
                    select(by_person.c.token, records.c.id_number_enc)
                    .select_from(
                        by_person.join(
                            records,
                            and_(
                                records.c.version == by_person.c.version, records.c.row_number == by_person.c.row_number
                            ),
                        )
                    )
                    .where(by_person.c.version.in_(versions), by_person.c.token.in_(wanted[start : start + _BATCH]))
                )
                for token, blob in session.execute(query):
                    if token not in self._known:
                        number = self.cipher.decrypt(blob, aad)
                        self._known[token] = number if self.reveal else mask_id_number(number)

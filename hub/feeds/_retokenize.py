"""Token key rotation for the feeds: move stored tokens to the current key version.

HMAC tokens cannot be converted without the numbers. The feeds keep encrypted numbers only where an answer
needs them (assistance rosters and monitored households), so a run works in two steps:

1. decrypt every kept number and load the pairs (token under each old key version → token under the current
   one) into ``feed_token_map`` — token pairs only, never a number;
2. per feed version, one transaction rewrites every token column of its rows and its by-person index with
   set-based ``UPDATE … FROM feed_token_map``, so token-only rows of the same persons move too.

Rows of a person whose number the hub holds nowhere cannot move; they keep the old token, the version
records that key in ``legacy_token_version`` (``lookup_tokens`` gives both tokens to look such a person up),
and the next upload of that feed replaces them. Versions still receiving are left for a later run. Only when
``key_versions_in_use`` no longer lists a key may ``Tokenizer.retire`` forget it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, Update, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.feeds._bulk import rowcount
from hub.feeds._kinds import KINDS, FieldSpec, FieldType, RecordKind, kind_by_code
from hub.feeds._matches import forget_matches
from hub.feeds._meta import VersionStatus
from hub.feeds._tables import FeedTokenMapRow, FeedVersionRow, record_tables
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store

_MAP = cast(Table, FeedTokenMapRow.__table__)


@dataclass(frozen=True)
class RetokenizeReport:
    key_version: int
    #: Feed versions whose tokens were rewritten.
    versions: int
    #: Distinct persons whose number is kept (encrypted), hence whose rows could move.
    persons: int
    #: Rows moved to the current key, and rows left on an old one (no kept number for their person).
    moved_rows: int
    unmapped_rows: int
    #: Versions still receiving under an old key: run again once they are complete.
    skipped: tuple[str, ...]


def retokenize(store: Store, tokenizer: Tokenizer, cipher: FieldCipher, *, batch: int = 5_000) -> RetokenizeReport:
    """Move every complete feed version to the current token key (see the module docstring)."""
    current = tokenizer.current_version
    behind = or_(FeedVersionRow.token_version != current, FeedVersionRow.legacy_token_version.is_not(None))
    with store.session() as session:
        pending = list(session.scalars(select(FeedVersionRow).where(behind).order_by(FeedVersionRow.id)))
    todo = [v for v in pending if v.status == VersionStatus.COMPLETE]
    skipped = tuple(v.version_id for v in pending if v.status == VersionStatus.RECEIVING)
    old_keys = {k for v in todo for k in (v.token_version, v.legacy_token_version) if k is not None and k != current}
    with store.session() as session:
        session.execute(delete(_MAP))
        for rejected in (v for v in pending if v.status == VersionStatus.REJECTED):
            session.execute(_set_keys(rejected.id, current, None))  # no rows to move
    persons = _load_map(store, tokenizer, cipher, sorted(old_keys), batch) if old_keys else 0
    moved = unmapped = 0
    for version in todo:
        version_moved, version_unmapped = _move_version(store, version, current)
        moved += version_moved
        unmapped += version_unmapped
    with store.session() as session:
        session.execute(delete(_MAP))
    return RetokenizeReport(current, len(todo), persons, moved, unmapped, skipped)


def key_versions_in_use(store: Store) -> set[int]:
    """Token key versions some stored feed row may still be under (a key not listed can be retired)."""
    with store.session() as session:
        rows = session.execute(
            select(FeedVersionRow.token_version, FeedVersionRow.legacy_token_version).where(
                FeedVersionRow.status != str(VersionStatus.REJECTED)
            )
        ).all()
    return {k for row in rows for k in row if k is not None}


def lookup_tokens(tokenizer: Tokenizer, version: FeedVersionRow, id_number: str) -> tuple[bytes, ...]:
    """The tokens ``id_number`` may have in ``version``'s rows: its key, then a legacy key left by a rotation."""
    keys = [version.token_version]
    if version.legacy_token_version is not None:
        keys.append(version.legacy_token_version)
    return tuple(tokenizer.token_with(key, id_number) for key in keys)


def _kept_numbers() -> Iterator[tuple[RecordKind, Table, FieldSpec]]:
    for kind in KINDS:
        records, _ = record_tables(kind)
        for spec in kind.fields:
            if spec.keep_raw:
                yield kind, records, spec


def _load_map(store: Store, tokenizer: Tokenizer, cipher: FieldCipher, old_keys: list[int], batch: int) -> int:
    upsert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
    for kind, records, spec in _kept_numbers():
        aad = f"{kind.table}.{spec.raw_column}".encode()
        after = (-1, -1)
        while True:
            with store.session() as session:
                page = session.execute(
                    select(records.c.version, records.c.row_number, records.c[spec.raw_column])
                    .where(tuple_(records.c.version, records.c.row_number) > after)
                    .order_by(records.c.version, records.c.row_number)
                    .limit(batch)
                ).all()
                if not page:
                    break
                numbers = {cipher.decrypt(blob, aad) for _, _, blob in page}
                pairs = [
                    {"old_version": key, "old_token": old, "new_token": new}
                    for number in numbers
                    for key in old_keys
                    for old, new in [tokenizer.retokenize(key, number)]
                ]
                session.execute(upsert(_MAP).on_conflict_do_nothing(), pairs)
                after = (page[-1][0], page[-1][1])
    with store.session() as session:
        return session.scalar(select(func.count(func.distinct(_MAP.c.new_token)))) or 0


def _token_columns(kind: RecordKind, table: Table) -> list[str]:
    return [s.column for s in kind.fields if s.type is FieldType.ID_NUMBER and s.column in table.c]


def _move_version(store: Store, version: FeedVersionRow, current: int) -> tuple[int, int]:
    kind = kind_by_code(version.kind)
    old_keys = [k for k in (version.token_version, version.legacy_token_version) if k is not None and k != current]
    moved = 0
    with store.session() as session:
        for table in record_tables(kind):
            for column in _token_columns(kind, table):
                result = session.execute(
                    update(table)
                    .where(
                        table.c.version == version.id,
                        _MAP.c.old_version.in_(old_keys),
                        _MAP.c.old_token == table.c[column],
                    )
                    .values({column: _MAP.c.new_token})
                )
                if table.name == kind.table and column == "token":
                    moved = rowcount(result)
        unmapped = _unmapped(session, record_tables(kind)[0], version.id)
        forget_matches(session, version.id)  # its tokens changed: the next comparison matches it again
        session.execute(_set_keys(version.id, current, min(old_keys) if unmapped and old_keys else None))
    return moved, unmapped


def _unmapped(session: Session, records: Table, version: int) -> int:
    """Rows whose person token is not a current-key token of a kept number: they stayed on an old key."""
    current_token = exists().where(_MAP.c.new_token == records.c.token)
    query = select(func.count()).select_from(records).where(records.c.version == version, ~current_token)
    return session.scalar(query) or 0


def _set_keys(version: int, current: int, legacy: int | None) -> Update:
    return (
        update(FeedVersionRow)
        .where(FeedVersionRow.id == version)
        .values(token_version=current, legacy_token_version=legacy)
        .execution_options(synchronize_session=False)
    )

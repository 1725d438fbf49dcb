"""Roster matches: worked out when a version completes, on either side, redone whenever they may be stale."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, delete, select

from hub.feeds import ROSTER_MATCHES, current_versions, ensure_matches, kind_by_code, retokenize
from hub.feeds._tables import FeedRosterPairRow, FeedVersionRow
from hub.privacy import FieldCipher, Tokenizer
from hub.store import Store
from tests.feeds.conftest import OTHER_SUPPLIER, IntakeFactory, meta, person, upload, valid_row, valid_rows

PAIRS = cast(Table, FeedRosterPairRow.__table__)
LATER = (dt.date(2025, 7, 1), dt.date(2025, 7, 31))


def _id(store: Store, version_id: str) -> int:
    with store.session() as session:
        key = session.scalar(select(FeedVersionRow.id).where(FeedVersionRow.version_id == version_id))
    assert key is not None
    return key


def _matched(store: Store, feed: str, roster: str) -> set[bytes] | None:
    """The tokens matched for the pair, or ``None`` if the pair is not matched."""
    feed_id, roster_id = _id(store, feed), _id(store, roster)
    with store.session() as session:
        pair = session.execute(
            select(PAIRS).where(PAIRS.c.version == feed_id, PAIRS.c.roster_version == roster_id)
        ).first()
        tokens = session.scalars(
            select(ROSTER_MATCHES.c.token).where(
                ROSTER_MATCHES.c.version == feed_id, ROSTER_MATCHES.c.roster_version == roster_id
            )
        ).all()
    assert pair is not None or not tokens
    return set(tokens) if pair is not None else None


def _ensure(store: Store) -> int:
    with store.session() as session:
        versions = {kind: current_versions(session, kind) for kind in ("roster", "medical_settlement", "death")}
        return ensure_matches(session, versions)


def test_a_feed_is_matched_with_the_current_rosters_when_it_completes(make_intake: IntakeFactory, store: Store) -> None:
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    upload(intake, meta("roster", "roster", 6), valid_rows("roster", 6))
    upload(intake, meta("settlements", "medical_settlement", 8), valid_rows("medical_settlement", 8, start=3))
    assert _matched(store, "settlements", "roster") == {tokenizer.token(person(n)) for n in range(3, 6)}
    assert _ensure(store) == 0  # nothing left for a comparison to match


def test_a_roster_is_matched_with_the_current_feeds_when_it_completes(make_intake: IntakeFactory, store: Store) -> None:
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    upload(intake, meta("deaths", "death", 4), valid_rows("death", 4))
    upload(intake, meta("settlements", "medical_settlement", 4), valid_rows("medical_settlement", 4, start=10))
    upload(intake, meta("roster", "roster", 6), valid_rows("roster", 6, start=2))
    assert _matched(store, "deaths", "roster") == {tokenizer.token(person(n)) for n in (2, 3)}
    assert _matched(store, "settlements", "roster") == set()  # matched, and nobody in common
    # The roster's next version is matched too; the one it replaced keeps its matches.
    upload(intake, meta("roster-2", "roster", 6, period=LATER), valid_rows("roster", 6, start=3))
    assert _matched(store, "deaths", "roster-2") == {tokenizer.token(person(3))}
    assert _matched(store, "deaths", "roster") == {tokenizer.token(person(n)) for n in (2, 3)}
    assert _ensure(store) == 0


def test_a_version_that_does_not_become_current_is_not_matched(make_intake: IntakeFactory, store: Store) -> None:
    intake = make_intake(tokenizer=Tokenizer.generate())
    upload(intake, meta("roster", "roster", 4, period=LATER), valid_rows("roster", 4))
    upload(intake, meta("old-roster", "roster", 4), valid_rows("roster", 4))  # an earlier period: not current
    upload(intake, meta("deaths", "death", 4), valid_rows("death", 4))
    assert _matched(store, "deaths", "roster") is not None
    assert _matched(store, "deaths", "old-roster") is None


def test_a_comparison_matches_what_completion_did_not(make_intake: IntakeFactory, store: Store) -> None:
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    upload(intake, meta("roster", "roster", 6), valid_rows("roster", 6))
    upload(intake, meta("deaths", "death", 4), valid_rows("death", 4, start=4))
    with store.session() as session:  # as after an upgrade, or two versions completing at once on PostgreSQL
        session.execute(delete(ROSTER_MATCHES))
        session.execute(delete(PAIRS))
    assert _matched(store, "deaths", "roster") is None
    assert _ensure(store) == 2  # the deaths with the roster, and the roster with itself
    assert _matched(store, "deaths", "roster") == {tokenizer.token(person(n)) for n in (4, 5)}
    assert _ensure(store) == 0


def test_a_key_rotation_forgets_the_matches_of_the_versions_it_rewrites(
    make_intake: IntakeFactory, store: Store, cipher: FieldCipher
) -> None:
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    upload(intake, meta("roster", "roster", 6), valid_rows("roster", 6))
    upload(intake, meta("settlements", "medical_settlement", 4), valid_rows("medical_settlement", 4, start=4))
    assert _matched(store, "settlements", "roster") == {tokenizer.token_with(1, person(n)) for n in (4, 5)}
    tokenizer.rotate()
    retokenize(store, tokenizer, cipher)
    assert _matched(store, "settlements", "roster") is None
    assert _ensure(store) == 2  # the settlements with the roster, and the roster with itself
    assert _matched(store, "settlements", "roster") == {tokenizer.token(person(n)) for n in (4, 5)}


def test_rosters_are_matched_with_one_another_to_name_persons_enrolled_twice(
    make_intake: IntakeFactory, store: Store
) -> None:
    """A roster with itself: the persons it lists more than once; two rosters: the persons on both (lower id
    first). Duplicate findings start from these."""
    tokenizer = Tokenizer.generate()
    intake = make_intake(tokenizer=tokenizer)
    rows = valid_rows("roster", 5)
    twice = valid_row(kind_by_code("roster"), 1)
    twice.programme = rows[2].programme
    upload(intake, meta("county-a", "roster", 6), [*rows, twice])
    assert _matched(store, "county-a", "county-a") == {tokenizer.token(person(1))}
    upload(intake, meta("county-b", "roster", 3, supplier=OTHER_SUPPLIER), valid_rows("roster", 3, start=4))
    assert _matched(store, "county-a", "county-b") == {tokenizer.token(person(4))}
    assert _matched(store, "county-b", "county-b") == set()
    assert _ensure(store) == 0

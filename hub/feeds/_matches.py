"""Roster matches: which persons of a feed version are on a roster version, worked out once per pair of versions.

A comparison joins a million roster persons with feeds of millions of records, of which about 5 % concern
roster persons. Finding those by probing each feed for every roster person is most of a comparison's time. So
the transaction that completes a version and makes it current also records the person tokens it shares with
each current version on the other side — a feed version with the current rosters, a roster version with every
current feed — in ``feed_roster_matches``, and the pair in ``feed_roster_pairs``; a comparison then visits only
the matched persons' rows, through the by-person tables' keys.

Rosters are matched with one another too, to find the persons enrolled more than once (in two localities, in
two programmes: where duplicate findings start): a pair of roster versions, lower id first, holds the persons on
both, and a roster version paired with itself the persons it lists more than once.

The matches are a cache, never the only truth: a comparison calls ``ensure_matches`` in its own transaction,
which matches any pair of the versions it reads that is not yet matched (two versions completing at the same
moment on PostgreSQL, each blind to the other; a key rotation that rewrote a version's tokens and so forgot its
matches: ``forget_matches``). Whatever the order of events, a comparison reads exactly the rows a full join of
the rosters with the feeds would. A pair is claimed by inserting its row first (``ON CONFLICT DO NOTHING``):
whoever inserts it matches it, so a pair is never matched twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Integer, Select, Table, delete, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.feeds._kinds import kind_by_code
from hub.feeds._status import current_versions
from hub.feeds._tables import ROSTER_MATCHES, FeedCurrentRow, FeedRosterPairRow, FeedVersionRow, record_tables

#: The record kind of the assistance rosters (救助对象名册): what every other kind is matched with.
ROSTER = "roster"
_PAIRS = cast(Table, FeedRosterPairRow.__table__)
#: (feed kind, feed version, roster version)
Pair = tuple[str, int, int]


def match_select(kind: str, version: int, roster_version: int, *, feed_first: bool) -> Select[Any]:
    """The tokens of persons in both ``version`` (of ``kind``) and ``roster_version``, once each, in token order:
    the rows of ``feed_roster_matches`` for that pair. The side named first is scanned, the other probed by key
    (``feed_first`` when the feed version is the smaller). A roster version with itself: the persons it lists
    more than once."""
    _, feed = record_tables(kind_by_code(kind))
    _, roster = record_tables(kind_by_code(ROSTER))
    if kind == ROSTER and version == roster_version:
        return (
            select(
                literal(version, Integer).label("version"),
                literal(version, Integer).label("roster_version"),
                roster.c.token,
            )
            .where(roster.c.version == version)
            .group_by(roster.c.token)
            .having(func.count() > 1)
        )
    scanned, probed = ((feed, version), (roster, roster_version))[:: 1 if feed_first else -1]
    (outer, outer_version), (probed_table, inner_version) = scanned, probed
    inner = probed_table.alias("probed")  # two rosters: the same table on both sides
    return (
        select(
            literal(version, Integer).label("version"),
            literal(roster_version, Integer).label("roster_version"),
            outer.c.token,
        )
        .where(
            outer.c.version == outer_version,
            exists().where(inner.c.version == inner_version, inner.c.token == outer.c.token),
        )
        .group_by(outer.c.token)
    )


def match_completed(session: Session, row: FeedVersionRow) -> int:
    """In the transaction that made ``row`` current: match it with the current versions on the other side.
    Returns the pairs matched."""
    if row.kind == ROSTER:
        feeds = session.execute(
            select(FeedCurrentRow.kind, FeedCurrentRow.version)
            .where(FeedCurrentRow.kind != ROSTER)
            .order_by(FeedCurrentRow.kind, FeedCurrentRow.version)
        ).all()
        pairs = [(kind, version, row.id) for kind, version in feeds]
        rosters = sorted({row.id, *current_versions(session, ROSTER)})
        pairs += [(ROSTER, min(other, row.id), max(other, row.id)) for other in rosters]
    else:
        pairs = [(row.kind, row.id, roster) for roster in current_versions(session, ROSTER)]
    return _match(session, pairs)


def ensure_matches(session: Session, versions: Mapping[str, Sequence[int]]) -> int:
    """Match every pair of a feed version in ``versions`` (kind → version ids) with a roster version in
    ``versions["roster"]`` that is not matched yet; returns how many pairs that took (none, normally)."""
    rosters = tuple(sorted(versions.get(ROSTER, ())))
    wanted = [(kind, v, r) for kind, vs in sorted(versions.items()) if kind != ROSTER for v in vs for r in rosters]
    wanted += [(ROSTER, low, high) for index, low in enumerate(rosters) for high in rosters[index:]]
    if not wanted:
        return 0
    query = select(_PAIRS.c.version, _PAIRS.c.roster_version).where(
        _PAIRS.c.version.in_({v for _, v, _ in wanted}), _PAIRS.c.roster_version.in_(rosters)
    )
    done = {(feed, roster) for feed, roster in session.execute(query)}
    return _match(session, [pair for pair in wanted if pair[1:] not in done])


def forget_matches(session: Session, version: int) -> None:
    """Drop the matches of ``version`` (on either side), e.g. when its tokens are rewritten: the next comparison
    matches it again."""
    for table in (ROSTER_MATCHES, _PAIRS):
        session.execute(delete(table).where(or_(table.c.version == version, table.c.roster_version == version)))


def _match(session: Session, pairs: Iterable[Pair]) -> int:
    pairs = list(pairs)
    if not pairs:
        return 0
    ids = {v for _, feed, roster in pairs for v in (feed, roster)}
    query = select(FeedVersionRow.id, FeedVersionRow.accepted_records).where(FeedVersionRow.id.in_(ids))
    sizes = {version: accepted for version, accepted in session.execute(query)}
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    matched = 0
    for kind, feed, roster in pairs:
        claim = upsert(_PAIRS).values(version=feed, roster_version=roster).on_conflict_do_nothing()
        if session.execute(claim.returning(_PAIRS.c.version)).first() is None:
            continue  # matched by another transaction meanwhile
        matching = match_select(kind, feed, roster, feed_first=sizes.get(feed, 0) < sizes.get(roster, 0))
        session.execute(ROSTER_MATCHES.insert().from_select(list(matching.selected_columns.keys()), matching))
        matched += 1
    return matched

"""Running a comparison: the plan's statements in one transaction, then the hits merged into the findings.

Idempotent by construction. A hit whose (rule, locality, household, subject, evidence key) is already a
finding changes nothing; a hit on an undecided finding refreshes its evidence (the old evidence goes to the
finding's history); a hit on a decided one with other evidence raises a new finding pointing at the old one
(``reopened``); anything else is ``new``. Nothing is ever confirmed or dismissed here: that takes a person.

All of it is one transaction, so a run that dies leaves nothing and is simply run again. The run's row is
written first in a transaction of its own, so a failed run is on record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hub.errors import FailedPrecondition
from hub.feeds import current_versions, ensure_matches
from hub.findings._models import ACTIVE, EVENTS, FINDINGS, SIGHTINGS, ComparisonRunRow, RunStatus, Status
from hub.findings._plan import HIT_COLUMNS, Plan, Step
from hub.findings._routing import Bureaus, load_bureaus
from hub.findings._rules import RuleBook
from hub.findings._sqltext import CreateTemporaryAs, ordered_join
from hub.identifiers import validate_region_prefix
from hub.store import Store
from hub.store._base import UtcDateTime, utcnow

log = logging.getLogger(__name__)

#: Days a township has to resolve a finding when neither the rule nor the configuration says.
DEFAULT_DUE_DAYS = 10
OUTCOMES = ("new", "reopened", "updated", "unchanged")
Progress = Callable[[int, int], None]
_CHINA = dt.timezone(dt.timedelta(hours=8))
_SQLITE_MMAP = 1 << 30
#: For the run's transaction on PostgreSQL: hash joins and sorts in memory; no JIT (compiling a rule's
#: expressions takes longer than running it: each statement is big in the planner's eyes but reads a few
#: hundred thousand rows at most); and index probes priced as the cached reads they are, so that a small
#: feed probes the roster's by-person key instead of hashing the whole roster.
_POSTGRESQL_SETTINGS = (
    "work_mem = '256MB'",
    "jit = off",
    "random_page_cost = 1.1",
    # ANALYZE of a stage samples 3,000 rows, not 30,000: enough to plan a few GROUP BYs.
    "default_statistics_target = 10",
)
#: PostgreSQL: the session's buffers for temporary tables. The stages are tens of MB at a million persons; in the
#: default 8 MB they are written out while filled and read back by every rule that scans them (~10 % of a run).
#: Taken only as used; but fixed at a session's first temporary table, so a pooled connection that had used one
#: already keeps what it had (time lost, nothing else). Set here rather than at connect, where a connection pooler
#: such as PgBouncer would refuse the startup option.
_POSTGRESQL_TEMP_BUFFERS = "256MB"
#: The match groups every hit with its subject's findings, a few hundred thousand rows that PostgreSQL, whose
#: estimate of a four-column join is one row, would sort (0.23 s of the 0.62 s on a re-run) instead of hashing.
_HASH_THE_GROUPS = ("enable_sort = off",)
#: The sightings a run inserts, those not noted yet, are found by an anti-join with the table being inserted into.
#: Planned as a nested loop (an empty table, on the second run, looks free to scan again), each rescan would also
#: read every page the statement has added so far: quadratic, 75 s for 141 k rows.
_ANTI_JOIN_BY_HASH = ("enable_nestloop = off",)
#: PostgreSQL: the advisory lock a run holds for its transaction (``_begin``); any fixed number the hub uses for
#: nothing else ("cmp" in ASCII).
RUN_LOCK_KEY = 0x636D70
#: How long a run waits for the one before it to finish (PostgreSQL) before it gives up: a full-size run takes
#: seconds, so only a run stuck in its transaction holds the lock this long.
RUN_LOCK_WAIT = "10min"


@dataclass(frozen=True)
class RuleCounts:
    new: int = 0
    reopened: int = 0
    #: Undecided findings whose evidence changed (refreshed in place).
    updated: int = 0
    unchanged: int = 0

    @property
    def hits(self) -> int:
        return self.new + self.reopened + self.updated + self.unchanged


@dataclass(frozen=True)
class ComparisonSummary:
    run_id: int
    as_of: dt.date
    region: str
    counts: Mapping[str, RuleCounts]
    #: Rules not applied, with the reason (e.g. a feed with no current version).
    skipped: Mapping[str, str] = field(default_factory=dict)
    versions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    seconds: float = 0.0

    def total(self, outcome: str) -> int:
        return sum(getattr(c, outcome) for c in self.counts.values())

    def to_report(self) -> dict[str, Any]:
        """JSON-serialisable counts for a job's report (no tokens, no personal data)."""
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "region": self.region,
            "counts": {rule: vars(c) for rule, c in sorted(self.counts.items())},
            "totals": {outcome: self.total(outcome) for outcome in OUTCOMES},
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 3),
        }


@contextmanager
def _timed(what: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.debug("%s: %.3f s", what, time.perf_counter() - started)


def china_today(now: dt.datetime) -> dt.date:
    return now.astimezone(_CHINA).date()


def run_comparison(
    store: Store,
    rules: RuleBook,
    *,
    as_of: dt.date,
    region: str | None = None,
    progress: Progress | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
    clock: Callable[[], dt.datetime] = utcnow,
) -> ComparisonSummary:
    """Compare the current rosters with the current feeds under ``rules`` as of ``as_of`` (limited to the
    localities under ``region`` if given), and record what was found. Safe to repeat: see the module docstring."""
    if region:
        validate_region_prefix(region, "region")
    started = time.perf_counter()
    now = clock()
    run_id = _open_run(store, rules, as_of, region or "", now)
    try:
        summary = _run(store, rules, run_id, as_of, region or "", now, due_days, progress)
    except Exception as error:
        _fail_run(store, run_id, error)
        raise
    summary = ComparisonSummary(
        run_id, as_of, region or "", summary.counts, summary.skipped, summary.versions, time.perf_counter() - started
    )
    log.info(
        "comparison run %s as of %s: %s new, %s reopened, %s updated, %s unchanged in %.2f s",
        run_id,
        as_of,
        summary.total("new"),
        summary.total("reopened"),
        summary.total("updated"),
        summary.total("unchanged"),
        summary.seconds,
    )
    return summary


def _open_run(store: Store, rules: RuleBook, as_of: dt.date, region: str, now: dt.datetime) -> int:
    with store.session() as session:
        row = ComparisonRunRow(
            as_of=as_of, region=region, rules_digest=rules.digest(), status=RunStatus.RUNNING.value, started_at=now
        )
        session.add(row)
        session.flush()
        return row.id


def _fail_run(store: Store, run_id: int, error: BaseException) -> None:
    with store.session() as session:
        session.execute(
            update(ComparisonRunRow)
            .where(ComparisonRunRow.id == run_id)
            .values(
                status=RunStatus.FAILED.value, finished_at=utcnow(), error=f"{type(error).__name__}: {error}"[:2000]
            )
        )


def _run(
    store: Store,
    rules: RuleBook,
    run_id: int,
    as_of: dt.date,
    region: str,
    now: dt.datetime,
    due_days: int,
    progress: Progress | None,
) -> ComparisonSummary:
    today = china_today(now)
    bureaus = load_bureaus(store)
    with store.large_write() as session:
        _begin(session, run_id)
        connection = session.connection()
        kinds = sorted({"roster", *(k for s in rules.scopes(region) for r in s.rules.rules for k in r.kinds())})
        versions = {kind: tuple(current_versions(session, kind)) for kind in kinds}
        with _timed("roster matches"):
            # Matched when the versions completed, normally; otherwise now (see hub.feeds._matches).
            ensure_matches(session, versions)
        plan = Plan(
            rules,
            as_of=as_of,
            versions=versions,
            today=today,
            due_days=due_days,
            region=region or None,
            hashes_groups=connection.dialect.name == "postgresql",
        )
        steps = plan.steps
        rule_steps = plan.rule_steps
        total = len(steps) + len(rule_steps) + 1
        report = progress or (lambda done, total: None)
        _prepare(connection, plan)
        try:
            for done, step in enumerate(steps, 1):
                with _timed(step.table.name):
                    _fill(connection, step)
                report(done, total)
            for done, rule_step in enumerate(rule_steps, len(steps) + 1):
                with _timed(rule_step.label):
                    connection.execute(insert(plan.hits).from_select(list(HIT_COLUMNS), rule_step.select))
                report(done, total)
            _analyze(connection, plan.hits.name)
            with _timed("merge"):
                counts = _merge(connection, plan, bureaus, run_id, now)
            report(total, total)
        finally:
            _drop(connection, plan)
        all_counts = {rule.code: counts.get(rule.code, RuleCounts()) for _, rule in plan.scoped}
        summary = ComparisonSummary(run_id, as_of, region, all_counts, dict(plan.skipped), versions)
        session.execute(
            update(ComparisonRunRow)
            .where(ComparisonRunRow.id == run_id)
            .values(
                status=RunStatus.COMPLETE.value,
                finished_at=utcnow(),
                counts=json.dumps({rule: vars(c) for rule, c in sorted(all_counts.items())}),
                versions=json.dumps({kind: list(v) for kind, v in versions.items()}),
            )
        )
        committing = time.perf_counter()
    log.debug("commit: %.3f s", time.perf_counter() - committing)
    return summary


def _begin(session: Session, run_id: int) -> None:
    """Runs one at a time, and on SQLite the connection set up for the joins.

    On SQLite the joins read the by-person tables in token order: mapping them beats copying page by page (the
    pragmas must come before the transaction opens). Then the write lock, before anything is read: the joins
    read the main database while writing only temporary tables, and a writer committing meanwhile (a job's
    heartbeat, a review) would make the merge's first write to ``findings`` fail at once ("database is locked":
    a reader cannot upgrade past a newer commit). Holding the lock from the start, other writers wait
    (busy_timeout) instead, and so does another run.

    On PostgreSQL a transaction-scoped advisory lock makes a second run wait for the first, as on SQLite: two
    runs merging into the same findings at once would fail on each other's new rows, and the merge may then
    write what it knows to be missing with plain inserts (``_note_sightings``).
    """
    if session.get_bind().dialect.name == "postgresql":
        _wait_for_the_run_before(session.connection())
        return
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    connection.exec_driver_sql(f"PRAGMA mmap_size = {_SQLITE_MMAP}")
    connection.exec_driver_sql("PRAGMA temp_store = MEMORY")
    session.execute(
        update(ComparisonRunRow).where(ComparisonRunRow.id == run_id).values(status=RunStatus.RUNNING.value)
    )


def _wait_for_the_run_before(connection: Connection) -> None:
    try:
        with _settings(connection, [f"lock_timeout = '{RUN_LOCK_WAIT}'"]):
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY})
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise FailedPrecondition(
            f"another comparison run was still in progress after {RUN_LOCK_WAIT}; this one gave up waiting for it"
        ) from None


def _prepare(connection: Connection, plan: Plan) -> None:
    tables = plan.tables
    if connection.dialect.name == "sqlite":
        for table in tables:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS temp."{table.name}"')
    elif connection.dialect.name == "postgresql":
        _temp_buffers(connection)
        for setting in _POSTGRESQL_SETTINGS:
            connection.execute(text(f"SET LOCAL {setting}"))
        filled = {step.table.name for step in plan.steps}  # created by ``_fill``
        tables = [table for table in tables if table.name not in filled]
    for table in tables:
        table.create(connection)


def _temp_buffers(connection: Connection) -> None:
    """``_POSTGRESQL_TEMP_BUFFERS`` for the session, unless it is too late for this one (in a savepoint, so that
    the refusal leaves the run's transaction as it was)."""
    try:
        with connection.begin_nested():
            connection.execute(text(f"SET temp_buffers = '{_POSTGRESQL_TEMP_BUFFERS}'"))
    except DBAPIError as error:
        log.info("temporary tables stay in this session's buffers: %s", str(error.orig).partition("\n")[0])


def _fill(connection: Connection, step: Step) -> None:
    """One step's table, filled. On PostgreSQL ``CREATE TABLE AS`` lets the server split the join among its
    parallel workers (``INSERT … SELECT`` never runs in parallel): the stages' index probes are most of a run,
    and they take about half as long on two cores. The index is built once the rows are in."""
    postgresql = connection.dialect.name == "postgresql"
    with _settings(connection, step.postgresql_settings):
        if postgresql:
            connection.execute(CreateTemporaryAs(step.table.name, step.select))
        else:
            columns = list(step.select.selected_columns.keys())
            connection.execute(insert(step.table).from_select(columns, step.select))
    if postgresql and step.postgresql_index:
        unique = step.postgresql_index == tuple(column.name for column in step.table.primary_key.columns)
        indexed = ", ".join(f'"{name}"' for name in step.postgresql_index)
        kind = "UNIQUE INDEX" if unique else "INDEX"
        where = f" WHERE {step.postgresql_index_where}" if step.postgresql_index_where else ""
        connection.execute(text(f'CREATE {kind} "ix_{step.table.name}" ON "{step.table.name}" ({indexed}){where}'))
    _analyze(connection, step.table.name)


@contextmanager
def _settings(connection: Connection, settings: Iterable[str]) -> Iterator[None]:
    """PostgreSQL settings for one statement of the run, back to the run's own after it (SQLite: nothing)."""
    settings = list(settings) if connection.dialect.name == "postgresql" else []
    for setting in settings:
        connection.execute(text(f"SET LOCAL {setting}"))
    yield
    for setting in settings:
        connection.execute(text(f"SET LOCAL {setting.split('=')[0].strip()} TO DEFAULT"))


def _analyze(connection: Connection, table: str) -> None:
    """PostgreSQL plans the next joins on the temporary table's real size (autovacuum never sees it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ANALYZE "{table}"'))


def _drop(connection: Connection, plan: Plan) -> None:
    if connection.dialect.name == "sqlite":  # PostgreSQL drops them at commit
        for table in plan.tables:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS temp."{table.name}"')


def _merge(
    connection: Connection, plan: Plan, bureaus: Bureaus, run_id: int, now: dt.datetime
) -> dict[str, RuleCounts]:
    """Hits into findings, set-based: classify the hits already found before (the rest are new), insert the new
    and the reopened, refresh the undecided (their old evidence kept as an event), note the run on what it saw
    again. Only the hits whose subject has findings are looked at twice: a first run classifies nothing.

    The counts come first, so that a run with nothing new skips the insert (on a re-run its anti-join of every
    hit with its match was the insert's whole cost: 0.13–0.16 s on PostgreSQL at full size); and the earlier
    findings follow the registry before the new ones join them, which are routed as they are inserted, so
    that rerouting reads only the findings it may have to move (0.06 s of a first run on PostgreSQL)."""
    findings, hits, matched, events = FINDINGS, plan.hits, plan.matched, EVENTS
    same = and_(*_same_hit(findings, hits))
    keys = _hit_key(hits)
    with _timed("merge: match"), _settings(connection, _HASH_THE_GROUPS):
        target = func.max(case((findings.c.status.in_(ACTIVE), findings.c.id), else_=None))
        seen = func.max(case((findings.c.evidence_key == hits.c.evidence_key, 1), else_=0))
        connection.execute(
            insert(matched).from_select(
                ["rule", "locality", "household", "subject", "outcome", "previous", "target"],
                select(
                    *keys,
                    case((seen == 1, "unchanged"), (target.is_not(None), "updated"), else_="reopened"),
                    func.max(findings.c.id),
                    target,
                )
                .select_from(ordered_join(hits, findings, same))
                .group_by(*keys),
            )
        )
        _analyze(connection, matched.name)
    with _timed("merge: count"):
        counts = _counts(connection, hits, matched)
    with _timed("merge: reroute"):
        _reroute(connection, bureaus)
    if any(c.new or c.reopened for c in counts.values()):
        with _timed("merge: route"):
            localities = connection.execute(select(hits.c.locality).distinct()).scalars().all()
            _route(connection, plan, bureaus, localities)
        with _timed("merge: insert"):
            _insert_new(connection, plan, run_id, now)
    with _timed("merge: refresh"):
        updated = and_(findings.c.id == matched.c.target, matched.c.outcome == "updated")
        connection.execute(
            insert(events).from_select(
                ["finding", "at", "kind", "from_status", "to_status", "actor", "detail", "run"],
                select(
                    findings.c.id,
                    literal(now, UtcDateTime),
                    literal("evidence", String),
                    findings.c.status,
                    findings.c.status,
                    literal("comparison", String),
                    findings.c.evidence,
                    literal(run_id, Integer),
                ).where(updated),
            )
        )
        connection.execute(
            update(findings)
            .where(
                updated,
                *_same_hit(matched, hits),
            )
            .values(evidence=hits.c.evidence, evidence_key=hits.c.evidence_key, last_run=run_id)
        )
        _note_sightings(connection, matched, run_id)
    return counts


def _hit_key(table: Table) -> list[ColumnElement[Any]]:
    """What a hit is about: a rule hits a subject of a household in a locality once."""
    return [table.c.rule, table.c.locality, table.c.household, table.c.subject]


def _same_hit(one: Table, other: Table) -> list[ColumnElement[bool]]:
    """Rows of two tables about the same hit (a finding, a hit, the match that classifies it)."""
    return [mine == theirs for mine, theirs in zip(_hit_key(one), _hit_key(other), strict=True)]


def _insert_new(connection: Connection, plan: Plan, run_id: int, now: dt.datetime) -> None:
    """The hits not found before, and those that reopen a closed finding, as open findings of their bureau."""
    hits, matched = plan.hits, plan.matched
    keys = _hit_key(hits)
    with_match = hits.outerjoin(matched, and_(*_same_hit(matched, hits)))
    columns = [c for c in HIT_COLUMNS if c != "due_on"]
    connection.execute(
        insert(FINDINGS).from_select(
            [*columns, "due_on", "status", "bureau", "raised_at", "first_run", "last_run", "previous"],
            select(
                *(hits.c[c] for c in columns),
                hits.c.due_on,
                literal(Status.OPEN.value, String),
                plan.bureaus.c.bureau,
                literal(now, UtcDateTime),
                literal(run_id, Integer),
                literal(run_id, Integer),
                case((matched.c.outcome == "reopened", matched.c.previous), else_=None),
            )
            .select_from(with_match.outerjoin(plan.bureaus, plan.bureaus.c.locality == hits.c.locality))
            .where(or_(matched.c.rule.is_(None), matched.c.outcome == "reopened"))
            # SQLite appends to the findings' key in order; PostgreSQL would sort for nothing.
            .order_by(*(keys if connection.dialect.name == "sqlite" else ())),
        )
    )


def _counts(connection: Connection, hits: Table, matched: Table) -> dict[str, RuleCounts]:
    """Each rule's hits by outcome. A rule hits a subject once (the hits' key), and a matched row stands for one
    hit: the rest are new. Counted apart, without joining the two tables again (0.23 s on a re-run, PostgreSQL)."""
    counts: dict[str, dict[str, int]] = {}
    for rule, found, count in connection.execute(
        select(matched.c.rule, matched.c.outcome, func.count()).group_by(matched.c.rule, matched.c.outcome)
    ):
        counts.setdefault(rule, {})[found] = count
    for rule, count in connection.execute(select(hits.c.rule, func.count()).group_by(hits.c.rule)):
        by_outcome = counts.setdefault(rule, {})
        by_outcome["new"] = count - sum(by_outcome.values())
    return {rule: RuleCounts(**by_outcome) for rule, by_outcome in counts.items()}


def _note_sightings(connection: Connection, matched: Table, run_id: int) -> None:
    """The run on each undecided finding it found again unchanged (a decided one is left as it stands, as it
    always was): an upsert of narrow rows, none of the findings' own.

    PostgreSQL's upsert inserts each row speculatively, ready to back out on a conflict; with runs one at a time
    (``_begin``) the rows that are missing are known, so updating those there and inserting the rest plainly
    costs less, whether all are new (a second run at full size: 0.38–0.50 → 0.22–0.32 s for 141 k rows) or none are."""
    unchanged = and_(matched.c.outcome == "unchanged", matched.c.target.is_not(None))
    seen = select(matched.c.target, literal(run_id, Integer)).where(unchanged)
    if connection.dialect.name == "postgresql":
        connection.execute(
            update(SIGHTINGS).where(unchanged, SIGHTINGS.c.finding == matched.c.target).values(run=run_id)
        )
        missing = ~select(SIGHTINGS.c.finding).where(SIGHTINGS.c.finding == matched.c.target).exists()
        with _settings(connection, _ANTI_JOIN_BY_HASH):
            connection.execute(insert(SIGHTINGS).from_select(["finding", "run"], seen.where(missing)))
    else:
        lite = sqlite_insert(SIGHTINGS).from_select(["finding", "run"], seen)
        connection.execute(lite.on_conflict_do_update(index_elements=["finding"], set_={"run": lite.excluded.run}))


def _route(connection: Connection, plan: Plan, bureaus: Bureaus, localities: Iterable[str]) -> None:
    rows = [{"locality": locality, "bureau": bureaus.owner(locality)} for locality in localities]
    if rows:
        connection.execute(insert(plan.bureaus), rows)


def _reroute(connection: Connection, bureaus: Bureaus) -> None:
    """Undecided findings follow the registry: a bureau added or given a jurisdiction takes its findings over.

    Where the registry names no bureau, a finding keeps the one it has: a job gives its findings in a locality no
    bureau covers to the roster's supplier (``paying_bureau``), and the next comparison must not take them away
    from the only bureau that sees them (nor those of a revoked bureau, until a successor covers its area).
    """
    findings = FINDINGS
    routed = connection.execute(
        select(findings.c.locality, findings.c.bureau).where(findings.c.status.in_(ACTIVE)).distinct()
    ).all()
    for locality, bureau in routed:
        owner = bureaus.owner(locality)
        if owner is not None and owner != bureau:
            connection.execute(
                update(findings)
                .where(findings.c.status.in_(ACTIVE), findings.c.locality == locality)
                .values(bureau=owner)
            )

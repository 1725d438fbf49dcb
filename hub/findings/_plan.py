"""The comparison as SQL (SQLAlchemy Core): one join of the rosters with each feed, then every rule on the result.

Joining a million roster persons with a feed of millions of records is the expensive part, so each feed is
joined once per run, whatever the number of rules that read it: the *stage* of a feed keeps the records of
roster persons in scope (about 5 % of the feed), with the person's household, locality, programme and status.
Which persons a feed version shares with a roster version was worked out when the later of the two completed
(``hub.feeds.ROSTER_MATCHES``; the engine matches any pair not yet matched first): the join walks those tokens
in order and looks each person up in the roster and in the feed's by-person table, both clustered by token, so
a stage visits the 5 %, not the million. Rules then read their stages: a few GROUP BYs over small tables.
Household sizes (for per-capita income) are counted once, through the roster's household index, only for the
households a household-level rule may flag; duplicates start from the persons listed more than once, which the
rosters' matches with one another name, and so do repeated 临时救助 grants (``_grants``: a household granted twice
lists its members twice). A rule is one statement however many regional files restate it: where
they change only its figures (the local 低保标准, a bound, a window) each row takes its own region's (``Fold``).

Each step is a ``Select`` filling a temporary table, so the benchmark can run the very same statements on
DuckDB. Nothing here executes anything: ``hub.findings._engine`` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.schema import SchemaItem

from hub.feeds import ROSTER_MATCHES
from hub.findings._facts import FACTS, ROSTER, FeedFacts, roster_records, roster_table
from hub.findings._rules import (
    ON_ASSISTANCE,
    Across,
    AnyRule,
    Bound,
    CountRule,
    DuplicateRule,
    ExistenceRule,
    Filters,
    Measure,
    Per,
    RepeatRule,
    RuleBook,
    Scope,
    ThresholdRule,
)
from hub.findings._sqltext import JsonFragment, as_text, joined, json_constant, json_text, ordered_join
from hub.store._base import Code, Token

_FEED_KEYS = ("version", "token", "row_number")
#: What identifies an enrolment in a stage (household, locality and programme go with the roster row; keeping
#: them in the key lets every rule group by it without sorting).
_ENROLMENT_KEY: tuple[tuple[str, Any], ...] = (
    ("token", Token),
    ("roster_version", Integer()),
    ("roster_row", Integer()),
    ("household", Token),
    ("locality", String(6)),
    ("programme", String(32)),
)


def window_start(as_of: dt.date, months: int) -> dt.date:
    """First day of the window of ``months`` calendar months that ends with ``as_of``'s month."""
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def _per_capita(rule: AnyRule) -> bool:
    return isinstance(rule, ThresholdRule) and rule.measure is Measure.PER_CAPITA_MONTHLY


def _temporary(name: str, metadata: MetaData, *columns: SchemaItem, **options: Any) -> Table:
    return Table(name, metadata, *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP", **options)


#: PostgreSQL settings for a step that looks each of a few ten thousand persons up by key, in the order its joins
#: are written (``ordered_join``, as on SQLite): misjudging how many records a person has, the planner would read a
#: small feed's records first and look the roster up once a record (a year of monthly pensions: twelve times).
_LOOK_UP_BY_KEY = ("enable_hashjoin = off", "enable_mergejoin = off", "join_collapse_limit = 1")


@dataclass(frozen=True)
class Step:
    """Fill ``table`` with ``select``."""

    table: Table
    select: Select[Any]
    #: PostgreSQL planner settings for this step alone (``enable_hashagg = off``).
    postgresql_settings: tuple[str, ...] = ()
    #: PostgreSQL: the columns indexed once the table is filled (``CREATE TABLE AS``: the engine creates it from
    #: ``select``, not from ``table``'s definition); unique when they are the table's primary key.
    postgresql_index: tuple[str, ...] = ()
    #: PostgreSQL: the rows that index holds, when not all (a column of the table that is true for them).
    postgresql_index_where: str = ""


@dataclass(frozen=True)
class RuleStep:
    rule: AnyRule
    #: The regions whose statement of the rule this step runs (their scopes' prefixes, "" for the default).
    regions: tuple[str, ...]
    select: Select[Any]

    @property
    def label(self) -> str:
        return f"rule {self.rule.code} ({', '.join(prefix or 'default' for prefix in self.regions)})"


#: Fields of a rule that a region's file may change without changing the rule's statement: the figures,
#: which each row takes from the region governing its locality (the title never reaches SQL).
_FIGURES = ("title", "signal", "severity", "due_days", "months", "above", "at_most", "at_least", "within_months")
#: Figures whose absence is a condition less (no upper bound, no window), not another value.
_CONDITIONS = ("at_most", "within_months")


def _statement_key(rule: AnyRule) -> tuple[Any, ...]:
    """What two regions' versions of a rule must share to run as one statement: all but the figures, and
    which of the optional conditions they state."""
    shape = tuple((field.name, getattr(rule, field.name)) for field in fields(rule) if field.name not in _FIGURES)
    return (type(rule), shape, tuple(getattr(rule, name, None) is None for name in _CONDITIONS))


@dataclass(frozen=True)
class Fold:
    """One rule as the regions of a run state it, run as one statement: where their files differ only in
    figures (the local 低保标准, a bound, a window, the severity), each row takes the figures of the region
    governing its locality. A statement per region made every county file one more pass over the stages: with a
    hundred of them the rules took 23 s on SQLite and 50 s on PostgreSQL instead of 4 s (1 M persons,
    ``python -m bench.comparison --county-files 100``)."""

    #: (scope, the rule as its region states it), the most specific region first.
    variants: tuple[tuple[Scope, AnyRule], ...]
    #: Every scope of the run states the rule this way: the statement needs no condition of its own on the
    #: locality (the scopes partition the run's region).
    whole: bool

    @property
    def rule(self) -> AnyRule:
        return self.variants[0][1]


def fold(scoped: Sequence[tuple[Scope, AnyRule]]) -> list[Fold]:
    """The run's rules, each region's version joined to the others' that share its statement."""
    scopes = set(scope for scope, _ in scoped)
    groups: dict[tuple[str, tuple[Any, ...]], list[tuple[Scope, AnyRule]]] = {}
    for scope, rule in scoped:
        groups.setdefault((rule.code, _statement_key(rule)), []).append((scope, rule))
    return [
        Fold(tuple(sorted(variants, key=lambda v: -len(v[0].prefix))), whole={s for s, _ in variants} == scopes)
        for variants in groups.values()
    ]


#: A figure of one region's version of a rule (called with the scope and the rule as that region states it).
Figure = Callable[[Scope, Any], Any]


def by_region(
    values: Sequence[tuple[str, Any]], locality: ColumnElement[str], make: Callable[[Any], ColumnElement[Any]]
) -> ColumnElement[Any]:
    """``make(value)`` for the most specific region prefix each row's locality has, from (prefix, value) pairs.
    (A condition is made in each branch rather than compared with a ``CASE`` of values: DuckDB types a ``CASE``
    of date literals as text.)

    A region stating what the region around it states needs no branch: its rows fall through to that one. A
    hundred county files that change only the 低保标准 thus leave a rule's window one constant.
    """
    ordered = sorted(values, key=lambda item: -len(item[0]))
    value_of = dict(ordered)

    def around(prefix: str) -> str | None:
        wider = [other for other, _ in ordered if len(other) < len(prefix) and prefix.startswith(other)]
        return max(wider, key=len) if wider else None

    kept = [(prefix, value) for prefix, value in ordered if (up := around(prefix)) is None or value_of[up] != value]
    if all(value == kept[0][1] for _, value in kept):
        return make(kept[0][1])
    # The longest prefixes are tried first; those of one length by one equality on the locality's first digits
    # (SQLite's LIKE folds case and costs several times more a branch).
    picked = make(kept[-1][1])
    for length in sorted({len(prefix) for prefix, _ in kept[:-1]}):
        same_length = {prefix: make(value) for prefix, value in kept[:-1] if len(prefix) == length}
        picked = case(same_length, value=func.substr(locality, 1, length), else_=picked)
    return picked


HIT_COLUMNS = (
    "rule",
    "region",
    "signal",
    "severity",
    "locality",
    "programme",
    "household",
    "person",
    "subject",
    "evidence_key",
    "evidence",
    "due_on",
)


class Plan:
    """The statements of one run: ``steps`` (stages, household sizes, repeated persons) then ``rule_steps``."""

    def __init__(
        self,
        book: RuleBook,
        *,
        as_of: dt.date,
        versions: Mapping[str, Sequence[int]],
        today: dt.date,
        due_days: int,
        region: str | None = None,
        hashes_groups: bool = False,
    ) -> None:
        self.as_of = as_of
        #: The database groups by hashing (PostgreSQL, DuckDB): a sum over a household's records is one grouping
        #: of the records. SQLite groups by sorting; it reads a stage in enrolment order, so it sums each
        #: enrolment as the rows stream by and then sorts only the enrolments (``_threshold``).
        self.hashes_groups = hashes_groups
        self.region = region or ""
        self.versions = {kind: tuple(v) for kind, v in versions.items()}
        #: A finding is due ``due_days`` after ``today`` (China's date), unless its region's rule says otherwise.
        self.today, self.due_days = today, due_days
        self.metadata = MetaData()
        self.roster = roster_table()
        scoped = [(scope, rule) for scope in book.scopes(region) for rule in scope.rules.rules]
        roster_versions = self.versions.get(ROSTER, ())
        #: Rules that cannot run, with the reason (a feed with no current version).
        self.skipped: dict[str, str] = {}
        self.scoped: list[tuple[Scope, AnyRule]] = []
        for scope, rule in scoped:
            if not roster_versions:
                self.skipped[rule.code] = "no current version of the rosters"
            elif rule.kinds() and not self.reads(rule):
                self.skipped[rule.code] = f"no current version of {', '.join(rule.kinds())}"
            else:
                self.scoped.append((scope, rule))
        self.folds = fold(self.scoped)
        self.repeated = self._repeated() if self.scoped else None
        repeats = [rule for _, rule in self.scoped if isinstance(rule, RepeatRule)]
        self.grants = self._grants(repeats) if repeats else None
        self.stages = {kind: self._stage(kind) for kind in sorted({k for _, r in self.scoped for k in self.reads(r)})}
        self.sizes = self._sizes() if any(_per_capita(r) for _, r in self.scoped) else None
        self.hits = _temporary(
            "cmp_hits",
            self.metadata,
            Column("rule", Code(64), nullable=False),
            Column("region", String(6)),
            Column("signal", String(12)),
            Column("severity", String(8)),
            Column("locality", Code(6), nullable=False),
            Column("programme", String(32)),
            Column("household", Token, nullable=False),
            Column("person", Token, nullable=True),
            Column("subject", Token, nullable=False),
            Column("evidence_key", Code(255)),
            Column("evidence", Text),
            Column("due_on", Date),
            # SQLite keeps the hits in the findings' key order, so the merge reads them as it writes findings,
            # without sorting. PostgreSQL hashes its joins and inserts in any order: a key would only cost it.
            PrimaryKeyConstraint("rule", "locality", "household", "subject").ddl_if(dialect="sqlite"),
            sqlite_with_rowid=False,
        )
        #: Filled by the merge: the hits whose subject was found before (the others are new), narrow so that
        #: classifying a run's hits rewrites none of them.
        self.matched = _temporary(
            "cmp_matched",
            self.metadata,
            Column("rule", Code(64), nullable=False),
            Column("locality", Code(6), nullable=False),
            Column("household", Token, nullable=False),
            Column("subject", Token, nullable=False),
            #: reopened, updated or unchanged.
            Column("outcome", String(12)),
            #: The latest finding of this subject, and the undecided one if any.
            Column("previous", Integer),
            Column("target", Integer, nullable=True),
            # SQLite walks it along the hits' key; PostgreSQL hashes it, and maintaining the key would cost it a
            # third of the match on a re-run, when every hit is matched.
            PrimaryKeyConstraint("rule", "locality", "household", "subject").ddl_if(dialect="sqlite"),
            sqlite_with_rowid=False,
        )
        self.bureaus = _temporary(
            "cmp_bureaus",
            self.metadata,
            Column("locality", Code(6), primary_key=True),
            Column("bureau", Code(64), nullable=True),
        )

    # --- what the engine runs ------------------------------------------------------------------------------

    @property
    def tables(self) -> list[Table]:
        return list(self.metadata.sorted_tables)

    @property
    def steps(self) -> list[Step]:
        return [step for step in (self.repeated, self.grants, *self.stages.values(), self.sizes) if step is not None]

    @property
    def rule_steps(self) -> list[RuleStep]:
        return [
            RuleStep(each.rule, tuple(scope.prefix for scope, _ in each.variants), self._rule(each))
            for each in self.folds
        ]

    def reads(self, rule: AnyRule) -> tuple[str, ...]:
        """The rule's feeds that have a current version: a threshold over wages and pensions still runs, on
        wages alone, while no pension feed has arrived (its evidence lists what was read)."""
        return tuple(kind for kind in rule.kinds() if self.versions.get(kind))

    def kinds(self) -> list[str]:
        return sorted({ROSTER, *(k for _, r in self.scoped for k in self.reads(r))})

    # --- roster conditions ---------------------------------------------------------------------------------

    def _active(self, roster: FromClause) -> list[ColumnElement[bool]]:
        """On the roster (a current version) and enrolled on the day of the comparison."""
        return [
            roster.c.version.in_(self.versions[ROSTER]),
            roster.c.since <= self.as_of,
            or_(roster.c.until.is_(None), roster.c.until >= self.as_of),
        ]

    def _in_region(self, locality: ColumnElement[str]) -> list[ColumnElement[bool]]:
        return [locality.like(f"{self.region}%")] if self.region else []

    @staticmethod
    def _in_scope(locality: ColumnElement[str], scope: Scope) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [locality.like(f"{scope.prefix}%")] if scope.prefix else []
        return conditions + [~locality.like(f"{excluded}%") for excluded in scope.excluded]

    def _in_fold(self, locality: ColumnElement[str], fold: Fold) -> list[ColumnElement[bool]]:
        if fold.whole:
            return self._in_region(locality)
        return [or_(*(and_(true(), *self._in_scope(locality, scope)) for scope, _ in fold.variants))]

    @staticmethod
    def _figure(fold: Fold, locality: ColumnElement[str], figure: Figure, type_: Any) -> ColumnElement[Any]:
        """``figure`` of the region governing each row's locality (a constant where the regions agree)."""
        return Plan._holds(fold, locality, figure, lambda value: literal(value, type_))

    @staticmethod
    def _holds(
        fold: Fold, locality: ColumnElement[str], figure: Figure, condition: Callable[[Any], ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """``condition(figure)`` with the figure of the region governing each row's locality."""
        return by_region([(scope.prefix, figure(scope, rule)) for scope, rule in fold.variants], locality, condition)

    @staticmethod
    def _json_figure(fold: Fold, locality: ColumnElement[str], figure: Figure) -> Any:
        """``figure`` for the evidence: the value itself where the regions agree."""
        values = [figure(scope, rule) for scope, rule in fold.variants]
        texts = [(scope.prefix, json_constant(value)) for (scope, _), value in zip(fold.variants, values, strict=True)]
        if len({text for _, text in texts}) == 1:
            return values[0]
        return JsonFragment(by_region(texts, locality, lambda text: literal(text, String)))

    def _due_on(self, scope: Scope, rule: AnyRule) -> dt.date:
        return self.today + dt.timedelta(days=rule.due_days or self.due_days)

    def _users(self, kind: str) -> list[AnyRule]:
        return [rule for _, rule in self.scoped if kind in self.reads(rule)]

    # --- steps ---------------------------------------------------------------------------------------------

    def _stage(self, kind: str) -> Step:
        """Records of ``kind`` about roster persons any rule reading ``kind`` examines, one row per enrolment
        (roster row) and record, keyed in the order the join produces them: by person token."""
        facts = FACTS[kind]
        feed, records, roster = facts.by_person, facts.records, self.roster
        users = self._users(kind)
        values = [c for c in feed.columns if c.name not in _FEED_KEYS]
        distinct = sorted({r.distinct for r in users if isinstance(r, CountRule) and r.distinct} - set(feed.c.keys()))
        key = [name for name, _ in _ENROLMENT_KEY] + ["version", "row_number"]
        table = _temporary(
            f"cmp_stage_{kind}",
            self.metadata,
            *(Column(name, type_, nullable=False, autoincrement=False) for name, type_ in _ENROLMENT_KEY),
            Column("version", Integer, nullable=False, autoincrement=False),
            Column("row_number", Integer, nullable=False, autoincrement=False),
            Column("roster_status", String(32)),
            #: The person has another enrolment: only then does a rule look for an earlier one to count instead.
            Column("repeated", Boolean),
            *(Column(c.name, c.type) for c in values),
            *(Column(name, records.c[name].type) for name in distinct),
            # SQLite stores the stage in key order and the rules group along it without sorting. PostgreSQL
            # hashes its groups instead: maintaining that wide key while filling the stage would cost more than
            # the join that fills it, and a rule only ever looks a person up (an earlier enrolment) by token, and
            # only a person enrolled more than once (``Step.postgresql_index``: a hundredth of the rows).
            PrimaryKeyConstraint(*key).ddl_if(dialect="sqlite"),
            sqlite_with_rowid=False,
        )
        matches = ROSTER_MATCHES
        # The matched persons of each pair of versions, in token order, each looked up on both sides by key.
        joined_from = ordered_join(
            ordered_join(
                matches,
                roster,
                and_(roster.c.version == matches.c.roster_version, roster.c.token == matches.c.token),
            ),
            feed,
            and_(feed.c.version == matches.c.version, feed.c.token == matches.c.token),
        )
        # Looked up by key for each record that matched a roster person (a join would let PostgreSQL hash the
        # whole records table, misjudging how few records match).
        looked_up = [
            select(records.c[name])
            .where(records.c.version == feed.c.version, records.c.row_number == feed.c.row_number)
            .scalar_subquery()
            .label(name)
            for name in distinct
        ]
        conditions = [
            matches.c.version.in_(self.versions[kind]),
            matches.c.roster_version.in_(self.versions[ROSTER]),
            *self._roster_conditions(users),
            *self._feed_conditions(kind, feed, roster.c.locality),
        ]
        query = (
            select(*self._roster_columns(roster), feed.c.version, feed.c.row_number, *values, *looked_up)
            .select_from(joined_from)
            .where(*conditions)
        )
        # PostgreSQL would hash the whole roster to meet a few ten thousand matched persons: looking each one up
        # by key reads a twentieth of it.
        return Step(table, query, _LOOK_UP_BY_KEY, postgresql_index=("token",), postgresql_index_where="repeated")

    def _roster_conditions(self, users: Sequence[AnyRule]) -> list[ColumnElement[bool]]:
        roster = self.roster
        return [
            *self._active(roster),
            roster.c.programme.in_(sorted({p for r in users for p in r.programmes})),
            roster.c.status.in_(sorted({s for r in users for s in r.statuses})),
            *self._in_region(roster.c.locality),
        ]

    def _feed_conditions(self, kind: str, feed: FromClause, locality: ColumnElement[str]) -> list[ColumnElement[bool]]:
        """Records up to the day, and no older than the longest window a rule reading ``kind`` looks back in
        the person's scope: a region whose rules look further back (half a year of wages, say) does not make
        the stage carry that much for every other region. Each row's start is picked by the most specific
        region prefix its locality has (one ``CASE``, where an ``OR`` of every scope's conditions cost a
        hundred county files seconds a stage)."""
        date = feed.c[FACTS[kind].date]
        none_read = self.as_of + dt.timedelta(days=1)  # no rule of the scope reads the feed: no record is kept
        starts: dict[Scope, dt.date] = {}
        for scope in dict.fromkeys(scope for scope, _ in self.scoped):
            months = [rule.window_months() for s, rule in self.scoped if s is scope and kind in self.reads(rule)]
            if not months:
                starts[scope] = none_read
            elif None in months:
                starts[scope] = dt.date.min
            else:
                starts[scope] = window_start(self.as_of, max(m or 0 for m in months))
        if len(set(starts.values())) == 1:  # one window everywhere (or none): no need to tell the scopes apart
            (start,) = set(starts.values())
            return [date <= self.as_of, *([date >= start] if start != dt.date.min else [])]
        since = by_region([(scope.prefix, start) for scope, start in starts.items()], locality, lambda day: date >= day)
        return [date <= self.as_of, since]

    def _roster_columns(self, roster: FromClause) -> list[ColumnElement[Any]]:
        assert self.repeated is not None
        return [
            roster.c.token,
            roster.c.version.label("roster_version"),
            roster.c.row_number.label("roster_row"),
            roster.c.household_head_token.label("household"),
            roster.c.locality,
            roster.c.programme,
            roster.c.status.label("roster_status"),
            roster.c.token.in_(select(self.repeated.table.c.token)).label("repeated"),
        ]

    def _sizes(self) -> Step:
        """Members on assistance of each household a household-level rule may flag."""
        roster = self.roster
        table = _temporary(
            "cmp_sizes",
            self.metadata,
            Column("household", Token, primary_key=True),
            Column("locality", String(6), primary_key=True),
            Column("size", Integer),
        )
        kinds = sorted({k for _, r in self.scoped if _per_capita(r) for k in self.reads(r)})
        flagged = union(*(select(self.stages[k].table.c.household) for k in kinds)) if len(kinds) > 1 else None
        households = flagged if flagged is not None else select(self.stages[kinds[0]].table.c.household)
        query = (
            select(
                roster.c.household_head_token.label("household"),
                roster.c.locality,
                func.count(roster.c.token.distinct()).label("size"),
            )
            .where(
                *self._active(roster),
                roster.c.status.in_(ON_ASSISTANCE),
                *self._in_region(roster.c.locality),
                roster.c.household_head_token.in_(households),
            )
            .group_by(roster.c.household_head_token, roster.c.locality)
        )
        # Each flagged household looked up in the roster's household index: PostgreSQL would rather merge the
        # whole index (a million members) with the few ten thousand households. Sorted, not hashed, they are
        # looked up in the index's order: each of its pages is read once, not once for each household on it (the
        # index is near the size of the server's default 128 MB of shared buffers), and the members come out
        # already grouped by household (0.33–0.40 → 0.27 s at full size).
        return Step(
            table, query, (*_LOOK_UP_BY_KEY, "enable_hashagg = off"), postgresql_index=("household", "locality")
        )

    def _repeated(self) -> Step:
        """Persons enrolled more than once (another programme, another locality): where duplicates start, and
        the only persons a rule must not count twice. The candidates are the rosters' matches with one another
        (persons on two versions, or twice on one: ``hub.feeds.ROSTER_MATCHES``), a few thousand; each is looked
        up in the rosters and kept if enrolled more than once on the day."""
        roster, matches, rosters = self.roster, ROSTER_MATCHES, self.versions[ROSTER]
        table = _temporary("cmp_repeated", self.metadata, Column("token", Token, primary_key=True))
        candidates = (
            select(matches.c.token)
            .where(matches.c.version.in_(rosters), matches.c.roster_version.in_(rosters))
            .distinct()
            .subquery("candidates")
        )
        query = (
            select(roster.c.token)
            .select_from(
                ordered_join(
                    candidates, roster, and_(roster.c.version.in_(rosters), roster.c.token == candidates.c.token)
                )
            )
            .where(*self._active(roster))
            .group_by(roster.c.token)
            .having(func.count() > 1)
        )
        return Step(table, query, _LOOK_UP_BY_KEY, postgresql_index=("token",))

    def _grants(self, rules: Sequence[RepeatRule]) -> Step:
        """Grants a repeat rule may compare: roster rows of its programmes with a cause it examines, dated within
        the longest window, of the persons listed more than once (the rosters' matches with one another, as for
        ``_repeated``, but not only those enrolled on the day: a 临时救助 grant is paid once and over). A household
        granted twice lists its members twice; so only those few thousand persons are looked up, each in the
        rosters by key and each of their rows in the records table (where the cause is kept) by key."""
        roster, matches, rosters = self.roster, ROSTER_MATCHES, self.versions[ROSTER]
        records = roster_records()
        table = _temporary(
            "cmp_grants",
            self.metadata,
            Column("household", Token, nullable=False),
            Column("cause", String(32), nullable=False),
            Column("since", Date, nullable=False),
            Column("version", Integer, nullable=False, autoincrement=False),
            Column("row_number", Integer, nullable=False, autoincrement=False),
            Column("locality", String(6), nullable=False),
            Column("programme", String(32), nullable=False),
            Column("status", String(32), nullable=False),
            Column("until", Date),
            Column("amount", BigInteger),
            # SQLite: a household's grants of one cause side by side, for the rule's self-join.
            PrimaryKeyConstraint("household", "cause", "since", "version", "row_number").ddl_if(dialect="sqlite"),
            sqlite_with_rowid=False,
        )
        candidates = (
            select(matches.c.token)
            .where(matches.c.version.in_(rosters), matches.c.roster_version.in_(rosters))
            .distinct()
            .subquery("candidates")
        )
        earliest = min(window_start(self.as_of, rule.within_months) for rule in rules)
        query = (
            select(
                roster.c.household_head_token.label("household"),
                records.c.cause,
                roster.c.since,
                roster.c.version,
                roster.c.row_number,
                roster.c.locality,
                roster.c.programme,
                roster.c.status,
                roster.c.until,
                roster.c.monthly_amount_fen.label("amount"),
            )
            .select_from(
                ordered_join(
                    ordered_join(
                        candidates, roster, and_(roster.c.version.in_(rosters), roster.c.token == candidates.c.token)
                    ),
                    records,
                    and_(records.c.version == roster.c.version, records.c.row_number == roster.c.row_number),
                )
            )
            .where(
                roster.c.version.in_(rosters),
                roster.c.programme.in_(sorted({p for rule in rules for p in rule.programmes})),
                roster.c.status.in_(sorted({s for rule in rules for s in rule.statuses})),
                roster.c.since <= self.as_of,
                roster.c.since >= earliest,
                records.c.cause.in_(sorted({c for rule in rules for c in rule.causes})),
            )
        )
        return Step(table, query, _LOOK_UP_BY_KEY, postgresql_index=("household", "cause"))

    # --- rules ---------------------------------------------------------------------------------------------

    def _rule(self, fold: Fold) -> Select[Any]:
        rule = fold.rule
        if isinstance(rule, ThresholdRule):
            return self._threshold(fold, rule)
        if isinstance(rule, CountRule):
            return self._count(fold, rule)
        if isinstance(rule, ExistenceRule):
            return self._existence(fold, rule)
        if isinstance(rule, RepeatRule):
            return self._repeat(fold, rule)
        return self._duplicate(fold, rule)

    def _records_of(self, fold: Fold, kind: str, where: Filters) -> tuple[Table, list[ColumnElement[bool]]]:
        """The stage of ``kind`` and the conditions selecting this rule's records from it. A person enrolled
        twice in the household's locality counts once: through the first enrolment the rule examines."""
        rule = fold.rule
        stage = self.stages[kind].table
        earlier = stage.alias("earlier")
        examined = [stage.c.programme.in_(rule.programmes), stage.c.roster_status.in_(rule.statuses)]
        counted_before = exists().where(
            earlier.c.repeated,  # as the row's own (the same person): lets PostgreSQL use its index of repeated persons
            earlier.c.token == stage.c.token,
            earlier.c.household == stage.c.household,
            earlier.c.locality == stage.c.locality,
            earlier.c.programme.in_(rule.programmes),
            earlier.c.roster_status.in_(rule.statuses),
            or_(
                earlier.c.roster_version < stage.c.roster_version,
                and_(earlier.c.roster_version == stage.c.roster_version, earlier.c.roster_row < stage.c.roster_row),
            ),
        )
        conditions = [
            *examined,
            *self._in_fold(stage.c.locality, fold),
            *(stage.c[column].in_(codes) for column, codes in where),
            *self._timing(fold, FACTS[kind], stage),
            or_(~stage.c.repeated, ~counted_before),
        ]
        return stage, conditions

    def _per_enrolment(self, fold: Fold, kind: str, where: Filters, amount: str | None = None) -> Select[Any]:
        """One row per enrolment: its records' count and keys, and either the sum of their ``amount`` or their
        first and latest dates (an existence rule's evidence; a sum's rule never reads them, and on SQLite the
        two aggregates would cost as much as the grouping itself). The stage is keyed by enrolment, so this
        streams without sorting."""
        stage, conditions = self._records_of(fold, kind, where)
        dated = stage.c[FACTS[kind].date]
        keys = [stage.c[name] for name, _ in _ENROLMENT_KEY]
        if amount:
            measured = [cast(func.sum(stage.c[amount]), BigInteger).label("total")]
        else:
            measured = [func.min(dated).label("first"), func.max(dated).label("latest")]
        return (
            select(
                *keys,
                func.count().label("records"),
                self._record_keys(stage).label("record_keys"),
                *measured,
            )
            .where(*conditions)
            .group_by(*keys)
        )

    def _per_record(self, fold: Fold, kind: str, where: Filters, amount: str | None) -> Select[Any]:
        """``_per_enrolment``'s columns for each record alone, for a database that hashes its groups: summing a
        household's records at once, it skips the grouping by enrolment and its six-column key (on PostgreSQL at
        full size: medical spending 0.24 → 0.19 s, the rules together 0.88–1.21 → 0.79–0.96 s)."""
        assert amount is not None, "a threshold rule sums the amounts of its feeds"
        stage, conditions = self._records_of(fold, kind, where)
        return select(
            *(stage.c[name] for name, _ in _ENROLMENT_KEY),
            literal(1, BigInteger).label("records"),
            self._record_key(stage).label("record_keys"),
            cast(stage.c[amount], BigInteger).label("total"),
        ).where(*conditions)

    def _timing(self, fold: Fold, facts: FeedFacts, stage: Table) -> list[ColumnElement[bool]]:
        rule = fold.rule
        dated = stage.c[facts.date]
        conditions = [dated <= self.as_of]
        if rule.window_months() is not None:
            start: Figure = lambda _, r: window_start(self.as_of, r.window_months())  # noqa: E731
            conditions.append(self._holds(fold, stage.c.locality, start, lambda day: dated >= day))
        if isinstance(rule, ExistenceRule) and rule.current and facts.end is not None:
            end = stage.c[facts.end]
            conditions.append(or_(end.is_(None), end >= self.as_of))
        return conditions

    def _keys(self, rows: FromClause, per: Per) -> list[ColumnElement[Any]]:
        keys: list[ColumnElement[Any]] = [rows.c.household, rows.c.locality]
        return [rows.c.token, *keys] if per is Per.PERSON else keys

    @staticmethod
    def _record_key(rows: FromClause) -> ColumnElement[str]:
        return as_text(rows.c.version) + literal(":", String) + as_text(rows.c.row_number)

    @staticmethod
    def _record_keys(rows: FromClause) -> ColumnElement[str]:
        return func.aggregate_strings(Plan._record_key(rows), ",")

    def _hit(
        self,
        fold: Fold,
        aggregate: FromClause,
        evidence_key: ColumnElement[str],
        evidence: ColumnElement[str],
        *,
        person: ColumnElement[Any] | None,
    ) -> list[ColumnElement[Any]]:
        rule, locality = fold.rule, aggregate.c.locality
        subject = person if person is not None else aggregate.c.household
        return [
            literal(rule.code, String).label("rule"),
            self._figure(fold, locality, lambda scope, _: scope.rules.prefix, String).label("region"),
            self._figure(fold, locality, lambda _, r: str(r.signal), String).label("signal"),
            self._figure(fold, locality, lambda _, r: str(r.severity), String).label("severity"),
            aggregate.c.locality,
            aggregate.c.programme,
            aggregate.c.household,
            (person if person is not None else null()).label("person"),
            subject.label("subject"),
            evidence_key.label("evidence_key"),
            evidence.label("evidence"),
            self._figure(fold, locality, self._due_on, Date).label("due_on"),
        ]

    def _common_evidence(self, fold: Fold, locality: ColumnElement[str], kinds: Sequence[str]) -> list[tuple[str, Any]]:
        return [
            ("rule", fold.rule.code),
            ("feeds", list(kinds)),
            ("versions", sorted({v for k in kinds for v in self.versions[k]})),
            ("as_of", self.as_of.isoformat()),
            ("region", self._json_figure(fold, locality, lambda scope, _: scope.rules.prefix)),
        ]

    def _threshold(self, fold: Fold, rule: ThresholdRule) -> Select[Any]:
        feeds = self.reads(rule)
        summed = self._per_record if self.hashes_groups else self._per_enrolment
        parts = [summed(fold, kind, rule.where, FACTS[kind].amount) for kind in feeds]
        # Each part holds other feed versions, so the union repeats no record.
        enrolments = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("enrolments")
        keys = self._keys(enrolments, rule.per)
        aggregate = (
            select(
                *keys,
                func.min(enrolments.c.programme).label("programme"),
                cast(func.sum(enrolments.c.total), BigInteger).label("total"),
                cast(func.sum(enrolments.c.records), BigInteger).label("records"),
                func.aggregate_strings(enrolments.c.record_keys, ",").label("record_keys"),
            )
            .group_by(*keys)
            .subquery("totals")
        )
        locality = aggregate.c.locality
        per_capita = rule.measure is Measure.PER_CAPITA_MONTHLY
        source: FromClause = aggregate
        size: ColumnElement[int] = literal(1, Integer)
        if per_capita:
            assert self.sizes is not None
            sizes = self.sizes.table
            source = aggregate.join(
                sizes, and_(sizes.c.household == aggregate.c.household, sizes.c.locality == locality)
            )
            size = sizes.c.size

        def figure(value: Figure, type_: Any = BigInteger) -> ColumnElement[Any]:
            return self._figure(fold, locality, value, type_)

        def evidence_of(value: Figure) -> Any:
            return self._json_figure(fold, locality, value)

        def bound(pick: Callable[[ThresholdRule], Bound | None]) -> Figure:
            """A bound over the rule's months, in hundredths of a fen (so hundredths of the standard stay whole),
            to be compared with ``total * 100``."""

            def hundredths(scope: Scope, version: ThresholdRule) -> int:
                chosen = pick(version)
                assert chosen is not None
                each = (
                    chosen.percent * scope.rules.standard_fen if chosen.percent is not None else (chosen.fen or 0) * 100
                )
                return each * (version.months if per_capita else 1)

            return hundredths

        total = aggregate.c.total * 100
        conditions = [total > figure(bound(lambda r: r.above)) * size]
        if rule.at_most is not None:
            conditions.append(total <= figure(bound(lambda r: r.at_most)) * size)
        months = figure(lambda _, r: r.months, Integer)
        measured = aggregate.c.total // (size * months) if per_capita else aggregate.c.total
        evidence = json_text(
            *self._common_evidence(fold, locality, feeds),
            ("measure", str(rule.measure)),
            ("months", evidence_of(lambda _, r: r.months)),
            (
                "window",
                evidence_of(lambda _, r: [window_start(self.as_of, r.months).isoformat(), self.as_of.isoformat()]),
            ),
            ("total_fen", aggregate.c.total),
            ("household_size", size if per_capita else None),
            ("measured_fen", measured),
            ("standard_fen", evidence_of(lambda scope, _: scope.rules.standard_fen)),
            ("above_fen", evidence_of(lambda scope, r: r.above.in_fen(scope.rules.standard_fen))),
            (
                "at_most_fen",
                evidence_of(lambda scope, r: r.at_most.in_fen(scope.rules.standard_fen) if r.at_most else None),
            ),
            ("records", aggregate.c.records),
            ("record_keys", aggregate.c.record_keys),
        )
        evidence_key = joined(aggregate.c.total, size)
        person = aggregate.c.token if rule.per is Per.PERSON else None
        return (
            select(*self._hit(fold, aggregate, evidence_key, evidence, person=person))
            .select_from(source)
            .where(*conditions)
        )

    def _count(self, fold: Fold, rule: CountRule) -> Select[Any]:
        stage, conditions = self._records_of(fold, rule.feed, rule.where)
        keys = self._keys(stage, rule.per)
        counted = func.count(stage.c[rule.distinct].distinct()) if rule.distinct else func.count()
        aggregate = (
            select(
                *keys,
                func.min(stage.c.programme).label("programme"),
                counted.label("counted"),
                func.max(stage.c[FACTS[rule.feed].date]).label("latest"),
                self._record_keys(stage).label("record_keys"),
            )
            .where(*conditions)
            .group_by(*keys)
            .having(counted >= self._figure(fold, stage.c.locality, lambda _, r: r.at_least, Integer))
            .subquery("counts")
        )
        evidence = json_text(
            *self._common_evidence(fold, aggregate.c.locality, (rule.feed,)),
            ("where", {column: list(codes) for column, codes in rule.where}),
            ("distinct", rule.distinct),
            ("at_least", self._json_figure(fold, aggregate.c.locality, lambda _, r: r.at_least)),
            ("count", aggregate.c.counted),
            ("latest_on", aggregate.c.latest),
            ("record_keys", aggregate.c.record_keys),
        )
        person = aggregate.c.token if rule.per is Per.PERSON else None
        return select(
            *self._hit(fold, aggregate, joined(aggregate.c.counted, aggregate.c.latest), evidence, person=person)
        )

    def _existence(self, fold: Fold, rule: ExistenceRule) -> Select[Any]:
        aggregate = self._per_enrolment(fold, rule.feed, rule.where).subquery("events")
        evidence = json_text(
            *self._common_evidence(fold, aggregate.c.locality, (rule.feed,)),
            ("where", {column: list(codes) for column, codes in rule.where}),
            ("within_months", self._json_figure(fold, aggregate.c.locality, lambda _, r: r.within_months)),
            ("current", rule.current),
            ("records", aggregate.c.records),
            ("first_on", aggregate.c.first),
            ("latest_on", aggregate.c.latest),
            ("record_keys", aggregate.c.record_keys),
        )
        key = joined(aggregate.c.records, aggregate.c.first, aggregate.c.latest)
        return select(*self._hit(fold, aggregate, key, evidence, person=aggregate.c.token))

    def _duplicate(self, fold: Fold, rule: DuplicateRule) -> Select[Any]:
        """Each redundant roster row against the row it duplicates: the lower programme (precedence as listed)
        or, across localities, the later enrolment. One finding per person and locality."""
        assert self.repeated is not None
        repeated = self.repeated.table
        own, other = self.roster.alias("own"), self.roster.alias("other")
        roster_versions = self.versions[ROSTER]
        precedence = {programme: index for index, programme in enumerate(rule.programmes)}

        def rank(row: FromClause) -> ColumnElement[int]:
            return case(precedence, value=row.c.programme, else_=len(precedence))

        if rule.across is Across.PROGRAMME:
            differs = own.c.programme != other.c.programme
            redundant = rank(own) > rank(other)
        else:
            differs = own.c.locality != other.c.locality
            redundant = or_(
                own.c.since > other.c.since, and_(own.c.since == other.c.since, own.c.locality > other.c.locality)
            )
        partition = (own.c.token, own.c.household_head_token, own.c.locality)
        order = (
            rank(own).desc(),
            own.c.since.desc(),
            own.c.version,
            own.c.row_number,
            other.c.since,
            other.c.locality,
            other.c.version,
            other.c.row_number,
        )
        pairs = (
            select(
                own.c.token,
                own.c.household_head_token.label("household"),
                own.c.locality,
                own.c.programme,
                own.c.since,
                own.c.until,
                own.c.monthly_amount_fen.label("amount"),
                (as_text(own.c.version) + literal(":", String) + as_text(own.c.row_number)).label("record"),
                other.c.locality.label("other_locality"),
                other.c.programme.label("other_programme"),
                other.c.since.label("other_since"),
                other.c.until.label("other_until"),
                other.c.monthly_amount_fen.label("other_amount"),
                (as_text(other.c.version) + literal(":", String) + as_text(other.c.row_number)).label("other_record"),
                func.row_number().over(partition_by=partition, order_by=order).label("pick"),
            )
            .select_from(
                ordered_join(
                    ordered_join(
                        repeated, own, and_(own.c.version.in_(roster_versions), own.c.token == repeated.c.token)
                    ),
                    other,
                    and_(other.c.version.in_(roster_versions), other.c.token == repeated.c.token),
                )
            )
            .where(
                *self._active(own),
                own.c.programme.in_(rule.programmes),
                own.c.status.in_(rule.statuses),
                *self._in_fold(own.c.locality, fold),
                *self._active(other),
                other.c.programme.in_(rule.programmes),
                other.c.status.in_(rule.statuses),
                differs,
                redundant,
            )
            .subquery("pairs")
        )
        evidence = json_text(
            *self._common_evidence(fold, pairs.c.locality, (ROSTER,)),
            ("across", str(rule.across)),
            *_pair_evidence(pairs),
        )
        key = joined(
            pairs.c.programme, pairs.c.since, pairs.c.other_locality, pairs.c.other_programme, pairs.c.other_since
        )
        return select(*self._hit(fold, pairs, key, evidence, person=pairs.c.token)).where(pairs.c.pick == 1)

    def _repeat(self, fold: Fold, rule: RepeatRule) -> Select[Any]:
        """Each household's latest grant (its ``since``) that repeats an earlier grant for the same cause, both
        within the window of the rule as the repeat's region states it; one finding per household and locality
        of the repeat (of several causes, the latest repeat's). Grants listed once for each member share their
        ``since``: one grant is never its own repeat."""
        assert self.grants is not None
        grants = self.grants.table
        repeat, earlier = grants.alias("repeat"), grants.alias("earlier")
        start: Figure = lambda _, r: window_start(self.as_of, r.within_months)  # noqa: E731

        def examined(grant: FromClause) -> list[ColumnElement[bool]]:
            return [
                grant.c.programme.in_(rule.programmes),
                grant.c.status.in_(rule.statuses),
                grant.c.cause.in_(rule.causes),
                self._holds(fold, repeat.c.locality, start, lambda day: grant.c.since >= day),
            ]

        def record(grant: FromClause) -> ColumnElement[str]:
            return as_text(grant.c.version) + literal(":", String) + as_text(grant.c.row_number)

        order = (
            repeat.c.since.desc(),
            repeat.c.cause,
            earlier.c.since.desc(),
            repeat.c.version,
            repeat.c.row_number,
            earlier.c.version,
            earlier.c.row_number,
        )
        pairs = (
            select(
                repeat.c.household,
                repeat.c.locality,
                repeat.c.programme,
                repeat.c.cause,
                repeat.c.since,
                repeat.c.until,
                repeat.c.amount,
                record(repeat).label("record"),
                earlier.c.locality.label("other_locality"),
                earlier.c.programme.label("other_programme"),
                earlier.c.since.label("other_since"),
                earlier.c.until.label("other_until"),
                earlier.c.amount.label("other_amount"),
                record(earlier).label("other_record"),
                func.row_number()
                .over(partition_by=(repeat.c.household, repeat.c.locality), order_by=order)
                .label("pick"),
            )
            .select_from(
                repeat.join(
                    earlier,
                    and_(
                        earlier.c.household == repeat.c.household,
                        earlier.c.cause == repeat.c.cause,
                        earlier.c.since < repeat.c.since,
                    ),
                )
            )
            .where(*examined(repeat), *examined(earlier), *self._in_fold(repeat.c.locality, fold))
            .subquery("repeats")
        )
        evidence = json_text(
            *self._common_evidence(fold, pairs.c.locality, (ROSTER,)),
            ("within_months", self._json_figure(fold, pairs.c.locality, lambda _, r: r.within_months)),
            ("cause", pairs.c.cause),
            *_pair_evidence(pairs),
        )
        key = joined(pairs.c.cause, pairs.c.since, pairs.c.other_locality, pairs.c.other_since)
        return select(*self._hit(fold, pairs, key, evidence, person=None)).where(pairs.c.pick == 1)


def _pair_evidence(pairs: FromClause) -> tuple[tuple[str, ColumnElement[Any]], ...]:
    """The two roster rows a duplicate or a repeat names, as its evidence lists them (``_overpayment`` reads them)."""
    return (
        ("record", pairs.c.record),
        ("programme", pairs.c.programme),
        ("since", pairs.c.since),
        ("until", pairs.c.until),
        ("monthly_amount_fen", pairs.c.amount),
        ("other_record", pairs.c.other_record),
        ("other_locality", pairs.c.other_locality),
        ("other_programme", pairs.c.other_programme),
        ("other_since", pairs.c.other_since),
        ("other_until", pairs.c.other_until),
        ("other_monthly_amount_fen", pairs.c.other_amount),
    )

"""The comparison engine on SQLite and PostgreSQL: every rule exactly right, idempotent, set-based, routed."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.pool import StaticPool

from hub.errors import FailedPrecondition
from hub.feeds import FeedIntake
from hub.findings import (
    Action,
    FindingBook,
    FindingFilter,
    Status,
    load_rules,
    parse_rules,
    run_comparison,
)
from hub.findings._book import parse_evidence
from hub.findings._models import ComparisonRunRow, FindingEventRow, FindingRow
from hub.findings._rules import RuleBook, packaged_rules_dir
from hub.privacy import FieldCipher, Tokenizer
from hub.registry import Registry
from hub.store import Store, make_engine
from hub.store._checkpoint import WalFolder
from tests.findings.conftest import AS_OF, BUREAU_OF, NOW, Q2, World, register_bureaus
from tests.findings.dataset import Dataset, build

Found = dict[str, set[tuple[str, bytes, bytes]]]


def compare(store: Store, **options: Any) -> Any:
    return run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW, **options)


def compare_watched(store: Store, watch: Any) -> Any:
    """``compare``, with ``watch`` called before each statement the engine sends (SQLAlchemy's
    ``before_cursor_execute``)."""
    event.listen(store.engine, "before_cursor_execute", watch)
    try:
        return compare(store)
    finally:
        event.remove(store.engine, "before_cursor_execute", watch)


def compare_explained(store: Store, prefix: str) -> tuple[Any, list[str]]:
    """``compare``, with PostgreSQL's plan of each statement starting with ``prefix`` (of a ``CREATE TABLE AS``,
    its query's)."""
    plans: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith(prefix):
            query = statement.partition(" AS ")[2] if statement.startswith("CREATE ") else statement
            cursor.execute("EXPLAIN " + query, parameters)
            plans.extend(row[0] for row in cursor.fetchall())

    return compare_watched(store, explain), plans


def found(store: Store) -> Found:
    result: Found = {}
    for finding in FindingBook(store, clock=lambda: NOW).find(FindingFilter(limit=1000)):
        result.setdefault(finding.rule, set()).add((finding.locality, finding.household, finding.subject))
    return result


def expected(data: Dataset, tokenizer: Tokenizer) -> Found:
    return {
        rule: {(locality, tokenizer.token(head), tokenizer.token(subject)) for locality, head, subject in hits}
        for rule, hits in data.expected.items()
    }


def precision_recall(want: Found, got: Found) -> list[tuple[str, int, int, float, float]]:
    table = []
    for rule in sorted(set(want) | set(got)):
        expected_hits, actual = want.get(rule, set()), got.get(rule, set())
        right = len(expected_hits & actual)
        precision = right / len(actual) if actual else 1.0
        recall = right / len(expected_hits) if expected_hits else 1.0
        table.append((rule, len(expected_hits), len(actual), precision, recall))
    return table


def test_every_rule_fires_exactly_where_it_should(
    store: Store, dataset: Dataset, tokenizer: Tokenizer, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = compare(store)
    want, got = expected(dataset, tokenizer), found(store)
    table = precision_recall(want, got)
    with capsys.disabled():
        print(f"\n{store.dialect}: {'rule':26} {'expected':>8} {'found':>6} {'precision':>10} {'recall':>7}")
        for rule, n_expected, n_found, precision, recall in table:
            print(f"{'':{len(store.dialect) + 2}}{rule:26} {n_expected:8} {n_found:6} {precision:10.2f} {recall:7.2f}")
    assert {rule for rule, *_ in table} == {r.code for r in load_rules().region("").rules}, "every rule is tried"
    assert all(precision == recall == 1.0 for *_, precision, recall in table)
    assert got == want
    assert summary.total("new") == sum(len(hits) for hits in want.values())
    assert not summary.skipped


def test_a_rerun_raises_nothing_twice(store: Store, dataset: Dataset) -> None:
    first = compare(store)
    again = compare(store)
    assert again.total("new") == again.total("reopened") == again.total("updated") == 0
    assert again.total("unchanged") == first.total("new") > 0
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(FindingRow)) == first.total("new")
        runs = session.scalars(select(ComparisonRunRow).order_by(ComparisonRunRow.id)).all()
        assert [r.status for r in runs] == ["complete", "complete"]
        assert runs[0].rules_digest == runs[1].rules_digest


def test_a_rerun_with_nothing_new_sends_no_insert_into_findings(store: Store, dataset: Dataset) -> None:
    inserts: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO findings"):
            inserts.append(statement)

    first = compare_watched(store, watch)
    assert first.total("new") > 0 and len(inserts) == 1
    again = compare_watched(store, watch)
    assert again.total("unchanged") == first.total("new") and again.total("new") == 0
    assert len(inserts) == 1


def test_summing_records_at_once_finds_what_summing_each_enrolment_first_finds(
    store: Store, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two forms of a threshold rule (``Plan.hashes_groups``, chosen by the database) raise the same hits with
    the same evidence (as read back: record keys in order)."""
    from hub.findings import _engine

    plan = _engine.Plan
    hits: list[dict[tuple[str, bytes], dict[str, Any]]] = []

    def read_hits(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO cmp_matched"):
            cursor.execute("SELECT rule, subject, evidence FROM cmp_hits")
            hits.append({(rule, bytes(subject)): parse_evidence(e) for rule, subject, e in cursor.fetchall()})

    for hashes_groups in (False, True):
        monkeypatch.setattr(_engine, "Plan", functools.partial(_forced, plan, hashes_groups))
        compare_watched(store, read_hits)
    assert {rule for rule, _ in hits[0]} >= {"income_over_standard", "medical_spending", "income_marginal"}
    assert hits[0] == hits[1]


def _forced(plan: Any, hashing: bool, *args: Any, **options: Any) -> Any:
    """``plan`` made with ``hashes_groups=hashing`` whatever its caller asks."""
    return plan(*args, **{**options, "hashes_groups": hashing})


def test_the_run_commits_its_findings_without_waiting_for_sqlites_wal_to_be_folded(
    store: Store, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    folds: list[WalFolder] = []
    monkeypatch.setattr(WalFolder, "fold_soon", lambda self: folds.append(self))
    summary = compare(store)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(FindingRow)) == summary.total("new") > 0
    assert len(folds) == (1 if store.dialect == "sqlite" else 0)


def test_a_rerun_notes_itself_on_what_it_found_again(store: Store, dataset: Dataset) -> None:
    first = compare(store)
    again = compare(store)
    third = compare(store)
    findings = FindingBook(store).find(FindingFilter(limit=1000))
    assert findings and {(f.first_run, f.last_run) for f in findings} == {(first.run_id, third.run_id)}
    assert first.run_id < again.run_id < third.run_id


def test_a_finding_is_open_and_due_in_the_configured_days(store: Store, dataset: Dataset) -> None:
    document = _default_document()
    document["rules"]["member_died"]["due_days"] = 3
    run_comparison(store, parse_rules({"": document}), as_of=AS_OF, clock=lambda: NOW, due_days=10)
    findings = FindingBook(store).find(FindingFilter(limit=1000))
    (died,) = [f for f in findings if f.rule == "member_died"]
    assert died.status is Status.OPEN and died.reviewer is None
    assert died.due_on == dt.date(2025, 7, 4)  # the rule's three days from 2025-07-01 in China
    assert {f.due_on for f in findings if f.rule != "member_died"} == {dt.date(2025, 7, 11)}


def test_a_county_that_gives_a_rule_more_days_gives_them_to_its_own_findings(
    store: Store, dataset: Dataset, tmp_path: Path
) -> None:
    """``due_days`` in a county file is the county's: its findings of that rule are due later, the others' not."""
    shutil.copy(packaged_rules_dir() / "130629.toml", tmp_path / "130629.toml")
    with (tmp_path / "130629.toml").open("a", encoding="utf-8") as county:
        county.write("due_days = 30\n")  # appended to the file's last table: medical_spending
    run_comparison(store, load_rules(tmp_path), as_of=AS_OF, clock=lambda: NOW, due_days=10)
    medical = FindingBook(store).find(FindingFilter(rules=("medical_spending",)))
    due = {f.locality: f.due_on for f in medical}
    assert due == {"130629": dt.date(2025, 7, 31), "110105": dt.date(2025, 7, 11)}


def _default_document() -> dict[str, Any]:
    import tomllib

    from hub.findings._rules import packaged_rules_dir

    with (packaged_rules_dir() / "default.toml").open("rb") as handle:
        return tomllib.load(handle)


def _rule(code: str) -> dict[str, Any]:
    rules: dict[str, Any] = _default_document()["rules"]
    return dict(rules[code])


def test_evidence_names_feed_version_records_and_values(store: Store, dataset: Dataset) -> None:
    compare(store)
    findings = {f.rule: f for f in FindingBook(store).find(FindingFilter(limit=1000))}
    income = FindingBook(store).find(FindingFilter(rules=("income_over_standard",)))
    pension_household = next(
        f for f in income if f.locality == "110105" and "pension" in f.evidence["feeds"] and f.evidence["records"] == 6
    )
    evidence = pension_household.evidence
    assert evidence["feeds"] == ["wage", "pension"] and evidence["total_fen"] == 390_000
    assert evidence["household_size"] == 2 and evidence["measured_fen"] == 65_000 and evidence["above_fen"] == 62_800
    assert len(evidence["record_keys"]) == 6 and all(":" in key for key in evidence["record_keys"])
    home = findings["second_home"].evidence
    assert (
        home["count"] == 2
        and home["distinct"] == "certificate_number"
        and home["where"] == {"property_kind": ["residential"]}
    )
    died = findings["member_died"].evidence
    assert died["first_on"] == "2025-05-01" and died["feeds"] == ["death"] and len(died["versions"]) == 1


def test_a_dismissed_finding_comes_back_only_with_new_evidence(
    store: Store, dataset: Dataset, intake: FeedIntake, tokenizer: Tokenizer
) -> None:
    compare(store)
    book = FindingBook(store, clock=lambda: NOW)
    (tekun,) = book.find(FindingFilter(rules=("tekun_income",)))
    book.review(tekun.id, Action.START, reviewer="王五")
    book.review(tekun.id, Action.DISMISS, reviewer="王五", reason="一次性劳务报酬，已核实")
    again = compare(store)
    assert again.counts["tekun_income"].unchanged == 1 and again.counts["tekun_income"].new == 0
    assert book.get(tekun.id).status is Status.DISMISSED
    # The wage feed's next version pays the person more: the evidence changes, the finding comes back.
    person = next(p for p in _tekun_people(dataset) if tokenizer.token(p) == tekun.subject)
    world = World()
    for row in dataset.world.rows["wage"]:
        if row.id_number != person:  # type: ignore[attr-defined]
            world.add("wage", row)
    world.wages(person, 90_000, Q2)
    world.load(intake, suffix="2")
    reopened = compare(store)
    assert reopened.counts["tekun_income"].reopened == 1
    (old, new) = book.find(FindingFilter(rules=("tekun_income",)))
    assert old.status is Status.DISMISSED and new.status is Status.OPEN and new.previous == old.id
    assert new.evidence["total_fen"] == 270_000 and old.evidence["total_fen"] == 210_000


def _tekun_people(dataset: Dataset) -> list[str]:
    return [row.id_number for row in dataset.world.rows["roster"] if row.programme == 2]  # type: ignore[attr-defined]


def test_an_undecided_finding_takes_new_evidence_and_keeps_the_old_in_its_history(
    store: Store, dataset: Dataset, intake: FeedIntake, tokenizer: Tokenizer
) -> None:
    compare(store)
    book = FindingBook(store, clock=lambda: NOW)
    (tekun,) = book.find(FindingFilter(rules=("tekun_income",)))
    book.review(tekun.id, Action.START, reviewer="王五")
    person = next(p for p in _tekun_people(dataset) if tokenizer.token(p) == tekun.subject)
    world = World()
    world.wages(person, 80_000, Q2)
    world.load(intake, suffix="2")
    summary = compare(store)
    assert summary.counts["tekun_income"].updated == 1
    refreshed = book.get(tekun.id)
    assert refreshed.status is Status.UNDER_REVIEW and refreshed.evidence["total_fen"] == 240_000
    events = book.history(tekun.id)
    assert [e.kind for e in events] == ["review", "evidence"]
    with store.session() as session:
        detail = session.scalar(select(FindingEventRow.detail).where(FindingEventRow.kind == "evidence"))
    assert detail is not None and '"total_fen":210000' in detail
    assert book.find(FindingFilter(rules=("tekun_income",))) == [refreshed]


def test_a_run_can_be_limited_to_a_region(store: Store, dataset: Dataset) -> None:
    compare(store, region="440308")
    localities = {f.locality for f in FindingBook(store).find(FindingFilter(limit=1000))}
    assert localities == {"440308"}


def test_rules_whose_feeds_have_not_arrived_are_skipped(store: Store, intake: FeedIntake) -> None:
    world = World()
    household = world.household("110105", 2)
    world.death(household[1], "2025-05-01")
    world.load(intake)
    summary = compare(store)
    assert summary.counts["member_died"].new == 1
    assert "second_home" in summary.skipped and "property" in summary.skipped["second_home"]
    assert set(summary.counts) | set(summary.skipped) == {r.code for r in load_rules().region("").rules}


def test_findings_are_routed_to_the_bureau_of_their_locality(store: Store, dataset: Dataset) -> None:
    registry = Registry(store)
    registry.add_member(BUREAU_OF["110105"], kind="civil-affairs", name="朝阳区民政局", jurisdictions=("110105",))
    compare(store)
    by_locality = {(f.locality, f.bureau) for f in FindingBook(store).find(FindingFilter(limit=1000))}
    assert ("110105", BUREAU_OF["110105"]) in by_locality
    assert ("440308", None) in by_locality  # no bureau registered there yet
    register_bureaus(store)
    compare(store)  # undecided findings follow the registry
    assert {f.bureau for f in FindingBook(store).find(FindingFilter(locality_prefix="440308"))} == {BUREAU_OF["440308"]}


def test_the_comparison_is_set_based(store: Store, intake: FeedIntake) -> None:
    """As many statements for ten households as for a hundred: no loop over rows in Python."""

    def statements_for(households: int, suffix: str) -> int:
        world = World()
        for _ in range(households):
            members = world.household("110105", 2)
            world.wages(members[0], 200_000, Q2)
            world.death(members[1], "2025-05-01")
        world.load(intake, suffix=suffix)
        count = 0

        def counter(*args: Any) -> None:
            nonlocal count
            count += 1

        summary = compare_watched(store, counter)
        assert summary.counts["member_died"].new == households
        return count

    assert statements_for(10, "small") == statements_for(100, "large")


def test_a_region_that_looks_further_back_keeps_its_longer_window(store: Store, dataset: Dataset) -> None:
    """130629 averages wages over six months where the default looks at three: its findings still count six
    months of records (the wage stage keeps the half year for that county's localities only)."""
    compare(store)
    county = [
        f
        for f in FindingBook(store, clock=lambda: NOW).find(FindingFilter(limit=1000))
        if f.rule == "income_over_standard" and f.locality == "130629"
    ]
    assert county and all(f.evidence["months"] == 6 and f.evidence["records"] == 6 for f in county)


def test_household_sizes_are_counted_through_the_household_index(store: Store, dataset: Dataset) -> None:
    """Per-capita rules count the members of the households they may flag, read from the roster's household
    index, not by walking the whole roster (SQLite's plan shows it)."""
    if store.dialect != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    plans: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO cmp_sizes"):
            plans.extend(row[-1] for row in cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters))

    summary = compare_watched(store, explain)
    assert summary.counts["income_over_standard"].new > 0
    assert any("COVERING INDEX ix_feed_rosters_by_person_household" in step for step in plans), plans


def test_postgresql_looks_the_households_up_in_the_order_of_the_household_index(store: Store, dataset: Dataset) -> None:
    """Sorted rather than hashed, the flagged households meet the index in its own order, each page read once."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite's plan is checked above")
    summary, plans = compare_explained(store, "CREATE TEMPORARY TABLE cmp_sizes")
    assert summary.counts["income_over_standard"].new > 0
    assert any("ix_feed_rosters_by_person_household" in line for line in plans), plans
    assert any("Unique" in line for line in plans), plans
    assert not any("HashAggregate" in line for line in plans), plans


def test_postgresql_fills_each_step_with_a_statement_its_parallel_workers_may_run(
    store: Store, dataset: Dataset
) -> None:
    """Each step's table comes from ``CREATE TABLE AS``, whose SELECT PostgreSQL may split among parallel workers
    (``INSERT … SELECT`` never runs in parallel; at full size the stages then take about half as long on two
    cores, ``bench/comparison.py``); its index is built once the rows are in."""
    if store.dialect != "postgresql":
        pytest.skip("parallel query is PostgreSQL's")
    statements: list[str] = []

    def collect(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(" ".join(statement.split()))

    summary = compare_watched(store, collect)
    assert summary.counts["income_over_standard"].new > 0
    for table in ("cmp_repeated", "cmp_stage_wage", "cmp_stage_property", "cmp_sizes"):
        filled = [
            i
            for i, s in enumerate(statements)
            if s.startswith(f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS SELECT ")
        ]
        indexed = [
            i for i, s in enumerate(statements) if s.startswith("CREATE") and f'INDEX "ix_{table}" ON "{table}"' in s
        ]
        assert len(filled) == 1 and len(indexed) == 1 and filled[0] < indexed[0], table
    assert not [s for s in statements if s.startswith("INSERT INTO cmp_stage") or s.startswith("INSERT INTO cmp_sizes")]


def _relations_in_join_order(plan: dict[str, Any]) -> list[str]:
    """The tables a plan reads, outermost loop first (each node's children left to right)."""
    own = [plan["Relation Name"]] if "Relation Name" in plan else []
    return own + [name for child in plan.get("Plans", []) for name in _relations_in_join_order(child)]


def test_postgresql_looks_each_matched_person_up_in_the_roster_before_reading_their_records(
    store: Store, dataset: Dataset
) -> None:
    """A stage walks the matched persons, looks each one up in the roster (whose conditions drop most), then
    reads the records of those left. Misjudging how many records a person has, PostgreSQL would otherwise
    read the records first and look the roster up once a record: twelve times as often for a year of monthly
    pensions (0.18 instead of 0.09 s at full size), so the stage keeps the join order it is written in."""
    if store.dialect != "postgresql":
        pytest.skip("the join order is PostgreSQL's planner's choice")
    orders: dict[str, list[str]] = {}
    limits: set[str] = set()

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        head = "CREATE TEMPORARY TABLE cmp_stage_"
        if statement.startswith(head):
            select_part = statement.partition(" AS ")[2]
            plan = cursor.connection.execute("EXPLAIN (FORMAT JSON) " + select_part, parameters).fetchone()[0]
            orders[statement[len(head) :].split()[0]] = _relations_in_join_order(plan[0]["Plan"])
            # At this size the planner's estimates are right anyway: what holds the order at full size is this.
            limits.add(cursor.connection.execute("SHOW join_collapse_limit").fetchone()[0])

    summary = compare_watched(store, explain)
    assert summary.counts["state_salaried"].new > 0
    assert {"pension", "wage", "death"} <= set(orders)
    assert limits == {"1"}
    for kind, order in orders.items():
        assert order.index("feed_roster_matches") < order.index("feed_rosters_by_person"), (kind, order)
        feed = next(
            n for n in order if n.startswith("feed_") and n not in ("feed_roster_matches", "feed_rosters_by_person")
        )
        assert order.index("feed_rosters_by_person") < order.index(feed), (kind, order)


def test_postgresql_probes_the_by_person_tables_by_their_key_alone(store: Store, dataset: Dataset) -> None:
    """The stages probe the roster and each feed by (version, token); on PostgreSQL the primary keys include the
    compared values (migration 0013), so once the pages are all-visible the probes never visit the table."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite's by-person tables are their key (WITHOUT ROWID)")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE feed_rosters_by_person, feed_wages_by_person, feed_pensions_by_person"))
    summary, plans = compare_explained(store, "CREATE TEMPORARY TABLE cmp_stage_")
    assert summary.counts["state_salaried"].new > 0
    only = [line for line in plans if "Index Only Scan using pk_feed_" in line]
    for table in ("feed_rosters_by_person", "feed_wages_by_person", "feed_pensions_by_person"):
        assert any(f"pk_{table} on {table}" in line for line in only), (table, plans)
    assert not any("Index Scan using pk_feed_" in line for line in plans), plans


def _temp_buffers_while_staging(store: Store) -> tuple[Any, set[str]]:
    seen: set[str] = set()

    def show(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("CREATE TEMPORARY TABLE cmp_stage_"):
            seen.add(cursor.connection.execute("SHOW temp_buffers").fetchone()[0])

    return compare_watched(store, show), seen


def test_postgresql_keeps_the_stages_in_the_sessions_own_buffers(store: Store, dataset: Dataset) -> None:
    """256 MB for temporary tables: in the default 8 MB, the stages of a million-person run were written out
    while filled and read back by every rule."""
    if store.dialect != "postgresql":
        pytest.skip("temp_buffers is PostgreSQL's")
    summary, seen = _temp_buffers_while_staging(store)
    assert summary.counts["income_over_standard"].new > 0
    assert seen == {"256MB"}


def test_a_postgresql_session_past_its_first_temporary_table_runs_in_the_buffers_it_has(
    database_url: str, dataset: Dataset
) -> None:
    """The setting is fixed at a session's first temporary table: a pooled connection that had one already is
    refused it, and the run goes on in what that session has (the refusal is inside a savepoint)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("temp_buffers is PostgreSQL's")
    store = Store(make_engine(database_url, poolclass=StaticPool))
    try:
        with store.engine.begin() as connection:
            connection.execute(text("CREATE TEMPORARY TABLE used_before (n integer)"))
            connection.execute(text("INSERT INTO used_before VALUES (1)"))
        summary, seen = _temp_buffers_while_staging(store)
        assert summary.counts["income_over_standard"].new > 0
        assert seen == {"8MB"}
    finally:
        store.dispose()


def _rule_statements(store: Store, rules: RuleBook) -> tuple[Any, list[str]]:
    statements: list[str] = []

    def collect(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO cmp_hits"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", collect)
    try:
        summary = run_comparison(store, rules, as_of=AS_OF, clock=lambda: NOW)
    finally:
        event.remove(store.engine, "before_cursor_execute", collect)
    return summary, statements


def test_a_rule_is_one_statement_for_the_regions_that_change_only_its_figures(store: Store, dataset: Dataset) -> None:
    """The county file changes figures (its standard, a window, a bound): each rule runs once for both regions,
    and each row takes the figures of the region governing its locality, in its conditions and its evidence."""
    rules = load_rules()
    summary, statements = _rule_statements(store, rules)
    assert len(statements) == len(rules.region("").rules) == len(summary.counts)
    income = {
        f.locality: f.evidence
        for f in FindingBook(store, clock=lambda: NOW).find(FindingFilter(limit=1000))
        if f.rule == "income_over_standard"
    }
    figures = ("region", "standard_fen", "above_fen", "months", "window")
    assert [income["130629"][name] for name in figures] == ["130629", 70_000, 70_000, 6, ["2025-01-01", "2025-06-30"]]
    assert [income["110105"][name] for name in figures] == ["", 62_800, 62_800, 3, ["2025-04-01", "2025-06-30"]]


def test_a_region_that_changes_what_a_rule_examines_gets_a_statement_of_its_own(
    store: Store, dataset: Dataset, tmp_path: Path
) -> None:
    """Programmes are not a figure: a county that examines only 低保边缘 households for medical spending runs
    that rule apart, and its 低保 household is no longer flagged while the default's findings stand."""
    shutil.copy(packaged_rules_dir() / "130629.toml", tmp_path / "130629.toml")
    with (tmp_path / "130629.toml").open("a", encoding="utf-8") as county:
        county.write('programmes = ["dibao_edge"]\n')  # appended to the file's last table: medical_spending
    rules = load_rules(tmp_path)
    assert rules.region("130629").rule("medical_spending").programmes == ("dibao_edge",)
    summary, statements = _rule_statements(store, rules)
    assert len(statements) == len(rules.region("").rules) + 1
    found_now = found(store)["medical_spending"]
    assert {locality for locality, _, _ in found_now} == {"110105"}
    assert summary.counts["medical_spending"].new == len(found_now) > 0


@pytest.mark.parametrize(
    ("statement", "used", "avoided"),
    [
        ("INSERT INTO cmp_matched", "HashAggregate", "Sort"),
        ("INSERT INTO finding_sightings", "Anti Join", "Nested Loop"),
    ],
)
def test_postgresql_plans_the_rerun_merge_by_hashing(
    store: Store, dataset: Dataset, statement: str, used: str, avoided: str
) -> None:
    """On a re-run every hit has a finding.

    - The match groups each hit with its subject's earlier findings. PostgreSQL estimates the four-column join at
      one row and would sort the groups (0.23 s of 0.62 s at full size).
    - The sightings are inserted into a table that was empty: as a nested loop, the anti-join that finds those
      missing would scan it again for each row, pages the statement itself is adding included (quadratic: 75 s
      at full size)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite walks the hits' key in order and upserts its sightings")
    compare(store)
    again, plans = compare_explained(store, statement)
    assert again.total("unchanged") > 0
    assert any(used in line for line in plans), plans
    assert not any(avoided in line for line in plans), plans


def test_postgresql_runs_one_comparison_at_a_time(store: Store, dataset: Dataset) -> None:
    """A run waits for the one before to commit, as the write lock makes it on SQLite: the merge may then insert
    the sightings it knows to be missing without an upsert."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite's write lock already serialises runs")
    from hub.findings._engine import RUN_LOCK_KEY

    with store.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY})
        with ThreadPoolExecutor(1) as pool:
            run = pool.submit(compare, store)
            time.sleep(0.5)
            assert not run.done()
            with store.session() as session:
                statuses = session.scalars(select(ComparisonRunRow.status)).all()
            assert statuses == ["running"]
            holder.rollback()
            summary = run.result(timeout=60)
    assert summary.total("new") > 0


def test_a_postgresql_run_gives_up_on_a_run_that_never_finishes(
    store: Store, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stuck in its transaction holds the lock: the next one waits ``RUN_LOCK_WAIT``, then fails on record
    with a reason, and the one after runs once the lock is free."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite waits its busy timeout for the write lock")
    from hub.findings import _engine

    monkeypatch.setattr(_engine, "RUN_LOCK_WAIT", "300ms")
    with store.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _engine.RUN_LOCK_KEY})
        with pytest.raises(FailedPrecondition, match="still in progress after 300ms"):
            compare(store)
    with store.session() as session:
        failed = session.scalars(select(ComparisonRunRow)).one()
    assert failed.status == "failed" and "gave up waiting" in (failed.error or "")
    assert compare(store).total("new") > 0


@pytest.mark.postgres
def test_sqlite_and_postgresql_find_the_same(
    tmp_path: Path, sqlite_template: Path, postgres_url: str, tokenizer: Tokenizer, cipher: FieldCipher
) -> None:
    from tests.conftest import _truncate_all

    target = tmp_path / "hub.db"
    shutil.copyfile(sqlite_template, target)
    stores = [Store(make_engine(f"sqlite:///{target}")), Store(make_engine(postgres_url))]
    _truncate_all(stores[1])
    data = build()
    results = []
    try:
        for store in stores:
            data.world.load(FeedIntake(store, tokenizer, cipher, clock=lambda: NOW))
            compare(store)
            results.append(
                sorted(
                    (f.rule, f.locality, f.household, f.subject, f.programme, f.evidence_key, dict(f.evidence))
                    for f in FindingBook(store).find(FindingFilter(limit=1000))
                )
            )
    finally:
        for store in stores:
            store.dispose()
    assert results[0] == results[1] and len(results[0]) == sum(len(h) for h in data.expected.values())

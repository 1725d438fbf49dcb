"""Comparisons and findings (数据比对和信息预警): rules as data, run set-based in the database.

Each month the rosters (低保, 特困, 低保边缘, 防返贫监测, ...) are compared with the departments' feeds under
per-region rules (``rules/default.toml`` and ``rules/<prefix>.toml``). A hit becomes a finding (预警线索) with
its evidence, routed to the civil-affairs bureau of the household's locality, due in a configurable number of
days, and reviewed by a person: open → under review → confirmed | dismissed. The core, free of transport::

    rules = load_rules()                                      # or load_rules(Path("my-rules"))
    summary = run_comparison(store, rules, as_of=dt.date(2025, 6, 30))   # idempotent: re-run freely
    book = FindingBook(store)
    for finding in book.find(FindingFilter(statuses=(Status.OPEN,)), bureau="11130629MB1234567X"):
        book.review(finding.id, Action.START, reviewer="张三", bureau="11130629MB1234567X")
    report = statistics_report(store, period_end=dt.date(2025, 7, 14))
    report.to_xlsx(Path("report.xlsx")); report.chart_png(Path("trend.png"))

``findings_handlers`` serves the Findings RPCs; ``monthly_comparison`` and ``statistics_job`` are bodies for
the scheduler, and ``DatabaseFindingSink`` lets other jobs raise findings into the same table.
"""

from hub.findings._book import Action, Finding, FindingBook, FindingEvent, FindingFilter
from hub.findings._engine import ComparisonSummary, RuleCounts, run_comparison
from hub.findings._export import ExportFormat, write_findings
from hub.findings._handlers import findings_handlers, rule_titles
from hub.findings._jobs import DatabaseFindingSink, monthly_comparison, rules_for, statistics_job
from hub.findings._models import Status
from hub.findings._names import PersonNames
from hub.findings._overpayment import Overpayment, overlap_months, overpayment
from hub.findings._rules import RuleBook, load_rules, parse_rule, parse_rules
from hub.findings._statistics import StatisticsReport, StatisticsRow, TrendPoint, report_period, statistics_report

__all__ = [
    "Action",
    "ComparisonSummary",
    "DatabaseFindingSink",
    "ExportFormat",
    "Finding",
    "FindingBook",
    "FindingEvent",
    "FindingFilter",
    "Overpayment",
    "PersonNames",
    "RuleBook",
    "RuleCounts",
    "StatisticsReport",
    "StatisticsRow",
    "Status",
    "TrendPoint",
    "findings_handlers",
    "load_rules",
    "monthly_comparison",
    "overlap_months",
    "overpayment",
    "parse_rule",
    "parse_rules",
    "report_period",
    "rule_titles",
    "rules_for",
    "run_comparison",
    "statistics_job",
    "statistics_report",
    "write_findings",
]

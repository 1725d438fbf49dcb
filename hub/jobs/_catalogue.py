"""The hub's jobs, built from what the hub has: the catalogue ``build_jobs`` and the schedule that fires them.

A job that needs something the hub was built without (the cross-check needs the routing and the hub's own
questions; the checkpoint needs the audit log with the hub's key) is simply not in the catalogue, and its
default schedule is dropped with it. A cron for a job that exists nowhere is a configuration error.

The findings engine (``hub.findings``) lives in the same database, so it is always there: the monthly
comparison and the statistics report are its bodies, and every job that raises findings raises them into its
table, where the owning bureau reviews them. ``jobs.bodies`` may still replace a body or add a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.asking import HubQuestions
from hub.audit import AuditLog
from hub.config import DEFAULT_JOB_CRON, Settings
from hub.errors import InvalidArgument
from hub.feeds import scheduled_pulls
from hub.findings import DatabaseFindingSink, monthly_comparison, statistics_job
from hub.jobs import _bodies
from hub.jobs._cross_check import CrossCheck
from hub.jobs._enrolments import EnrolmentSource, RosterEnrolments
from hub.jobs._feed_checks import FeedFacts
from hub.jobs._findings import FindingSink
from hub.jobs._housekeeping import AuditCheckpoint, FeedStaleness, RetentionPurge
from hub.jobs._job import Job
from hub.jobs._recheck import PeriodicRecheck
from hub.privacy import Secrets
from hub.registry import Directory
from hub.store import Store

BUILT_IN = frozenset({*DEFAULT_JOB_CRON, "audit_checkpoint", "retention_purge"})


@dataclass
class JobEnvironment:
    """What the built-in jobs draw on; absent parts leave the jobs that need them out."""

    store: Store
    settings: Settings
    directory: Directory | None = None
    questions: HubQuestions | None = None
    secrets: Secrets | None = None
    audit: AuditLog | None = None
    findings: FindingSink | None = None
    enrolments: EnrolmentSource | None = None

    def finding_sink(self) -> FindingSink:
        """The findings table of the hub's database, unless the environment brings its own sink (tests)."""
        if self.findings is None:
            self.findings = DatabaseFindingSink(self.store, due_days=self.settings.findings.due_days)
        return self.findings


def build_jobs(env: JobEnvironment) -> dict[str, Job]:
    """Every job this hub can run, by name: the built-ins it has the parts for, then ``jobs.bodies``."""
    jobs: dict[str, Job] = {}
    if env.secrets is not None:
        facts = FeedFacts(env.store, env.secrets.tokenizer)
        enrolments = env.enrolments or RosterEnrolments(env.store, env.secrets.cipher)
        if env.questions is not None and env.directory is not None:
            jobs["annual_cross_check"] = CrossCheck(
                env.questions, env.directory, enrolments, env.finding_sink(), env.secrets.tokenizer, facts, env.audit
            )
        jobs["periodic_recheck"] = PeriodicRecheck(enrolments, facts, env.finding_sink(), env.directory)
    jobs["monthly_comparison"] = _bodies.BodyJob(
        "monthly_comparison", monthly_comparison, "月度数据比对: every roster against the current feeds, rules as data"
    )
    jobs["statistics"] = _bodies.BodyJob(
        "statistics", statistics_job, "统计报表 on the 14th and 28th: coverage and findings, as CSV, XLSX and PNG"
    )
    if env.audit is not None and env.audit.signer is not None:
        jobs["audit_checkpoint"] = AuditCheckpoint(env.audit)
    jobs["retention_purge"] = RetentionPurge(env.audit)
    jobs["feed_staleness"] = FeedStaleness()
    if env.settings.feeds.pull_configs:
        jobs["feed_pull"] = _bodies.BodyJob(
            "feed_pull", scheduled_pulls, "部门数据拉取: every configured SQL table or CSV drop, uploaded as a feed"
        )
    for name, reference in env.settings.jobs.bodies.items():
        jobs[name] = _bodies.load(name, reference)
    return jobs


def schedule_for(settings: Settings, jobs: Mapping[str, Job]) -> dict[str, str]:
    """Job name → cron for the jobs in ``jobs`` (empty: on demand only)."""
    wanted = settings.jobs.schedule(settings.audit)
    for name in wanted:
        if name not in jobs and name not in BUILT_IN:
            raise InvalidArgument(f"jobs.cron.{name}", f"no job is named {name!r} (jobs: {', '.join(sorted(jobs))})")
    return {name: cron for name, cron in wanted.items() if name in jobs}

"""Small jobs that keep the hub in order: audit checkpoints, retention purge, feed staleness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hub.audit import AuditLog
from hub.errors import InvalidArgument
from hub.feeds import feed_status
from hub.jobs._context import JobContext
from hub.jobs._job import JobOutcome
from hub.jobs._lease import purge_items
from hub.policy import ReplayGuard

#: PIPL Arts. 55-56: processing records are kept at least three years (as ``audit.entry_retention_days``).
MIN_ITEM_RETENTION_DAYS = 1096


@dataclass
class AuditCheckpoint:
    """Sign a checkpoint (Merkle tree head) over the audit log, so recent entries get a hub signature."""

    audit: AuditLog
    name: str = "audit_checkpoint"
    description: str = "sign a checkpoint (Merkle tree head) over the audit log"

    async def run(self, context: JobContext) -> JobOutcome:
        signed = await context.in_thread(self.audit.checkpoint)
        return JobOutcome(report={"tree_size": signed.tree_size, "root_hash": signed.root_hash.hex()})


@dataclass
class RetentionPurge:
    """Drop what the law lets go: audit message bodies past retention (hashes stay), the replay memory of
    expired messages, and the per-person records of job runs past ``jobs.item_retention_days``.

    The per-person records are processing records: a ``jobs.item_retention_days`` under three years is refused
    (the run fails naming the setting, and purges nothing), never obeyed. Bodies are not the log: their entries
    (hashes, headers, subject tokens) stay, so ``audit.body_retention_days`` may be short (PIPL Art. 19)."""

    audit: AuditLog | None
    name: str = "retention_purge"
    description: str = "purge audit bodies, replay memory and old job-run items past retention"

    async def run(self, context: JobContext) -> JobOutcome:
        settings = context.settings
        if settings.jobs.item_retention_days < MIN_ITEM_RETENTION_DAYS:
            raise InvalidArgument(
                "jobs.item_retention_days",
                f"{settings.jobs.item_retention_days} days is shorter than the {MIN_ITEM_RETENTION_DAYS} days "
                "(3 years) that processing records must be kept (PIPL Arts. 55-56); nothing was purged",
            )
        now = context.scheduled_for
        report: dict[str, Any] = {}
        if self.audit is not None:
            body_age = dt.timedelta(days=settings.audit.body_retention_days)
            report["audit_bodies"] = await context.in_thread(self.audit.purge_bodies, body_age)
        report["replay_ids"] = await context.in_thread(ReplayGuard(context.store).purge, now)
        items_before = now - dt.timedelta(days=settings.jobs.item_retention_days)
        report["job_run_items"] = await context.in_thread(purge_items, context.store, items_before)
        for name, count in report.items():
            context.count(name, count)
        return JobOutcome(report=report)


@dataclass
class FeedStaleness:
    """Flag departmental feeds whose current version is older than allowed: comparisons would use old data."""

    name: str = "feed_staleness"
    description: str = "flag departmental feeds older than feeds.max_age_days"

    async def run(self, context: JobContext) -> JobOutcome:
        feeds = await context.in_thread(feed_status, context.store, context.settings.feeds)
        stale = [f for f in feeds if f.stale]
        for feed in stale:
            context.log.warning(
                "feed %s/%s/%s is stale: %d days old", feed.department, feed.supplier, feed.kind, feed.age.days
            )
        context.count("feeds", len(feeds))
        context.count("stale", len(stale))
        listed = [
            {
                "department": f.department,
                "supplier": f.supplier,
                "kind": f.kind,
                "age_days": round(f.age.total_seconds() / 86400, 1),
            }
            for f in stale
        ]
        return JobOutcome(report={"feeds": len(feeds), "stale": listed})

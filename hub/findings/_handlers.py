"""The Findings service, answered by the hub (thin: the engine and the book do the work).

The calling bureau is the verified envelope's sender: List, Review and Export see only the findings routed to
it, whatever the request says. RunComparison is for the operator's tools and schedulers (grant it sparingly);
it runs in a worker thread, as do the reads, so the event loop keeps serving while the database works.
A review is a few statements, run in the transaction that also records it in the audit log (an effect handler).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from google.protobuf.message import Message as ProtoMessage

from hub import services
from hub.envelope import Opened
from hub.errors import InvalidArgument
from hub.findings._book import FindingBook, FindingFilter
from hub.findings._engine import DEFAULT_DUE_DAYS, china_today, run_comparison
from hub.findings._export import write_findings
from hub.findings._names import PersonNames
from hub.findings._proto import (
    ACTION_BY_WIRE,
    FORMAT_BY_WIRE,
    finding_to_proto,
    parse_day,
    query_from_proto,
    summary_to_proto,
)
from hub.findings._rules import RuleBook
from hub.identifiers import validate_region_prefix
from hub.privacy import FieldCipher
from hub.store import Store
from hub.store._base import utcnow
from hub.v1 import findings_pb2 as pb

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from hub.exchange import EffectHandler, LocalHandler
    from hub.policy import Call


def rule_titles(rules: RuleBook) -> dict[str, str]:
    """Rule titles for ``title_of``: ``code`` → the first rule file's title (the default's), and
    ``region:code`` → the title of each region whose file renames the rule, shown on that region's findings."""
    titles: dict[str, str] = {}
    for region in rules.regions:
        for rule in region.rules:
            titles.setdefault(rule.code, rule.title)
            if titles[rule.code] != rule.title:
                titles[f"{region.prefix}:{rule.code}"] = rule.title
    return titles


def findings_handlers(
    store: Store,
    rules: RuleBook,
    *,
    cipher: FieldCipher | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
    clock: Callable[[], dt.datetime] = utcnow,
) -> tuple[dict[str, LocalHandler], dict[str, EffectHandler]]:
    """The Findings service: (local handlers, effect handlers) by service."""
    book = FindingBook(store, clock=clock)
    titles = rule_titles(rules)

    async def run(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(pb.ComparisonRun)
        region = validate_region_prefix(body.region_code, "region_code") if body.region_code else None
        as_of = parse_day(body.as_of, "as_of") if body.as_of else china_today(clock())
        summary = await asyncio.to_thread(
            run_comparison, store, rules, as_of=as_of, region=region, due_days=due_days, clock=clock
        )
        return summary_to_proto(summary)

    def listed(query: FindingFilter, bureau: str) -> pb.FindingList:
        found = book.find(query, bureau=bureau)
        names = PersonNames(store, cipher)
        names.load([f.household for f in found] + [f.person for f in found])
        today = book.today()
        findings = [
            finding_to_proto(
                f,
                names=names,
                titles=titles,
                today=today,
                history=book.history(f.id, bureau=bureau) if query.ids else (),
            )
            for f in found
        ]
        more = len(found) == query.limit
        return pb.FindingList(findings=findings, next_after_id=found[-1].id if more else 0)

    async def list_findings(request: Opened, call: Call) -> ProtoMessage:
        query = query_from_proto(request.body(pb.FindingQuery))
        return await asyncio.to_thread(listed, query, request.sender)

    def reviewed(body: pb.FindingReview, bureau: str, session: Session) -> pb.Finding:
        action = ACTION_BY_WIRE.get(body.action)
        if action is None:
            raise InvalidArgument("action", "choose start, confirm or dismiss")
        finding = book.review(
            body.finding_id,
            action,
            reviewer=body.reviewer,
            reason=body.reason,
            bureau=bureau,
            member=bureau,
            session=session,
        )
        names = PersonNames(store, cipher)
        names.load([finding.household, finding.person])
        history = book.history(finding.id, session=session)
        return finding_to_proto(finding, names=names, titles=titles, today=book.today(), history=history)

    def review(request: Opened, call: Call, connection: Connection) -> ProtoMessage:
        with store.joined(connection) as session:
            return reviewed(request.body(pb.FindingReview), request.sender, session)

    def exported(body: pb.FindingExportRequest, bureau: str) -> pb.FindingExport:
        fmt = FORMAT_BY_WIRE.get(body.format)
        if fmt is None:
            raise InvalidArgument("format", "choose CSV or XLSX")
        query = query_from_proto(body.query)
        buffer = io.BytesIO()
        rows = write_findings(
            book.iterate(query, bureau=bureau),
            buffer,
            fmt,
            names=PersonNames(store, cipher, reveal=body.with_id_numbers),
            titles=titles,
            today=book.today(),
        )
        today = book.today().strftime("%Y%m%d")
        return pb.FindingExport(
            content=buffer.getvalue(),
            filename=f"findings-{today}.{fmt.value}",
            media_type=fmt.media_type,
            rows=rows,
        )

    async def export(request: Opened, call: Call) -> ProtoMessage:
        return await asyncio.to_thread(exported, request.body(pb.FindingExportRequest), request.sender)

    local: dict[str, LocalHandler] = {
        services.FINDINGS_RUN: run,
        services.FINDINGS_LIST: list_findings,
        services.FINDINGS_EXPORT: export,
    }
    return local, {services.FINDINGS_REVIEW: review}

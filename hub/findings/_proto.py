"""The findings core's values as ``hub.v1`` messages and back (no gRPC here)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence

from hub.envelope import timestamp
from hub.errors import InvalidArgument
from hub.feeds._kinds import enum_codes
from hub.findings._book import Action, Finding, FindingEvent, FindingFilter
from hub.findings._engine import ComparisonSummary
from hub.findings._export import ExportFormat
from hub.findings._labels import title_of
from hub.findings._models import Status
from hub.findings._names import PersonNames
from hub.findings._rules import Severity, Signal
from hub.v1 import findings_pb2 as pb
from hub.v1 import verification_pb2 as vpb

STATUS_WIRE: dict[Status, pb.FindingStatus] = {
    Status.OPEN: pb.FINDING_STATUS_OPEN,
    Status.UNDER_REVIEW: pb.FINDING_STATUS_UNDER_REVIEW,
    Status.CONFIRMED: pb.FINDING_STATUS_CONFIRMED,
    Status.DISMISSED: pb.FINDING_STATUS_DISMISSED,
}
_STATUS_BY_WIRE: dict[int, Status] = {wire: status for status, wire in STATUS_WIRE.items()}
SIGNAL_WIRE: dict[Signal, pb.FindingSignal] = {
    Signal.EXCLUSION: pb.FINDING_SIGNAL_EXCLUSION,
    Signal.DISCOVERY: pb.FINDING_SIGNAL_DISCOVERY,
    Signal.DUPLICATE: pb.FINDING_SIGNAL_DUPLICATE,
}
SEVERITY_WIRE: dict[str, pb.FindingSeverity] = {
    Severity.HIGH.value: pb.FINDING_SEVERITY_HIGH,
    Severity.MEDIUM.value: pb.FINDING_SEVERITY_MEDIUM,
    Severity.LOW.value: pb.FINDING_SEVERITY_LOW,
}
ACTION_BY_WIRE: dict[int, Action] = {
    pb.REVIEW_ACTION_START: Action.START,
    pb.REVIEW_ACTION_CONFIRM: Action.CONFIRM,
    pb.REVIEW_ACTION_DISMISS: Action.DISMISS,
}
FORMAT_BY_WIRE: dict[int, ExportFormat] = {
    pb.EXPORT_FORMAT_CSV: ExportFormat.CSV,
    pb.EXPORT_FORMAT_XLSX: ExportFormat.XLSX,
}
PROGRAMME_WIRE: dict[str, int] = {code: number for number, code in enum_codes(vpb.Programme.DESCRIPTOR).items()}


def status_from_wire(wire: int, field: str = "statuses") -> Status:
    try:
        return _STATUS_BY_WIRE[wire]
    except KeyError:
        raise InvalidArgument(field, "name a finding status (open, under review, confirmed, dismissed)") from None


def parse_day(value: str, field: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(field, f"{value[:24]!r} is not a date written YYYY-MM-DD") from None


def query_from_proto(query: pb.FindingQuery) -> FindingFilter:
    if query.page_size < 0 or query.after_id < 0:
        raise InvalidArgument("page_size", "page_size and after_id cannot be negative")
    return FindingFilter(
        statuses=tuple(status_from_wire(s) for s in query.statuses),
        rules=tuple(query.rules),
        locality_prefix=query.locality_prefix,
        overdue_only=query.overdue_only,
        ids=tuple(query.finding_ids),
        after_id=query.after_id,
        limit=query.page_size or 100,
    )


def event_to_proto(event: FindingEvent) -> pb.FindingEvent:
    return pb.FindingEvent(
        at=timestamp(event.at),
        kind=event.kind,
        from_status=STATUS_WIRE[event.from_status],
        to_status=STATUS_WIRE[event.to_status],
        actor=event.actor,
        member=event.member or "",
        reason=event.reason or "",
    )


def finding_to_proto(
    finding: Finding,
    *,
    names: PersonNames,
    titles: Mapping[str, str],
    today: dt.date,
    history: Sequence[FindingEvent] = (),
) -> pb.Finding:
    message = pb.Finding(
        finding_id=finding.id,
        rule=finding.rule,
        rule_title=title_of(titles, finding.rule, finding.region),
        signal=SIGNAL_WIRE[finding.signal],
        severity=SEVERITY_WIRE.get(finding.severity, pb.FINDING_SEVERITY_UNSPECIFIED),
        locality=finding.locality,
        programme=PROGRAMME_WIRE.get(finding.programme, 0),  # type: ignore[arg-type]
        household_head=names.show(finding.household),
        person=names.show(finding.person),
        status=STATUS_WIRE[finding.status],
        bureau=finding.bureau or "",
        due_on=finding.due_on.isoformat(),
        overdue=finding.overdue(today),
        raised_at=timestamp(finding.raised_at),
        evidence_json=json.dumps(finding.evidence, ensure_ascii=False, sort_keys=True),
        previous_finding_id=finding.previous or 0,
        reviewer=finding.reviewer or "",
        reviewed_by=finding.reviewed_by or "",
        reason=finding.reason or "",
        overpayment_fen=finding.overpayment_fen or 0,
        history=[event_to_proto(e) for e in history],
    )
    if finding.reviewed_at is not None:
        message.reviewed_at.CopyFrom(timestamp(finding.reviewed_at))
    return message


def summary_to_proto(summary: ComparisonSummary) -> pb.ComparisonResult:
    outcomes = [
        pb.RuleOutcome(
            rule=rule,
            new_findings=counts.new,
            reopened=counts.reopened,
            updated=counts.updated,
            unchanged=counts.unchanged,
        )
        for rule, counts in sorted(summary.counts.items())
    ]
    outcomes += [pb.RuleOutcome(rule=rule, skipped=why) for rule, why in sorted(summary.skipped.items())]
    return pb.ComparisonResult(
        run_id=summary.run_id,
        as_of=summary.as_of.isoformat(),
        region_code=summary.region,
        rules=outcomes,
        findings_raised=summary.total("new") + summary.total("reopened"),
        seconds=summary.seconds,
    )

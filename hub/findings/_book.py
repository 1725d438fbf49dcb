"""The findings of the bureaus (预警线索台账): read them, and move them through their review.

open → under review → confirmed | dismissed. Every step names the person who took it and, for a decision, why;
the comparison never takes one (no adverse outcome without a person's decision, PIPL Art. 24). A step is a
conditional UPDATE on the status it starts from, so two officers acting at once cannot both succeed. Confirming
a duplicate computes its overpayment from the two enrolments in its evidence.

A bureau sees only the findings routed to it: asking for another bureau's finding is answered as if it did not
exist.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.orm import Session

from hub.errors import FailedPrecondition, InvalidArgument, NotFound
from hub.findings._engine import china_today
from hub.findings._models import ACTIVE, FindingEventRow, FindingRow, Status
from hub.findings._overpayment import overpayment
from hub.findings._rules import Signal
from hub.store import Store
from hub.store._base import utcnow

MAX_PAGE = 1000
_REVIEWER_LENGTH = 100
_REASON_LENGTH = 2000


class Action(StrEnum):
    START = "start"
    CONFIRM = "confirm"
    DISMISS = "dismiss"


#: action → (status it starts from, status it leads to)
TRANSITIONS: dict[Action, tuple[Status, Status]] = {
    Action.START: (Status.OPEN, Status.UNDER_REVIEW),
    Action.CONFIRM: (Status.UNDER_REVIEW, Status.CONFIRMED),
    Action.DISMISS: (Status.UNDER_REVIEW, Status.DISMISSED),
}


def _sorted_keys(keys: str) -> list[str]:
    """Record keys ``version:row`` in numeric order (databases aggregate them in no particular order)."""
    parts = [k for k in keys.split(",") if k]
    return sorted(parts, key=lambda k: tuple(int(x) for x in k.split(":")))


def parse_evidence(text: str) -> dict[str, Any]:
    evidence: dict[str, Any] = json.loads(text)
    if isinstance(evidence.get("record_keys"), str):
        evidence["record_keys"] = _sorted_keys(evidence["record_keys"])
    return evidence


@dataclass(frozen=True)
class FindingEvent:
    at: dt.datetime
    kind: str
    from_status: Status
    to_status: Status
    actor: str
    member: str | None
    reason: str | None
    run: int | None


@dataclass(frozen=True)
class Finding:
    id: int
    rule: str
    region: str
    signal: Signal
    severity: str
    locality: str
    programme: str
    household: bytes
    person: bytes | None
    #: The person's token (person-level rules) or the household's.
    subject: bytes
    status: Status
    bureau: str | None
    due_on: dt.date
    raised_at: dt.datetime
    first_run: int
    #: The last run that raised it, refreshed its evidence or found it again unchanged.
    last_run: int
    previous: int | None
    evidence: Mapping[str, Any]
    evidence_key: str
    reviewer: str | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    reason: str | None
    overpayment_fen: int | None

    @classmethod
    def of(cls, row: FindingRow) -> Finding:
        return cls(
            id=row.id,
            rule=row.rule,
            region=row.region,
            signal=Signal(row.signal),
            severity=row.severity,
            locality=row.locality,
            programme=row.programme,
            household=row.household,
            person=row.person,
            subject=row.subject,
            status=Status(row.status),
            bureau=row.bureau,
            due_on=row.due_on,
            raised_at=row.raised_at,
            first_run=row.first_run,
            last_run=max(row.last_run, row.seen_run or 0),
            previous=row.previous,
            evidence=parse_evidence(row.evidence),
            evidence_key=row.evidence_key,
            reviewer=row.reviewer,
            reviewed_by=row.reviewed_by,
            reviewed_at=row.reviewed_at,
            reason=row.reason,
            overpayment_fen=row.overpayment_fen,
        )

    @property
    def active(self) -> bool:
        return self.status.value in ACTIVE

    def overdue(self, today: dt.date) -> bool:
        """Still undecided after its due date."""
        return self.active and self.due_on < today


@dataclass(frozen=True)
class FindingFilter:
    statuses: tuple[Status, ...] = ()
    rules: tuple[str, ...] = ()
    locality_prefix: str = ""
    overdue_only: bool = False
    ids: tuple[int, ...] = ()
    after_id: int = 0
    limit: int = 100

    def conditions(self, today: dt.date) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [FindingRow.id > self.after_id]
        if self.statuses:
            conditions.append(FindingRow.status.in_([s.value for s in self.statuses]))
        if self.rules:
            conditions.append(FindingRow.rule.in_(self.rules))
        if self.locality_prefix:
            conditions.append(FindingRow.locality.like(f"{self.locality_prefix}%"))
        if self.overdue_only:
            conditions += [FindingRow.status.in_(ACTIVE), FindingRow.due_on < today]
        if self.ids:
            conditions.append(FindingRow.id.in_(self.ids))
        return conditions


class FindingBook:
    """Reads and review steps over the findings in ``store``."""

    def __init__(self, store: Store, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def today(self) -> dt.date:
        return china_today(self.clock())

    # --- reading --------------------------------------------------------------------------------------------

    def get(self, finding_id: int, *, bureau: str | None = None) -> Finding:
        """One finding; ``bureau`` given, only if it is that bureau's (``NotFound`` otherwise)."""
        with self.store.session() as session:
            return Finding.of(self._row(session, finding_id, bureau))

    def find(self, query: FindingFilter = FindingFilter(), *, bureau: str | None = None) -> list[Finding]:
        """Findings matching ``query`` in id order (of ``bureau`` only, if given; the operator sees all)."""
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be between 1 and {MAX_PAGE}")
        statement = select(FindingRow).where(*query.conditions(self.today()))
        if bureau is not None:
            statement = statement.where(FindingRow.bureau == bureau)
        with self.store.session() as session:
            rows = session.scalars(statement.order_by(FindingRow.id).limit(query.limit)).all()
            return [Finding.of(row) for row in rows]

    def iterate(self, query: FindingFilter = FindingFilter(), *, bureau: str | None = None) -> Iterable[Finding]:
        """Every finding matching ``query``, page by page (for exports)."""
        after = query.after_id
        while True:
            page = self.find(
                FindingFilter(
                    query.statuses, query.rules, query.locality_prefix, query.overdue_only, query.ids, after, MAX_PAGE
                ),
                bureau=bureau,
            )
            yield from page
            if len(page) < MAX_PAGE:
                return
            after = page[-1].id

    def history(
        self, finding_id: int, *, bureau: str | None = None, session: Session | None = None
    ) -> list[FindingEvent]:
        with self.store.session_or(session) as session:
            self._row(session, finding_id, bureau)
            rows = session.scalars(
                select(FindingEventRow).where(FindingEventRow.finding == finding_id).order_by(FindingEventRow.id)
            ).all()
            return [
                FindingEvent(
                    at=row.at,
                    kind=row.kind,
                    from_status=Status(row.from_status),
                    to_status=Status(row.to_status),
                    actor=row.actor,
                    member=row.member,
                    reason=row.reason,
                    run=row.run,
                )
                for row in rows
            ]

    # --- review ---------------------------------------------------------------------------------------------

    def review(
        self,
        finding_id: int,
        action: Action,
        *,
        reviewer: str,
        reason: str = "",
        bureau: str | None = None,
        member: str | None = None,
        session: Session | None = None,
    ) -> Finding:
        """Take one review step as ``reviewer`` (a person), for ``member`` (the bureau the person acts for).

        ``bureau`` given, the finding must be that bureau's. Confirming and dismissing need a reason.
        ``session``: write in the caller's transaction (the one that also records the review in the audit log).
        """
        reviewer, reason = reviewer.strip(), reason.strip()
        if not reviewer:
            raise InvalidArgument("reviewer", "name the person who reviews the finding")
        if len(reviewer) > _REVIEWER_LENGTH:
            raise InvalidArgument("reviewer", f"at most {_REVIEWER_LENGTH} characters")
        if action is not Action.START and not reason:
            raise InvalidArgument("reason", f"say why the finding is {TRANSITIONS[action][1].value}")
        if len(reason) > _REASON_LENGTH:
            raise InvalidArgument("reason", f"at most {_REASON_LENGTH} characters")
        source, target = TRANSITIONS[action]
        now = self.clock()
        with self.store.session_or(session) as session:
            row = self._row(session, finding_id, bureau)
            if row.status != source.value:
                raise FailedPrecondition(
                    f"finding {finding_id} is {row.status}; to {action.value} a review it must be {source.value}",
                    status=row.status,
                )
            values: dict[str, Any] = {
                "status": target.value,
                "reviewer": reviewer,
                "reviewed_by": member,
                "reviewed_at": now,
                "reason": reason or None,
            }
            if action is Action.CONFIRM and row.signal == Signal.DUPLICATE.value:
                values["overpayment_fen"] = overpayment(
                    parse_evidence(row.evidence), decided_on=china_today(now)
                ).total_fen
            owned = [FindingRow.bureau == bureau] if bureau is not None else []  # not rerouted meanwhile
            claimed = session.execute(
                update(FindingRow)
                .where(FindingRow.id == finding_id, FindingRow.status == source.value, *owned)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], claimed).rowcount != 1:
                raise FailedPrecondition(f"finding {finding_id} was changed by someone else; read it again")
            session.add(
                FindingEventRow(
                    finding=finding_id,
                    at=now,
                    kind="review",
                    from_status=source.value,
                    to_status=target.value,
                    actor=reviewer,
                    member=member,
                    reason=reason or None,
                )
            )
            session.flush()
            session.refresh(row)
            return Finding.of(row)

    # --- helpers --------------------------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, finding_id: int, bureau: str | None) -> FindingRow:
        row = session.get(FindingRow, finding_id)
        if row is None or (bureau is not None and row.bureau != bureau):
            raise NotFound(f"no finding {finding_id} for this bureau", finding_id=str(finding_id))
        return row

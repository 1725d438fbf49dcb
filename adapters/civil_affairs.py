"""Civil affairs (民政): the assistance roster (救助对象名册) of the bureau.

Answers ``ASSISTANCE_INQUIRY`` (函询: records for the persons asked, ``not_found`` for persons the
roster has never held), records ``ENROLMENT_NOTICE`` (转接: another locality's enrolment, written to
the roster so the next inquiry shows it), and contributes household-check facts named ``assistance``
with value ``<PROGRAMME>/<STATUS>/<locality>`` (e.g. ``DIBAO/ACTIVE/130629``).

A roster row is keyed by (ID number, programme, paying locality); a later row for the same key
supersedes an earlier one (CSV rosters keep the history, databases update in place).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from adapters._datasets import DatasetSpec, Row
from adapters._interface import QueryContext
from adapters._kind import Handler, KindAdapter, fact, unique, validate_persons
from adapters._values import (
    CHINA,
    PROGRAMME_LABELS,
    STATUS_LABELS,
    label,
    parse_date,
    parse_int,
    parse_programme,
    parse_status,
    timestamp,
)
from hub import services
from hub.errors import InvalidArgument
from hub.identifiers import validate_id_number, validate_region_code
from hub.v1 import verification_pb2 as pb

ASSISTANCE_RECORDS = DatasetSpec(
    "assistance_records",
    (
        "id_number",
        "name",
        "programme",
        "locality",
        "since",
        "until",
        "monthly_amount_fen",
        "status",
        "reference",
    ),
    required=("id_number", "programme", "locality"),
    doc="救助对象名册: one row per person, programme and paying locality",
)
KEY = ("id_number", "programme", "locality")


class CivilAffairsAdapter(KindAdapter):
    kind = "civil-affairs"
    DATASETS = (ASSISTANCE_RECORDS,)

    def handlers(self) -> dict[str, Handler]:
        return {
            services.ASSISTANCE_INQUIRY: self.assistance_inquiry,
            services.ENROLMENT_NOTICE: self.enrolment_notice,
        }

    async def assistance_inquiry(self, inquiry: pb.AssistanceInquiry, context: QueryContext) -> pb.AssistanceAnswer:
        numbers = unique(validate_persons(inquiry.persons, "persons"))
        if inquiry.household_region_code:
            validate_region_code(inquiry.household_region_code, "household_region_code")
        records = await self._records(numbers)
        answer = pb.AssistanceAnswer()
        for number in numbers:
            if number in records:
                answer.records.extend(records[number])
            else:
                answer.not_found.append(number)
        return answer

    async def enrolment_notice(self, notice: pb.EnrolmentNotice, context: QueryContext) -> pb.EnrolmentAck:
        if notice.change == pb.ENROLMENT_CHANGE_UNSPECIFIED:
            raise InvalidArgument("change", "say whether this is a new enrolment, a change or an exit")
        record = notice.record
        number = validate_id_number(record.id_number, "record.id_number")
        if record.programme == pb.PROGRAMME_UNSPECIFIED:
            raise InvalidArgument("record.programme", "name the programme of the enrolment")
        locality = validate_region_code(record.locality, "record.locality")
        today = self.today()
        status = record.status or pb.ACTIVE
        until = _date(record, "until")
        if notice.change == pb.EXIT:
            status = pb.ENDED
            until = until or today
        since, amount = _date(record, "since"), record.monthly_amount_fen or None
        programme = label(record.programme, PROGRAMME_LABELS)
        stored = await self._stored(number, record.programme, locality)
        if stored is not None:
            programme = stored.get("programme") or programme  # the roster's own spelling (DIBAO or 低保): its key
            if notice.change != pb.NEW_ENROLMENT:
                # A change or an exit that leaves out the start or the amount keeps the stored ones: today as
                # the start would shorten the overlap an overpayment is later computed from.
                since = since or parse_date(stored.get("since", ""))
                amount = amount or parse_int(stored.get("monthly_amount_fen", "")) or None
        reference = uuid.uuid4().hex[:16].upper()
        row: dict[str, object] = {
            "id_number": number,
            "programme": programme,
            "locality": locality,
            "since": since or today,
            "until": until,
            "monthly_amount_fen": amount,
            "status": label(status, STATUS_LABELS),
            "reference": reference,
        }
        await self.datasets[ASSISTANCE_RECORDS.name].upsert(row, KEY)
        return pb.EnrolmentAck(recorded=True, reference=reference)

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        records = await self._records(id_numbers)
        return [
            fact(
                number,
                "assistance",
                f"{pb.Programme.Name(r.programme)}/{pb.AssistanceStatus.Name(r.status)}/{r.locality}",
            )
            for number in id_numbers
            for r in records.get(number, ())
        ]

    async def _stored(self, number: str, programme: int, locality: str) -> Row | None:
        """The roster's current row of this enrolment (person, programme, locality) as stored, if it holds one."""
        found = await self.datasets[ASSISTANCE_RECORDS.name].by_id([number])
        current = None
        for row in found.get(number, []):
            if parse_programme(row.get("programme", "")) == programme and row.get("locality", "") == locality:
                current = row  # the last one, as ``_records`` reads them
        return current

    async def _records(self, numbers: Sequence[str]) -> dict[str, list[pb.AssistanceRecord]]:
        """The current record per (programme, locality) for each person the roster holds."""
        found = await self.datasets[ASSISTANCE_RECORDS.name].by_id(numbers)
        today = self.today()
        result: dict[str, list[pb.AssistanceRecord]] = {}
        for number, rows in found.items():
            latest: dict[tuple[int, str], pb.AssistanceRecord] = {}
            for row in rows:
                record = _record(row, today)
                latest[(record.programme, record.locality)] = record
            result[number] = list(latest.values())
        return result


def _record(row: Row, today: dt.date) -> pb.AssistanceRecord:
    since = parse_date(row.get("since", ""))
    until = parse_date(row.get("until", ""))
    status = parse_status(row.get("status", ""))
    if status == pb.ASSISTANCE_STATUS_UNSPECIFIED:
        status = pb.ENDED if until is not None and until < today else pb.ACTIVE
    record = pb.AssistanceRecord(
        id_number=row["id_number"],
        programme=parse_programme(row.get("programme", "")),
        locality=row.get("locality", ""),
        monthly_amount_fen=parse_int(row.get("monthly_amount_fen", "")) or 0,
        status=status,
    )
    if since is not None:
        record.since.CopyFrom(timestamp(since))
    if until is not None:
        record.until.CopyFrom(timestamp(until))
    return record


def _date(record: pb.AssistanceRecord, field: str) -> dt.date | None:
    if not record.HasField(field):
        return None
    return getattr(record, field).ToDatetime(tzinfo=CHINA).date()  # type: ignore[no-any-return]

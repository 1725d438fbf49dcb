"""The record kinds departments feed (部门数据): their fields, how each is checked and how it is stored.

One ``RecordKind`` per row message of ``proto/hub/v1/feeds.proto``. Everything else — the tables, the row
validation, the bulk writers — is derived from these declarations, so adding a kind is one entry here plus
its row message. A test holds each declaration to its proto message, field for field.

Stored forms: ID numbers become 16-byte tokens (``<name>_token``; the person's is plain ``token``) and, for
the fields marked ``keep_raw``, also an encrypted copy (``<name>_enc``). Only the lists comparisons start from
keep numbers: assistance rosters and monitored households. Every departmental record is reached through a
roster person's token, so a finding names its person from the roster and department rows need no number
(PIPL minimum necessity); a key rotation re-derives their tokens through the same roster numbers. Dates and
months become ``Date`` (a month is its first day); amounts stay integers in fen; enumerations become short
lower-case codes (``PROPERTY_KIND_COMMERCIAL`` → ``commercial``) that rules written as data can name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message

from hub.errors import InvalidArgument
from hub.v1 import feeds_pb2 as pb
from hub.v1 import verification_pb2 as vpb


class FieldType(StrEnum):
    ID_NUMBER = "id_number"
    REGION = "region"
    DATE = "date"
    MONTH = "month"
    AMOUNT = "amount"
    ENUM = "enum"
    TEXT = "text"
    USCC = "uscc"


def enum_codes(descriptor: EnumDescriptor) -> dict[int, str]:
    """Wire number → stored code: the value name without its enum's prefix, lower-cased (0 is never valid)."""
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", descriptor.name).upper() + "_"
    return {v.number: v.name.removeprefix(prefix).lower() for v in descriptor.values if v.number != 0}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a row message, named as in the proto."""

    name: str
    type: FieldType
    required: bool = True
    #: Also stored in the kind's by-person table, the one comparisons join on.
    compared: bool = False
    #: ENUM: wire number → stored code.
    codes: Mapping[int, str] = field(default_factory=dict)
    #: TEXT: longest accepted value.
    max_length: int = 64
    #: DATE: an event that cannot lie in the future (a death, a settlement), unlike an end date.
    not_future: bool = False
    #: ID_NUMBER: also keep the number, encrypted, because an answer or a finding must name the person.
    keep_raw: bool = False

    @property
    def column(self) -> str:
        if self.type is FieldType.ID_NUMBER:
            return "token" if self.name == "id_number" else self.name.removesuffix("_id_number") + "_token"
        return self.name

    @property
    def raw_column(self) -> str:
        return f"{self.name}_enc"


@dataclass(frozen=True)
class NotAfter:
    """Cross-field rule: ``field`` ≤ ``limit`` when both are present (dates in order, a part within a whole)."""

    field: str
    limit: str
    explanation: str


@dataclass(frozen=True)
class RecordKind:
    code: str
    wire: pb.RecordKind
    department: str
    #: Name of this kind's list in the ``FeedRows`` oneof.
    rows_field: str
    row_type: type[Message]
    table: str
    fields: tuple[FieldSpec, ...]
    checks: tuple[NotAfter, ...] = ()
    #: Comparisons count this list's members by household (per-capita income): the by-person table gets an
    #: index on these columns (the household first, then what the count filters on), so that counting the few
    #: households a rule may flag reads them alone instead of the whole list.
    household_index: tuple[str, ...] = ()

    @property
    def person(self) -> FieldSpec:
        """The person a row is about: the first field, always ``id_number``."""
        return self.fields[0]

    @property
    def by_person_table(self) -> str:
        return f"{self.table}_by_person"


#: Department codes (the member kinds of ``hub.registry``) and their wire values.
DEPARTMENTS: dict[str, pb.Department] = {
    "education": pb.DEPARTMENT_EDUCATION,
    "hrss": pb.DEPARTMENT_HRSS,
    "housing": pb.DEPARTMENT_HOUSING,
    "medical-insurance": pb.DEPARTMENT_MEDICAL_INSURANCE,
    "rural-revitalisation": pb.DEPARTMENT_RURAL_REVITALISATION,
    "public-security": pb.DEPARTMENT_PUBLIC_SECURITY,
    "civil-affairs": pb.DEPARTMENT_CIVIL_AFFAIRS,
}
_DEPARTMENT_CODES: dict[int, str] = {wire: code for code, wire in DEPARTMENTS.items()}

_ID = FieldType.ID_NUMBER
_REGION = FieldType.REGION
_DATE = FieldType.DATE
_AMOUNT = FieldType.AMOUNT
_TEXT = FieldType.TEXT


def _person(*, keep_raw: bool = False) -> FieldSpec:
    return FieldSpec("id_number", _ID, keep_raw=keep_raw)


def _enum(name: str, descriptor: EnumDescriptor, *, required: bool = True, compared: bool = True) -> FieldSpec:
    return FieldSpec(name, FieldType.ENUM, required=required, compared=compared, codes=enum_codes(descriptor))


def _region(name: str = "region_code", *, compared: bool = True) -> FieldSpec:
    return FieldSpec(name, _REGION, compared=compared)


def _date(name: str, *, required: bool = True, not_future: bool = False, compared: bool = True) -> FieldSpec:
    return FieldSpec(name, _DATE, required=required, not_future=not_future, compared=compared)


def _amount(name: str, *, compared: bool = True) -> FieldSpec:
    return FieldSpec(name, _AMOUNT, compared=compared)


_ENDED_AFTER_START = "ended_on is before started_on"

KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        "enrolment",
        pb.RECORD_KIND_ENROLMENT,
        "education",
        "enrolments",
        pb.EnrolmentRow,
        "feed_enrolments",
        (
            _person(),
            FieldSpec("school_code", _TEXT, max_length=20),
            _region(),
            _enum("level", pb.EducationLevel.DESCRIPTOR),
            _date("enrolled_on", not_future=True),
            _enum("status", pb.EnrolmentStatus.DESCRIPTOR),
        ),
    ),
    RecordKind(
        "university_entrant",
        pb.RECORD_KIND_UNIVERSITY_ENTRANT,
        "education",
        "university_entrants",
        pb.UniversityEntrantRow,
        "feed_university_entrants",
        (
            _person(),
            FieldSpec("institution_code", _TEXT, max_length=20),
            _region("origin_region_code"),
            _enum("level", pb.EducationLevel.DESCRIPTOR),
            _date("admitted_on"),
            _amount("annual_tuition_fen"),
        ),
    ),
    RecordKind(
        "employment",
        pb.RECORD_KIND_EMPLOYMENT,
        "hrss",
        "employments",
        pb.EmploymentRow,
        "feed_employments",
        (
            _person(),
            FieldSpec("employer_uscc", FieldType.USCC, required=False),
            _enum("employer_kind", pb.EmployerKind.DESCRIPTOR),
            _region(),
            _date("started_on", not_future=True),
            _date("ended_on", required=False),
            _amount("monthly_wage_fen"),
        ),
        (NotAfter("started_on", "ended_on", _ENDED_AFTER_START),),
    ),
    RecordKind(
        "wage",
        pb.RECORD_KIND_WAGE,
        "hrss",
        "wages",
        pb.WageRow,
        "feed_wages",
        (
            _person(),
            FieldSpec("employer_uscc", FieldType.USCC, required=False),
            FieldSpec("month", FieldType.MONTH, compared=True, not_future=True),
            _amount("gross_fen"),
        ),
    ),
    RecordKind(
        "pension",
        pb.RECORD_KIND_PENSION,
        "hrss",
        "pensions",
        pb.PensionRow,
        "feed_pensions",
        (
            _person(),
            _enum("scheme", pb.PensionScheme.DESCRIPTOR),
            _region(),
            FieldSpec("month", FieldType.MONTH, compared=True, not_future=True),
            _amount("amount_fen"),
        ),
    ),
    RecordKind(
        "unemployment",
        pb.RECORD_KIND_UNEMPLOYMENT,
        "hrss",
        "unemployment",
        pb.UnemploymentRow,
        "feed_unemployment",
        (
            _person(),
            _region(),
            _date("registered_on", not_future=True),
            _date("ended_on", required=False),
            _amount("monthly_benefit_fen"),
        ),
        (NotAfter("registered_on", "ended_on", "ended_on is before registered_on"),),
    ),
    RecordKind(
        "property",
        pb.RECORD_KIND_PROPERTY,
        "housing",
        "properties",
        pb.PropertyRow,
        "feed_properties",
        (
            _person(),
            # Compared: rules count a household's homes by distinct certificate (a home owned jointly counts once).
            FieldSpec("certificate_number", _TEXT, max_length=64, compared=True),
            _region(),
            _enum("property_kind", pb.PropertyKind.DESCRIPTOR),
            _date("registered_on", not_future=True),
            _amount("floor_area_cm2"),
        ),
    ),
    RecordKind(
        "medical_settlement",
        pb.RECORD_KIND_MEDICAL_SETTLEMENT,
        "medical-insurance",
        "medical_settlements",
        pb.MedicalSettlementRow,
        "feed_medical_settlements",
        (
            _person(),
            FieldSpec("settlement_id", _TEXT, max_length=64),
            _region(),
            _date("settled_on", not_future=True),
            _enum("care_kind", pb.CareKind.DESCRIPTOR),
            _amount("total_fen", compared=False),
            _amount("fund_paid_fen", compared=False),
            _amount("out_of_pocket_fen"),
        ),
        (
            NotAfter("out_of_pocket_fen", "total_fen", "out_of_pocket_fen is more than total_fen"),
            NotAfter("fund_paid_fen", "total_fen", "fund_paid_fen is more than total_fen"),
        ),
    ),
    RecordKind(
        "monitored_household",
        pb.RECORD_KIND_MONITORED_HOUSEHOLD,
        "rural-revitalisation",
        "monitored_households",
        pb.MonitoredHouseholdRow,
        "feed_monitored_households",
        (
            _person(keep_raw=True),  # a list comparisons start from: findings name the person
            FieldSpec("household_head_id_number", _ID, compared=True, keep_raw=True),
            _region(),
            _enum("category", pb.MonitoringCategory.DESCRIPTOR),
            _date("identified_on", not_future=True),
            _date("risk_cleared_on", required=False),
        ),
        (NotAfter("identified_on", "risk_cleared_on", "risk_cleared_on is before identified_on"),),
    ),
    RecordKind(
        "death",
        pb.RECORD_KIND_DEATH,
        "public-security",
        "deaths",
        pb.DeathRow,
        "feed_deaths",
        (
            _person(),
            _region(),
            _date("died_on", not_future=True),
            _enum("evidence", pb.DeathEvidence.DESCRIPTOR),
        ),
    ),
    RecordKind(
        "roster",
        pb.RECORD_KIND_ROSTER,
        "civil-affairs",
        "rosters",
        pb.RosterRow,
        "feed_rosters",
        (
            _person(keep_raw=True),  # a list comparisons start from; findings and 函询 answers name the person
            FieldSpec("household_head_id_number", _ID, compared=True, keep_raw=True),
            _enum("programme", vpb.Programme.DESCRIPTOR),
            _region("locality"),
            _date("since"),
            _date("until", required=False),
            _amount("monthly_amount_fen"),
            _enum("status", vpb.AssistanceStatus.DESCRIPTOR),
            # Optional (UNSPECIFIED: not said), and not compared: only the repeat rule reads it, for the few persons
            # listed more than once, by key from the records table (``hub.findings._plan``), so the by-person
            # table every comparison probes stays as narrow as it was.
            _enum("cause", pb.TemporaryCause.DESCRIPTOR, required=False, compared=False),
        ),
        (NotAfter("since", "until", "until is before since"),),
        household_index=("household_head_token", "locality", "status", "since", "until"),
    ),
)

_BY_CODE = {kind.code: kind for kind in KINDS}
_BY_WIRE: dict[int, RecordKind] = {kind.wire: kind for kind in KINDS}


def kind_by_code(code: str) -> RecordKind:
    try:
        return _BY_CODE[code]
    except KeyError:
        raise InvalidArgument("kind", f"{code!r} is not a record kind ({', '.join(_BY_CODE)})") from None


def kind_by_wire(wire: int, field_name: str = "meta.kind") -> RecordKind:
    try:
        return _BY_WIRE[wire]
    except KeyError:
        raise InvalidArgument(field_name, "name the record kind of the feed") from None


def department_code(wire: int, field_name: str = "meta.department") -> str:
    try:
        return _DEPARTMENT_CODES[wire]
    except KeyError:
        raise InvalidArgument(field_name, "name the department the feed comes from") from None


def department_wire(code: str, field_name: str = "department") -> int:
    try:
        return DEPARTMENTS[code]
    except KeyError:
        raise InvalidArgument(field_name, f"{code!r} is not a department ({', '.join(DEPARTMENTS)})") from None


def kind_for(department: str, kind: str | None = None) -> RecordKind:
    """The record kind a department supplies: ``kind`` if it is one of its kinds, else its only kind."""
    department_wire(department)
    if kind:
        record_kind = kind_by_code(kind)
        if record_kind.department != department:
            raise InvalidArgument("kind", f"{kind} records come from {record_kind.department}, not {department}")
        return record_kind
    kinds = [k for k in KINDS if k.department == department]
    if len(kinds) != 1:
        codes = ", ".join(k.code for k in kinds)
        raise InvalidArgument("kind", f"{department} supplies several record kinds; choose one ({codes})")
    return kinds[0]

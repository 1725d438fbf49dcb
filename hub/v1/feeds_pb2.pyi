import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hub.v1 import envelope_pb2 as _envelope_pb2
from hub.v1 import verification_pb2 as _verification_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Department(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPARTMENT_UNSPECIFIED: _ClassVar[Department]
    DEPARTMENT_EDUCATION: _ClassVar[Department]
    DEPARTMENT_HRSS: _ClassVar[Department]
    DEPARTMENT_HOUSING: _ClassVar[Department]
    DEPARTMENT_MEDICAL_INSURANCE: _ClassVar[Department]
    DEPARTMENT_RURAL_REVITALISATION: _ClassVar[Department]
    DEPARTMENT_PUBLIC_SECURITY: _ClassVar[Department]
    DEPARTMENT_CIVIL_AFFAIRS: _ClassVar[Department]

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_ENROLMENT: _ClassVar[RecordKind]
    RECORD_KIND_UNIVERSITY_ENTRANT: _ClassVar[RecordKind]
    RECORD_KIND_EMPLOYMENT: _ClassVar[RecordKind]
    RECORD_KIND_WAGE: _ClassVar[RecordKind]
    RECORD_KIND_PENSION: _ClassVar[RecordKind]
    RECORD_KIND_UNEMPLOYMENT: _ClassVar[RecordKind]
    RECORD_KIND_PROPERTY: _ClassVar[RecordKind]
    RECORD_KIND_MEDICAL_SETTLEMENT: _ClassVar[RecordKind]
    RECORD_KIND_MONITORED_HOUSEHOLD: _ClassVar[RecordKind]
    RECORD_KIND_DEATH: _ClassVar[RecordKind]
    RECORD_KIND_ROSTER: _ClassVar[RecordKind]

class RejectionPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECTION_POLICY_UNSPECIFIED: _ClassVar[RejectionPolicy]
    REJECTION_POLICY_REJECT_VERSION: _ClassVar[RejectionPolicy]
    REJECTION_POLICY_ACCEPT_VALID: _ClassVar[RejectionPolicy]

class FeedVersionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_VERSION_STATUS_UNSPECIFIED: _ClassVar[FeedVersionStatus]
    FEED_VERSION_STATUS_RECEIVING: _ClassVar[FeedVersionStatus]
    FEED_VERSION_STATUS_COMPLETE: _ClassVar[FeedVersionStatus]
    FEED_VERSION_STATUS_REJECTED: _ClassVar[FeedVersionStatus]

class EducationLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EDUCATION_LEVEL_UNSPECIFIED: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_PRESCHOOL: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_PRIMARY: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_JUNIOR_SECONDARY: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_SENIOR_SECONDARY: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_SECONDARY_VOCATIONAL: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_HIGHER_VOCATIONAL: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_UNDERGRADUATE: _ClassVar[EducationLevel]
    EDUCATION_LEVEL_POSTGRADUATE: _ClassVar[EducationLevel]

class EnrolmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLMENT_STATUS_UNSPECIFIED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_ENROLLED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_SUSPENDED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_GRADUATED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_WITHDRAWN: _ClassVar[EnrolmentStatus]

class EmployerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMPLOYER_KIND_UNSPECIFIED: _ClassVar[EmployerKind]
    EMPLOYER_KIND_ENTERPRISE: _ClassVar[EmployerKind]
    EMPLOYER_KIND_STATE_ORGAN: _ClassVar[EmployerKind]
    EMPLOYER_KIND_PUBLIC_INSTITUTION: _ClassVar[EmployerKind]
    EMPLOYER_KIND_INDIVIDUAL_BUSINESS: _ClassVar[EmployerKind]
    EMPLOYER_KIND_FLEXIBLE: _ClassVar[EmployerKind]
    EMPLOYER_KIND_OTHER: _ClassVar[EmployerKind]

class PensionScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PENSION_SCHEME_UNSPECIFIED: _ClassVar[PensionScheme]
    PENSION_SCHEME_ENTERPRISE_EMPLOYEE: _ClassVar[PensionScheme]
    PENSION_SCHEME_PUBLIC_SERVICE: _ClassVar[PensionScheme]
    PENSION_SCHEME_URBAN_RURAL_RESIDENT: _ClassVar[PensionScheme]

class PropertyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROPERTY_KIND_UNSPECIFIED: _ClassVar[PropertyKind]
    PROPERTY_KIND_RESIDENTIAL: _ClassVar[PropertyKind]
    PROPERTY_KIND_COMMERCIAL: _ClassVar[PropertyKind]
    PROPERTY_KIND_OFFICE: _ClassVar[PropertyKind]
    PROPERTY_KIND_INDUSTRIAL: _ClassVar[PropertyKind]
    PROPERTY_KIND_PARKING: _ClassVar[PropertyKind]
    PROPERTY_KIND_LAND: _ClassVar[PropertyKind]
    PROPERTY_KIND_OTHER: _ClassVar[PropertyKind]

class CareKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARE_KIND_UNSPECIFIED: _ClassVar[CareKind]
    CARE_KIND_OUTPATIENT: _ClassVar[CareKind]
    CARE_KIND_INPATIENT: _ClassVar[CareKind]
    CARE_KIND_CHRONIC_SPECIAL: _ClassVar[CareKind]
    CARE_KIND_PHARMACY: _ClassVar[CareKind]

class MonitoringCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MONITORING_CATEGORY_UNSPECIFIED: _ClassVar[MonitoringCategory]
    MONITORING_CATEGORY_UNSTABLE_ALLEVIATED: _ClassVar[MonitoringCategory]
    MONITORING_CATEGORY_MARGINAL_VULNERABLE: _ClassVar[MonitoringCategory]
    MONITORING_CATEGORY_SUDDEN_HARDSHIP: _ClassVar[MonitoringCategory]

class DeathEvidence(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEATH_EVIDENCE_UNSPECIFIED: _ClassVar[DeathEvidence]
    DEATH_EVIDENCE_HOUSEHOLD_CANCELLATION: _ClassVar[DeathEvidence]
    DEATH_EVIDENCE_CREMATION: _ClassVar[DeathEvidence]
    DEATH_EVIDENCE_MEDICAL_CERTIFICATE: _ClassVar[DeathEvidence]

class TemporaryCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEMPORARY_CAUSE_UNSPECIFIED: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_FIRE: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_ACCIDENT: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_SUDDEN_ILLNESS: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_NATURAL_DISASTER: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_MEDICAL_EXPENSE: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_EDUCATION_EXPENSE: _ClassVar[TemporaryCause]
    TEMPORARY_CAUSE_OTHER: _ClassVar[TemporaryCause]
DEPARTMENT_UNSPECIFIED: Department
DEPARTMENT_EDUCATION: Department
DEPARTMENT_HRSS: Department
DEPARTMENT_HOUSING: Department
DEPARTMENT_MEDICAL_INSURANCE: Department
DEPARTMENT_RURAL_REVITALISATION: Department
DEPARTMENT_PUBLIC_SECURITY: Department
DEPARTMENT_CIVIL_AFFAIRS: Department
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_ENROLMENT: RecordKind
RECORD_KIND_UNIVERSITY_ENTRANT: RecordKind
RECORD_KIND_EMPLOYMENT: RecordKind
RECORD_KIND_WAGE: RecordKind
RECORD_KIND_PENSION: RecordKind
RECORD_KIND_UNEMPLOYMENT: RecordKind
RECORD_KIND_PROPERTY: RecordKind
RECORD_KIND_MEDICAL_SETTLEMENT: RecordKind
RECORD_KIND_MONITORED_HOUSEHOLD: RecordKind
RECORD_KIND_DEATH: RecordKind
RECORD_KIND_ROSTER: RecordKind
REJECTION_POLICY_UNSPECIFIED: RejectionPolicy
REJECTION_POLICY_REJECT_VERSION: RejectionPolicy
REJECTION_POLICY_ACCEPT_VALID: RejectionPolicy
FEED_VERSION_STATUS_UNSPECIFIED: FeedVersionStatus
FEED_VERSION_STATUS_RECEIVING: FeedVersionStatus
FEED_VERSION_STATUS_COMPLETE: FeedVersionStatus
FEED_VERSION_STATUS_REJECTED: FeedVersionStatus
EDUCATION_LEVEL_UNSPECIFIED: EducationLevel
EDUCATION_LEVEL_PRESCHOOL: EducationLevel
EDUCATION_LEVEL_PRIMARY: EducationLevel
EDUCATION_LEVEL_JUNIOR_SECONDARY: EducationLevel
EDUCATION_LEVEL_SENIOR_SECONDARY: EducationLevel
EDUCATION_LEVEL_SECONDARY_VOCATIONAL: EducationLevel
EDUCATION_LEVEL_HIGHER_VOCATIONAL: EducationLevel
EDUCATION_LEVEL_UNDERGRADUATE: EducationLevel
EDUCATION_LEVEL_POSTGRADUATE: EducationLevel
ENROLMENT_STATUS_UNSPECIFIED: EnrolmentStatus
ENROLMENT_STATUS_ENROLLED: EnrolmentStatus
ENROLMENT_STATUS_SUSPENDED: EnrolmentStatus
ENROLMENT_STATUS_GRADUATED: EnrolmentStatus
ENROLMENT_STATUS_WITHDRAWN: EnrolmentStatus
EMPLOYER_KIND_UNSPECIFIED: EmployerKind
EMPLOYER_KIND_ENTERPRISE: EmployerKind
EMPLOYER_KIND_STATE_ORGAN: EmployerKind
EMPLOYER_KIND_PUBLIC_INSTITUTION: EmployerKind
EMPLOYER_KIND_INDIVIDUAL_BUSINESS: EmployerKind
EMPLOYER_KIND_FLEXIBLE: EmployerKind
EMPLOYER_KIND_OTHER: EmployerKind
PENSION_SCHEME_UNSPECIFIED: PensionScheme
PENSION_SCHEME_ENTERPRISE_EMPLOYEE: PensionScheme
PENSION_SCHEME_PUBLIC_SERVICE: PensionScheme
PENSION_SCHEME_URBAN_RURAL_RESIDENT: PensionScheme
PROPERTY_KIND_UNSPECIFIED: PropertyKind
PROPERTY_KIND_RESIDENTIAL: PropertyKind
PROPERTY_KIND_COMMERCIAL: PropertyKind
PROPERTY_KIND_OFFICE: PropertyKind
PROPERTY_KIND_INDUSTRIAL: PropertyKind
PROPERTY_KIND_PARKING: PropertyKind
PROPERTY_KIND_LAND: PropertyKind
PROPERTY_KIND_OTHER: PropertyKind
CARE_KIND_UNSPECIFIED: CareKind
CARE_KIND_OUTPATIENT: CareKind
CARE_KIND_INPATIENT: CareKind
CARE_KIND_CHRONIC_SPECIAL: CareKind
CARE_KIND_PHARMACY: CareKind
MONITORING_CATEGORY_UNSPECIFIED: MonitoringCategory
MONITORING_CATEGORY_UNSTABLE_ALLEVIATED: MonitoringCategory
MONITORING_CATEGORY_MARGINAL_VULNERABLE: MonitoringCategory
MONITORING_CATEGORY_SUDDEN_HARDSHIP: MonitoringCategory
DEATH_EVIDENCE_UNSPECIFIED: DeathEvidence
DEATH_EVIDENCE_HOUSEHOLD_CANCELLATION: DeathEvidence
DEATH_EVIDENCE_CREMATION: DeathEvidence
DEATH_EVIDENCE_MEDICAL_CERTIFICATE: DeathEvidence
TEMPORARY_CAUSE_UNSPECIFIED: TemporaryCause
TEMPORARY_CAUSE_FIRE: TemporaryCause
TEMPORARY_CAUSE_ACCIDENT: TemporaryCause
TEMPORARY_CAUSE_SUDDEN_ILLNESS: TemporaryCause
TEMPORARY_CAUSE_NATURAL_DISASTER: TemporaryCause
TEMPORARY_CAUSE_MEDICAL_EXPENSE: TemporaryCause
TEMPORARY_CAUSE_EDUCATION_EXPENSE: TemporaryCause
TEMPORARY_CAUSE_OTHER: TemporaryCause

class EnrolmentRow(_message.Message):
    __slots__ = ("id_number", "school_code", "region_code", "level", "enrolled_on", "status")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SCHOOL_CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    school_code: str
    region_code: str
    level: EducationLevel
    enrolled_on: str
    status: EnrolmentStatus
    def __init__(self, id_number: _Optional[str] = ..., school_code: _Optional[str] = ..., region_code: _Optional[str] = ..., level: _Optional[_Union[EducationLevel, str]] = ..., enrolled_on: _Optional[str] = ..., status: _Optional[_Union[EnrolmentStatus, str]] = ...) -> None: ...

class UniversityEntrantRow(_message.Message):
    __slots__ = ("id_number", "institution_code", "origin_region_code", "level", "admitted_on", "annual_tuition_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ADMITTED_ON_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_TUITION_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    institution_code: str
    origin_region_code: str
    level: EducationLevel
    admitted_on: str
    annual_tuition_fen: int
    def __init__(self, id_number: _Optional[str] = ..., institution_code: _Optional[str] = ..., origin_region_code: _Optional[str] = ..., level: _Optional[_Union[EducationLevel, str]] = ..., admitted_on: _Optional[str] = ..., annual_tuition_fen: _Optional[int] = ...) -> None: ...

class EmploymentRow(_message.Message):
    __slots__ = ("id_number", "employer_uscc", "employer_kind", "region_code", "started_on", "ended_on", "monthly_wage_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_USCC_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    STARTED_ON_FIELD_NUMBER: _ClassVar[int]
    ENDED_ON_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_WAGE_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    employer_uscc: str
    employer_kind: EmployerKind
    region_code: str
    started_on: str
    ended_on: str
    monthly_wage_fen: int
    def __init__(self, id_number: _Optional[str] = ..., employer_uscc: _Optional[str] = ..., employer_kind: _Optional[_Union[EmployerKind, str]] = ..., region_code: _Optional[str] = ..., started_on: _Optional[str] = ..., ended_on: _Optional[str] = ..., monthly_wage_fen: _Optional[int] = ...) -> None: ...

class WageRow(_message.Message):
    __slots__ = ("id_number", "employer_uscc", "month", "gross_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_USCC_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    GROSS_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    employer_uscc: str
    month: str
    gross_fen: int
    def __init__(self, id_number: _Optional[str] = ..., employer_uscc: _Optional[str] = ..., month: _Optional[str] = ..., gross_fen: _Optional[int] = ...) -> None: ...

class PensionRow(_message.Message):
    __slots__ = ("id_number", "scheme", "region_code", "month", "amount_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    scheme: PensionScheme
    region_code: str
    month: str
    amount_fen: int
    def __init__(self, id_number: _Optional[str] = ..., scheme: _Optional[_Union[PensionScheme, str]] = ..., region_code: _Optional[str] = ..., month: _Optional[str] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class UnemploymentRow(_message.Message):
    __slots__ = ("id_number", "region_code", "registered_on", "ended_on", "monthly_benefit_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    ENDED_ON_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_BENEFIT_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    region_code: str
    registered_on: str
    ended_on: str
    monthly_benefit_fen: int
    def __init__(self, id_number: _Optional[str] = ..., region_code: _Optional[str] = ..., registered_on: _Optional[str] = ..., ended_on: _Optional[str] = ..., monthly_benefit_fen: _Optional[int] = ...) -> None: ...

class PropertyRow(_message.Message):
    __slots__ = ("id_number", "certificate_number", "region_code", "property_kind", "registered_on", "floor_area_cm2")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_KIND_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    FLOOR_AREA_CM2_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    certificate_number: str
    region_code: str
    property_kind: PropertyKind
    registered_on: str
    floor_area_cm2: int
    def __init__(self, id_number: _Optional[str] = ..., certificate_number: _Optional[str] = ..., region_code: _Optional[str] = ..., property_kind: _Optional[_Union[PropertyKind, str]] = ..., registered_on: _Optional[str] = ..., floor_area_cm2: _Optional[int] = ...) -> None: ...

class MedicalSettlementRow(_message.Message):
    __slots__ = ("id_number", "settlement_id", "region_code", "settled_on", "care_kind", "total_fen", "fund_paid_fen", "out_of_pocket_fen")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SETTLED_ON_FIELD_NUMBER: _ClassVar[int]
    CARE_KIND_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PAID_FEN_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_POCKET_FEN_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    settlement_id: str
    region_code: str
    settled_on: str
    care_kind: CareKind
    total_fen: int
    fund_paid_fen: int
    out_of_pocket_fen: int
    def __init__(self, id_number: _Optional[str] = ..., settlement_id: _Optional[str] = ..., region_code: _Optional[str] = ..., settled_on: _Optional[str] = ..., care_kind: _Optional[_Union[CareKind, str]] = ..., total_fen: _Optional[int] = ..., fund_paid_fen: _Optional[int] = ..., out_of_pocket_fen: _Optional[int] = ...) -> None: ...

class MonitoredHouseholdRow(_message.Message):
    __slots__ = ("id_number", "household_head_id_number", "region_code", "category", "identified_on", "risk_cleared_on")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_HEAD_ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIED_ON_FIELD_NUMBER: _ClassVar[int]
    RISK_CLEARED_ON_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    household_head_id_number: str
    region_code: str
    category: MonitoringCategory
    identified_on: str
    risk_cleared_on: str
    def __init__(self, id_number: _Optional[str] = ..., household_head_id_number: _Optional[str] = ..., region_code: _Optional[str] = ..., category: _Optional[_Union[MonitoringCategory, str]] = ..., identified_on: _Optional[str] = ..., risk_cleared_on: _Optional[str] = ...) -> None: ...

class DeathRow(_message.Message):
    __slots__ = ("id_number", "region_code", "died_on", "evidence")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    DIED_ON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    region_code: str
    died_on: str
    evidence: DeathEvidence
    def __init__(self, id_number: _Optional[str] = ..., region_code: _Optional[str] = ..., died_on: _Optional[str] = ..., evidence: _Optional[_Union[DeathEvidence, str]] = ...) -> None: ...

class RosterRow(_message.Message):
    __slots__ = ("id_number", "household_head_id_number", "programme", "locality", "since", "until", "monthly_amount_fen", "status", "cause")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_HEAD_ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    household_head_id_number: str
    programme: _verification_pb2.Programme
    locality: str
    since: str
    until: str
    monthly_amount_fen: int
    status: _verification_pb2.AssistanceStatus
    cause: TemporaryCause
    def __init__(self, id_number: _Optional[str] = ..., household_head_id_number: _Optional[str] = ..., programme: _Optional[_Union[_verification_pb2.Programme, str]] = ..., locality: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., monthly_amount_fen: _Optional[int] = ..., status: _Optional[_Union[_verification_pb2.AssistanceStatus, str]] = ..., cause: _Optional[_Union[TemporaryCause, str]] = ...) -> None: ...

class EnrolmentRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[EnrolmentRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[EnrolmentRow, _Mapping]]] = ...) -> None: ...

class UniversityEntrantRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[UniversityEntrantRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[UniversityEntrantRow, _Mapping]]] = ...) -> None: ...

class EmploymentRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[EmploymentRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[EmploymentRow, _Mapping]]] = ...) -> None: ...

class WageRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[WageRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[WageRow, _Mapping]]] = ...) -> None: ...

class PensionRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[PensionRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[PensionRow, _Mapping]]] = ...) -> None: ...

class UnemploymentRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[UnemploymentRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[UnemploymentRow, _Mapping]]] = ...) -> None: ...

class PropertyRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[PropertyRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[PropertyRow, _Mapping]]] = ...) -> None: ...

class MedicalSettlementRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[MedicalSettlementRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[MedicalSettlementRow, _Mapping]]] = ...) -> None: ...

class MonitoredHouseholdRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[MonitoredHouseholdRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[MonitoredHouseholdRow, _Mapping]]] = ...) -> None: ...

class DeathRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[DeathRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[DeathRow, _Mapping]]] = ...) -> None: ...

class RosterRows(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[RosterRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[RosterRow, _Mapping]]] = ...) -> None: ...

class FeedRows(_message.Message):
    __slots__ = ("enrolments", "university_entrants", "employments", "wages", "pensions", "unemployment", "properties", "medical_settlements", "monitored_households", "deaths", "rosters")
    ENROLMENTS_FIELD_NUMBER: _ClassVar[int]
    UNIVERSITY_ENTRANTS_FIELD_NUMBER: _ClassVar[int]
    EMPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    WAGES_FIELD_NUMBER: _ClassVar[int]
    PENSIONS_FIELD_NUMBER: _ClassVar[int]
    UNEMPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    MEDICAL_SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    MONITORED_HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    DEATHS_FIELD_NUMBER: _ClassVar[int]
    ROSTERS_FIELD_NUMBER: _ClassVar[int]
    enrolments: EnrolmentRows
    university_entrants: UniversityEntrantRows
    employments: EmploymentRows
    wages: WageRows
    pensions: PensionRows
    unemployment: UnemploymentRows
    properties: PropertyRows
    medical_settlements: MedicalSettlementRows
    monitored_households: MonitoredHouseholdRows
    deaths: DeathRows
    rosters: RosterRows
    def __init__(self, enrolments: _Optional[_Union[EnrolmentRows, _Mapping]] = ..., university_entrants: _Optional[_Union[UniversityEntrantRows, _Mapping]] = ..., employments: _Optional[_Union[EmploymentRows, _Mapping]] = ..., wages: _Optional[_Union[WageRows, _Mapping]] = ..., pensions: _Optional[_Union[PensionRows, _Mapping]] = ..., unemployment: _Optional[_Union[UnemploymentRows, _Mapping]] = ..., properties: _Optional[_Union[PropertyRows, _Mapping]] = ..., medical_settlements: _Optional[_Union[MedicalSettlementRows, _Mapping]] = ..., monitored_households: _Optional[_Union[MonitoredHouseholdRows, _Mapping]] = ..., deaths: _Optional[_Union[DeathRows, _Mapping]] = ..., rosters: _Optional[_Union[RosterRows, _Mapping]] = ...) -> None: ...

class FeedVersionMeta(_message.Message):
    __slots__ = ("department", "kind", "supplier", "period_start", "period_end", "expected_records", "policy")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    department: Department
    kind: RecordKind
    supplier: str
    period_start: str
    period_end: str
    expected_records: int
    policy: RejectionPolicy
    def __init__(self, department: _Optional[_Union[Department, str]] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., supplier: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., expected_records: _Optional[int] = ..., policy: _Optional[_Union[RejectionPolicy, str]] = ...) -> None: ...

class FeedChunk(_message.Message):
    __slots__ = ("version_id", "sequence", "chunk_sha256", "meta", "rows")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SHA256_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    sequence: int
    chunk_sha256: bytes
    meta: FeedVersionMeta
    rows: bytes
    def __init__(self, version_id: _Optional[str] = ..., sequence: _Optional[int] = ..., chunk_sha256: _Optional[bytes] = ..., meta: _Optional[_Union[FeedVersionMeta, _Mapping]] = ..., rows: _Optional[bytes] = ...) -> None: ...

class RowRejection(_message.Message):
    __slots__ = ("row_number", "field", "problem", "reason")
    ROW_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    row_number: int
    field: str
    problem: str
    reason: str
    def __init__(self, row_number: _Optional[int] = ..., field: _Optional[str] = ..., problem: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FeedReceipt(_message.Message):
    __slots__ = ("version_id", "status", "department", "supplier", "kind", "period_start", "period_end", "expected_records", "received_records", "accepted_records", "rejected_records", "chunks", "digest", "rejections", "rejections_truncated", "current", "completed_at")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    status: FeedVersionStatus
    department: Department
    supplier: str
    kind: RecordKind
    period_start: str
    period_end: str
    expected_records: int
    received_records: int
    accepted_records: int
    rejected_records: int
    chunks: int
    digest: bytes
    rejections: _containers.RepeatedCompositeFieldContainer[RowRejection]
    rejections_truncated: bool
    current: bool
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, version_id: _Optional[str] = ..., status: _Optional[_Union[FeedVersionStatus, str]] = ..., department: _Optional[_Union[Department, str]] = ..., supplier: _Optional[str] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., expected_records: _Optional[int] = ..., received_records: _Optional[int] = ..., accepted_records: _Optional[int] = ..., rejected_records: _Optional[int] = ..., chunks: _Optional[int] = ..., digest: _Optional[bytes] = ..., rejections: _Optional[_Iterable[_Union[RowRejection, _Mapping]]] = ..., rejections_truncated: _Optional[bool] = ..., current: _Optional[bool] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FeedStatusQuery(_message.Message):
    __slots__ = ("department", "version_id")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    department: Department
    version_id: str
    def __init__(self, department: _Optional[_Union[Department, str]] = ..., version_id: _Optional[str] = ...) -> None: ...

class FeedFreshness(_message.Message):
    __slots__ = ("department", "supplier", "kind", "version_id", "period_start", "period_end", "completed_at", "age_seconds", "accepted_records", "rejected_records", "stale", "max_age_seconds")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    department: Department
    supplier: str
    kind: RecordKind
    version_id: str
    period_start: str
    period_end: str
    completed_at: _timestamp_pb2.Timestamp
    age_seconds: int
    accepted_records: int
    rejected_records: int
    stale: bool
    max_age_seconds: int
    def __init__(self, department: _Optional[_Union[Department, str]] = ..., supplier: _Optional[str] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., version_id: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age_seconds: _Optional[int] = ..., accepted_records: _Optional[int] = ..., rejected_records: _Optional[int] = ..., stale: _Optional[bool] = ..., max_age_seconds: _Optional[int] = ...) -> None: ...

class UploadProgress(_message.Message):
    __slots__ = ("version_id", "status", "next_sequence", "received_records", "expected_records")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    status: FeedVersionStatus
    next_sequence: int
    received_records: int
    expected_records: int
    def __init__(self, version_id: _Optional[str] = ..., status: _Optional[_Union[FeedVersionStatus, str]] = ..., next_sequence: _Optional[int] = ..., received_records: _Optional[int] = ..., expected_records: _Optional[int] = ...) -> None: ...

class FeedStatusReport(_message.Message):
    __slots__ = ("feeds", "upload", "as_of")
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    feeds: _containers.RepeatedCompositeFieldContainer[FeedFreshness]
    upload: UploadProgress
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, feeds: _Optional[_Iterable[_Union[FeedFreshness, _Mapping]]] = ..., upload: _Optional[_Union[UploadProgress, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hub.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Programme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROGRAMME_UNSPECIFIED: _ClassVar[Programme]
    DIBAO: _ClassVar[Programme]
    TEKUN: _ClassVar[Programme]
    DIBAO_EDGE: _ClassVar[Programme]
    TEMPORARY: _ClassVar[Programme]
    RIGID_EXPENDITURE: _ClassVar[Programme]
    RELAPSE_MONITORING: _ClassVar[Programme]

class AssistanceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSISTANCE_STATUS_UNSPECIFIED: _ClassVar[AssistanceStatus]
    ACTIVE: _ClassVar[AssistanceStatus]
    GRADUAL_EXIT: _ClassVar[AssistanceStatus]
    SUSPENDED: _ClassVar[AssistanceStatus]
    ENDED: _ClassVar[AssistanceStatus]

class EnrolmentChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLMENT_CHANGE_UNSPECIFIED: _ClassVar[EnrolmentChange]
    NEW_ENROLMENT: _ClassVar[EnrolmentChange]
    CHANGE: _ClassVar[EnrolmentChange]
    EXIT: _ClassVar[EnrolmentChange]

class SourceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_STATUS_UNSPECIFIED: _ClassVar[SourceStatus]
    SOURCE_OK: _ClassVar[SourceStatus]
    SOURCE_PARTIAL: _ClassVar[SourceStatus]
    SOURCE_TIMED_OUT: _ClassVar[SourceStatus]
    SOURCE_REFUSED: _ClassVar[SourceStatus]
    SOURCE_UNAVAILABLE: _ClassVar[SourceStatus]
PROGRAMME_UNSPECIFIED: Programme
DIBAO: Programme
TEKUN: Programme
DIBAO_EDGE: Programme
TEMPORARY: Programme
RIGID_EXPENDITURE: Programme
RELAPSE_MONITORING: Programme
ASSISTANCE_STATUS_UNSPECIFIED: AssistanceStatus
ACTIVE: AssistanceStatus
GRADUAL_EXIT: AssistanceStatus
SUSPENDED: AssistanceStatus
ENDED: AssistanceStatus
ENROLMENT_CHANGE_UNSPECIFIED: EnrolmentChange
NEW_ENROLMENT: EnrolmentChange
CHANGE: EnrolmentChange
EXIT: EnrolmentChange
SOURCE_STATUS_UNSPECIFIED: SourceStatus
SOURCE_OK: SourceStatus
SOURCE_PARTIAL: SourceStatus
SOURCE_TIMED_OUT: SourceStatus
SOURCE_REFUSED: SourceStatus
SOURCE_UNAVAILABLE: SourceStatus

class Person(_message.Message):
    __slots__ = ("id_number", "name")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class HouseholdRegistrationQuery(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class HouseholdMember(_message.Message):
    __slots__ = ("id_number", "name", "relation")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    relation: str
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., relation: _Optional[str] = ...) -> None: ...

class HouseholdRegistrationResult(_message.Message):
    __slots__ = ("registered", "region_code", "household_id", "members")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    registered: bool
    region_code: str
    household_id: str
    members: _containers.RepeatedCompositeFieldContainer[HouseholdMember]
    def __init__(self, registered: _Optional[bool] = ..., region_code: _Optional[str] = ..., household_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[HouseholdMember, _Mapping]]] = ...) -> None: ...

class ResidencePermitQuery(_message.Message):
    __slots__ = ("person", "region_code")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    person: Person
    region_code: str
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., region_code: _Optional[str] = ...) -> None: ...

class ResidencePermitResult(_message.Message):
    __slots__ = ("valid", "endorsed_this_year", "living_since", "address_region_code", "permit_number")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ENDORSED_THIS_YEAR_FIELD_NUMBER: _ClassVar[int]
    LIVING_SINCE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    PERMIT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    endorsed_this_year: bool
    living_since: _timestamp_pb2.Timestamp
    address_region_code: str
    permit_number: str
    def __init__(self, valid: _Optional[bool] = ..., endorsed_this_year: _Optional[bool] = ..., living_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., address_region_code: _Optional[str] = ..., permit_number: _Optional[str] = ...) -> None: ...

class AssistanceInquiry(_message.Message):
    __slots__ = ("persons", "household_region_code")
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    persons: _containers.RepeatedCompositeFieldContainer[Person]
    household_region_code: str
    def __init__(self, persons: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., household_region_code: _Optional[str] = ...) -> None: ...

class AssistanceRecord(_message.Message):
    __slots__ = ("id_number", "programme", "locality", "since", "until", "monthly_amount_fen", "status")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    programme: Programme
    locality: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    monthly_amount_fen: int
    status: AssistanceStatus
    def __init__(self, id_number: _Optional[str] = ..., programme: _Optional[_Union[Programme, str]] = ..., locality: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., monthly_amount_fen: _Optional[int] = ..., status: _Optional[_Union[AssistanceStatus, str]] = ...) -> None: ...

class AssistanceAnswer(_message.Message):
    __slots__ = ("records", "not_found")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[AssistanceRecord]
    not_found: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, records: _Optional[_Iterable[_Union[AssistanceRecord, _Mapping]]] = ..., not_found: _Optional[_Iterable[str]] = ...) -> None: ...

class EnrolmentNotice(_message.Message):
    __slots__ = ("change", "record", "reason")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    change: EnrolmentChange
    record: AssistanceRecord
    reason: str
    def __init__(self, change: _Optional[_Union[EnrolmentChange, str]] = ..., record: _Optional[_Union[AssistanceRecord, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class EnrolmentAck(_message.Message):
    __slots__ = ("recorded", "reference")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    recorded: bool
    reference: str
    def __init__(self, recorded: _Optional[bool] = ..., reference: _Optional[str] = ...) -> None: ...

class HouseholdCheckRequest(_message.Message):
    __slots__ = ("members", "sources", "deadline_ms")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Person]
    sources: _containers.RepeatedScalarFieldContainer[str]
    deadline_ms: int
    def __init__(self, members: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., sources: _Optional[_Iterable[str]] = ..., deadline_ms: _Optional[int] = ...) -> None: ...

class SourceFact(_message.Message):
    __slots__ = ("id_number", "name", "value")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    value: str
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SourceReport(_message.Message):
    __slots__ = ("source", "member", "status", "as_of", "facts", "detail", "elapsed_ms")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    source: str
    member: str
    status: SourceStatus
    as_of: _timestamp_pb2.Timestamp
    facts: _containers.RepeatedCompositeFieldContainer[SourceFact]
    detail: str
    elapsed_ms: int
    def __init__(self, source: _Optional[str] = ..., member: _Optional[str] = ..., status: _Optional[_Union[SourceStatus, str]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., facts: _Optional[_Iterable[_Union[SourceFact, _Mapping]]] = ..., detail: _Optional[str] = ..., elapsed_ms: _Optional[int] = ...) -> None: ...

class HouseholdCheckReport(_message.Message):
    __slots__ = ("sources", "complete", "source_answers")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ANSWERS_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[SourceReport]
    complete: bool
    source_answers: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Envelope]
    def __init__(self, sources: _Optional[_Iterable[_Union[SourceReport, _Mapping]]] = ..., complete: _Optional[bool] = ..., source_answers: _Optional[_Iterable[_Union[_envelope_pb2.Envelope, _Mapping]]] = ...) -> None: ...

class ConsentRegistration(_message.Message):
    __slots__ = ("signer_id_numbers", "covered_id_numbers", "scopes", "valid_until", "document_sha256")
    SIGNER_ID_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    COVERED_ID_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    signer_id_numbers: _containers.RepeatedScalarFieldContainer[str]
    covered_id_numbers: _containers.RepeatedScalarFieldContainer[str]
    scopes: _containers.RepeatedScalarFieldContainer[str]
    valid_until: _timestamp_pb2.Timestamp
    document_sha256: bytes
    def __init__(self, signer_id_numbers: _Optional[_Iterable[str]] = ..., covered_id_numbers: _Optional[_Iterable[str]] = ..., scopes: _Optional[_Iterable[str]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document_sha256: _Optional[bytes] = ...) -> None: ...

class ConsentRevocation(_message.Message):
    __slots__ = ("consent_ref", "reason")
    CONSENT_REF_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    consent_ref: str
    reason: str
    def __init__(self, consent_ref: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ConsentReceipt(_message.Message):
    __slots__ = ("consent_ref", "active")
    CONSENT_REF_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    consent_ref: str
    active: bool
    def __init__(self, consent_ref: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

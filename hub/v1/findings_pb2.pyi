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

class FindingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_STATUS_UNSPECIFIED: _ClassVar[FindingStatus]
    FINDING_STATUS_OPEN: _ClassVar[FindingStatus]
    FINDING_STATUS_UNDER_REVIEW: _ClassVar[FindingStatus]
    FINDING_STATUS_CONFIRMED: _ClassVar[FindingStatus]
    FINDING_STATUS_DISMISSED: _ClassVar[FindingStatus]

class FindingSignal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_SIGNAL_UNSPECIFIED: _ClassVar[FindingSignal]
    FINDING_SIGNAL_EXCLUSION: _ClassVar[FindingSignal]
    FINDING_SIGNAL_DISCOVERY: _ClassVar[FindingSignal]
    FINDING_SIGNAL_DUPLICATE: _ClassVar[FindingSignal]

class FindingSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_SEVERITY_UNSPECIFIED: _ClassVar[FindingSeverity]
    FINDING_SEVERITY_HIGH: _ClassVar[FindingSeverity]
    FINDING_SEVERITY_MEDIUM: _ClassVar[FindingSeverity]
    FINDING_SEVERITY_LOW: _ClassVar[FindingSeverity]

class ReviewAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_ACTION_UNSPECIFIED: _ClassVar[ReviewAction]
    REVIEW_ACTION_START: _ClassVar[ReviewAction]
    REVIEW_ACTION_CONFIRM: _ClassVar[ReviewAction]
    REVIEW_ACTION_DISMISS: _ClassVar[ReviewAction]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_XLSX: _ClassVar[ExportFormat]
FINDING_STATUS_UNSPECIFIED: FindingStatus
FINDING_STATUS_OPEN: FindingStatus
FINDING_STATUS_UNDER_REVIEW: FindingStatus
FINDING_STATUS_CONFIRMED: FindingStatus
FINDING_STATUS_DISMISSED: FindingStatus
FINDING_SIGNAL_UNSPECIFIED: FindingSignal
FINDING_SIGNAL_EXCLUSION: FindingSignal
FINDING_SIGNAL_DISCOVERY: FindingSignal
FINDING_SIGNAL_DUPLICATE: FindingSignal
FINDING_SEVERITY_UNSPECIFIED: FindingSeverity
FINDING_SEVERITY_HIGH: FindingSeverity
FINDING_SEVERITY_MEDIUM: FindingSeverity
FINDING_SEVERITY_LOW: FindingSeverity
REVIEW_ACTION_UNSPECIFIED: ReviewAction
REVIEW_ACTION_START: ReviewAction
REVIEW_ACTION_CONFIRM: ReviewAction
REVIEW_ACTION_DISMISS: ReviewAction
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_XLSX: ExportFormat

class ComparisonRun(_message.Message):
    __slots__ = ("region_code", "as_of")
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    region_code: str
    as_of: str
    def __init__(self, region_code: _Optional[str] = ..., as_of: _Optional[str] = ...) -> None: ...

class RuleOutcome(_message.Message):
    __slots__ = ("rule", "new_findings", "reopened", "updated", "unchanged", "skipped")
    RULE_FIELD_NUMBER: _ClassVar[int]
    NEW_FINDINGS_FIELD_NUMBER: _ClassVar[int]
    REOPENED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    rule: str
    new_findings: int
    reopened: int
    updated: int
    unchanged: int
    skipped: str
    def __init__(self, rule: _Optional[str] = ..., new_findings: _Optional[int] = ..., reopened: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., skipped: _Optional[str] = ...) -> None: ...

class ComparisonResult(_message.Message):
    __slots__ = ("run_id", "as_of", "region_code", "rules", "findings_raised", "seconds")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_RAISED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    as_of: str
    region_code: str
    rules: _containers.RepeatedCompositeFieldContainer[RuleOutcome]
    findings_raised: int
    seconds: float
    def __init__(self, run_id: _Optional[int] = ..., as_of: _Optional[str] = ..., region_code: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[RuleOutcome, _Mapping]]] = ..., findings_raised: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class FindingQuery(_message.Message):
    __slots__ = ("statuses", "rules", "locality_prefix", "overdue_only", "finding_ids", "after_id", "page_size")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    FINDING_IDS_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[FindingStatus]
    rules: _containers.RepeatedScalarFieldContainer[str]
    locality_prefix: str
    overdue_only: bool
    finding_ids: _containers.RepeatedScalarFieldContainer[int]
    after_id: int
    page_size: int
    def __init__(self, statuses: _Optional[_Iterable[_Union[FindingStatus, str]]] = ..., rules: _Optional[_Iterable[str]] = ..., locality_prefix: _Optional[str] = ..., overdue_only: _Optional[bool] = ..., finding_ids: _Optional[_Iterable[int]] = ..., after_id: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class FindingEvent(_message.Message):
    __slots__ = ("at", "kind", "from_status", "to_status", "actor", "member", "reason")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    kind: str
    from_status: FindingStatus
    to_status: FindingStatus
    actor: str
    member: str
    reason: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., from_status: _Optional[_Union[FindingStatus, str]] = ..., to_status: _Optional[_Union[FindingStatus, str]] = ..., actor: _Optional[str] = ..., member: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("finding_id", "rule", "rule_title", "signal", "severity", "locality", "programme", "household_head", "person", "status", "bureau", "due_on", "overdue", "raised_at", "evidence_json", "previous_finding_id", "reviewer", "reviewed_by", "reviewed_at", "reason", "overpayment_fen", "history")
    FINDING_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    RULE_TITLE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_HEAD_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BUREAU_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_JSON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FINDING_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OVERPAYMENT_FEN_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    finding_id: int
    rule: str
    rule_title: str
    signal: FindingSignal
    severity: FindingSeverity
    locality: str
    programme: _verification_pb2.Programme
    household_head: str
    person: str
    status: FindingStatus
    bureau: str
    due_on: str
    overdue: bool
    raised_at: _timestamp_pb2.Timestamp
    evidence_json: str
    previous_finding_id: int
    reviewer: str
    reviewed_by: str
    reviewed_at: _timestamp_pb2.Timestamp
    reason: str
    overpayment_fen: int
    history: _containers.RepeatedCompositeFieldContainer[FindingEvent]
    def __init__(self, finding_id: _Optional[int] = ..., rule: _Optional[str] = ..., rule_title: _Optional[str] = ..., signal: _Optional[_Union[FindingSignal, str]] = ..., severity: _Optional[_Union[FindingSeverity, str]] = ..., locality: _Optional[str] = ..., programme: _Optional[_Union[_verification_pb2.Programme, str]] = ..., household_head: _Optional[str] = ..., person: _Optional[str] = ..., status: _Optional[_Union[FindingStatus, str]] = ..., bureau: _Optional[str] = ..., due_on: _Optional[str] = ..., overdue: _Optional[bool] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evidence_json: _Optional[str] = ..., previous_finding_id: _Optional[int] = ..., reviewer: _Optional[str] = ..., reviewed_by: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., overpayment_fen: _Optional[int] = ..., history: _Optional[_Iterable[_Union[FindingEvent, _Mapping]]] = ...) -> None: ...

class FindingList(_message.Message):
    __slots__ = ("findings", "next_after_id")
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    next_after_id: int
    def __init__(self, findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., next_after_id: _Optional[int] = ...) -> None: ...

class FindingReview(_message.Message):
    __slots__ = ("finding_id", "action", "reviewer", "reason")
    FINDING_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    finding_id: int
    action: ReviewAction
    reviewer: str
    reason: str
    def __init__(self, finding_id: _Optional[int] = ..., action: _Optional[_Union[ReviewAction, str]] = ..., reviewer: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FindingExportRequest(_message.Message):
    __slots__ = ("format", "query", "with_id_numbers")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    WITH_ID_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    query: FindingQuery
    with_id_numbers: bool
    def __init__(self, format: _Optional[_Union[ExportFormat, str]] = ..., query: _Optional[_Union[FindingQuery, _Mapping]] = ..., with_id_numbers: _Optional[bool] = ...) -> None: ...

class FindingExport(_message.Message):
    __slots__ = ("content", "filename", "media_type", "rows")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    filename: str
    media_type: str
    rows: int
    def __init__(self, content: _Optional[bytes] = ..., filename: _Optional[str] = ..., media_type: _Optional[str] = ..., rows: _Optional[int] = ...) -> None: ...

import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    MALFORMED: _ClassVar[ErrorReason]
    TOO_LARGE: _ClassVar[ErrorReason]
    SIGNATURE_INVALID: _ClassVar[ErrorReason]
    UNKNOWN_SENDER: _ClassVar[ErrorReason]
    KEY_REVOKED: _ClassVar[ErrorReason]
    WRONG_RECIPIENT: _ClassVar[ErrorReason]
    SERVICE_MISMATCH: _ClassVar[ErrorReason]
    EXPIRED: _ClassVar[ErrorReason]
    NOT_YET_VALID: _ClassVar[ErrorReason]
    REPLAYED: _ClassVar[ErrorReason]
    NOT_GRANTED: _ClassVar[ErrorReason]
    CONSENT_MISSING: _ClassVar[ErrorReason]
    CONSENT_EXPIRED: _ClassVar[ErrorReason]
    CONSENT_OUT_OF_SCOPE: _ClassVar[ErrorReason]
    INVALID_ARGUMENT: _ClassVar[ErrorReason]
    MEMBER_UNAVAILABLE: _ClassVar[ErrorReason]
    UNKNOWN_MEMBER: _ClassVar[ErrorReason]
    PEER_MISMATCH: _ClassVar[ErrorReason]
    REQUEST_HASH_MISMATCH: _ClassVar[ErrorReason]
    RATE_LIMITED: _ClassVar[ErrorReason]
    PAYLOAD_TYPE_UNSUPPORTED: _ClassVar[ErrorReason]
    NOT_FOUND: _ClassVar[ErrorReason]
    FAILED_PRECONDITION: _ClassVar[ErrorReason]
    STORAGE_UNAVAILABLE: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
MALFORMED: ErrorReason
TOO_LARGE: ErrorReason
SIGNATURE_INVALID: ErrorReason
UNKNOWN_SENDER: ErrorReason
KEY_REVOKED: ErrorReason
WRONG_RECIPIENT: ErrorReason
SERVICE_MISMATCH: ErrorReason
EXPIRED: ErrorReason
NOT_YET_VALID: ErrorReason
REPLAYED: ErrorReason
NOT_GRANTED: ErrorReason
CONSENT_MISSING: ErrorReason
CONSENT_EXPIRED: ErrorReason
CONSENT_OUT_OF_SCOPE: ErrorReason
INVALID_ARGUMENT: ErrorReason
MEMBER_UNAVAILABLE: ErrorReason
UNKNOWN_MEMBER: ErrorReason
PEER_MISMATCH: ErrorReason
REQUEST_HASH_MISMATCH: ErrorReason
RATE_LIMITED: ErrorReason
PAYLOAD_TYPE_UNSUPPORTED: ErrorReason
NOT_FOUND: ErrorReason
FAILED_PRECONDITION: ErrorReason
STORAGE_UNAVAILABLE: ErrorReason

class Envelope(_message.Message):
    __slots__ = ("payload", "payload_type", "signatures")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    payload_type: str
    signatures: _containers.RepeatedCompositeFieldContainer[Signature]
    def __init__(self, payload: _Optional[bytes] = ..., payload_type: _Optional[str] = ..., signatures: _Optional[_Iterable[_Union[Signature, _Mapping]]] = ...) -> None: ...

class Signature(_message.Message):
    __slots__ = ("keyid", "sig")
    KEYID_FIELD_NUMBER: _ClassVar[int]
    SIG_FIELD_NUMBER: _ClassVar[int]
    keyid: str
    sig: bytes
    def __init__(self, keyid: _Optional[str] = ..., sig: _Optional[bytes] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("header", "body")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    header: Header
    body: _any_pb2.Any
    def __init__(self, header: _Optional[_Union[Header, _Mapping]] = ..., body: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...

class Purpose(_message.Message):
    __slots__ = ("code", "legal_basis", "case_number")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    code: str
    legal_basis: str
    case_number: str
    def __init__(self, code: _Optional[str] = ..., legal_basis: _Optional[str] = ..., case_number: _Optional[str] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("message_id", "correlation_id", "sender", "recipient", "service", "issued_at", "expires_at", "purpose", "consent_ref", "request_hash", "body_type")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_REF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_HASH_FIELD_NUMBER: _ClassVar[int]
    BODY_TYPE_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    correlation_id: str
    sender: str
    recipient: str
    service: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    purpose: Purpose
    consent_ref: str
    request_hash: bytes
    body_type: str
    def __init__(self, message_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., sender: _Optional[str] = ..., recipient: _Optional[str] = ..., service: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., purpose: _Optional[_Union[Purpose, _Mapping]] = ..., consent_ref: _Optional[str] = ..., request_hash: _Optional[bytes] = ..., body_type: _Optional[str] = ...) -> None: ...

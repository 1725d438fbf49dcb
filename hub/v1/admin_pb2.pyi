from hub.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberInfo(_message.Message):
    __slots__ = ("member_id", "name", "kind", "jurisdictions", "endpoint", "signing_keys", "revoked")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    JURISDICTIONS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEYS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    name: str
    kind: str
    jurisdictions: _containers.RepeatedScalarFieldContainer[str]
    endpoint: str
    signing_keys: _containers.RepeatedCompositeFieldContainer[SigningKeyInfo]
    revoked: bool
    def __init__(self, member_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., jurisdictions: _Optional[_Iterable[str]] = ..., endpoint: _Optional[str] = ..., signing_keys: _Optional[_Iterable[_Union[SigningKeyInfo, _Mapping]]] = ..., revoked: _Optional[bool] = ...) -> None: ...

class SigningKeyInfo(_message.Message):
    __slots__ = ("keyid", "suite", "public_key_pem", "revoked")
    KEYID_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    keyid: str
    suite: str
    public_key_pem: bytes
    revoked: bool
    def __init__(self, keyid: _Optional[str] = ..., suite: _Optional[str] = ..., public_key_pem: _Optional[bytes] = ..., revoked: _Optional[bool] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("kind",)
    KIND_FIELD_NUMBER: _ClassVar[int]
    kind: str
    def __init__(self, kind: _Optional[str] = ...) -> None: ...

class MemberList(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[MemberInfo]
    def __init__(self, members: _Optional[_Iterable[_Union[MemberInfo, _Mapping]]] = ...) -> None: ...

class GrantRequest(_message.Message):
    __slots__ = ("member_id", "service", "purpose_code")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_CODE_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    service: str
    purpose_code: str
    def __init__(self, member_id: _Optional[str] = ..., service: _Optional[str] = ..., purpose_code: _Optional[str] = ...) -> None: ...

class RevocationRequest(_message.Message):
    __slots__ = ("member_id", "keyid", "reason")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KEYID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    keyid: str
    reason: str
    def __init__(self, member_id: _Optional[str] = ..., keyid: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

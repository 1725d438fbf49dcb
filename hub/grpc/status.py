"""The one place where core errors become gRPC statuses, and statuses become core errors again.

Each ``hub.errors.HubError`` class maps to a status code; the reason travels as
``google.rpc.ErrorInfo`` (domain ``hub.v1``) with the error's metadata, plus ``BadRequest`` for a
named field and ``RetryInfo`` for errors worth retrying later (a rate limit, the hub's database restarting),
so any gRPC client can act on it.
"""

from __future__ import annotations

import math

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from hub import errors

DOMAIN = "hub.v1"

CODES: dict[str, grpc.StatusCode] = {
    "MALFORMED": grpc.StatusCode.INVALID_ARGUMENT,
    "TOO_LARGE": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "PAYLOAD_TYPE_UNSUPPORTED": grpc.StatusCode.INVALID_ARGUMENT,
    "SIGNATURE_INVALID": grpc.StatusCode.UNAUTHENTICATED,
    "UNKNOWN_SENDER": grpc.StatusCode.UNAUTHENTICATED,
    "KEY_REVOKED": grpc.StatusCode.UNAUTHENTICATED,
    "PEER_MISMATCH": grpc.StatusCode.UNAUTHENTICATED,
    "REQUEST_HASH_MISMATCH": grpc.StatusCode.DATA_LOSS,
    "WRONG_RECIPIENT": grpc.StatusCode.INVALID_ARGUMENT,
    "SERVICE_MISMATCH": grpc.StatusCode.INVALID_ARGUMENT,
    "EXPIRED": grpc.StatusCode.FAILED_PRECONDITION,
    "NOT_YET_VALID": grpc.StatusCode.FAILED_PRECONDITION,
    "REPLAYED": grpc.StatusCode.ALREADY_EXISTS,
    "NOT_GRANTED": grpc.StatusCode.PERMISSION_DENIED,
    "CONSENT_MISSING": grpc.StatusCode.PERMISSION_DENIED,
    "CONSENT_EXPIRED": grpc.StatusCode.PERMISSION_DENIED,
    "CONSENT_OUT_OF_SCOPE": grpc.StatusCode.PERMISSION_DENIED,
    "RATE_LIMITED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "INVALID_ARGUMENT": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "UNKNOWN_MEMBER": grpc.StatusCode.NOT_FOUND,
    "FAILED_PRECONDITION": grpc.StatusCode.FAILED_PRECONDITION,
    "MEMBER_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "STORAGE_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
}

#: Errors that carry ``retry_after`` seconds, sent as ``google.rpc.RetryInfo``.
Retryable = errors.RateLimited | errors.StorageUnavailable

#: The longest ``retry_after`` read from a peer (it is sent on as a ``Duration``, which has a range).
MAX_RETRY_AFTER = 86_400.0


#: Statuses gRPC produces by itself, without an ErrorInfo, read as the core error they amount to.
NATIVE: dict[grpc.StatusCode, type[errors.HubError]] = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.TooLarge,
    grpc.StatusCode.UNIMPLEMENTED: errors.NotFound,
}


def _all_error_classes() -> dict[str, type[errors.HubError]]:
    found: dict[str, type[errors.HubError]] = {}
    pending: list[type[errors.HubError]] = [errors.HubError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.reason, cls)
        pending.extend(cls.__subclasses__())
    return found


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status(error: errors.HubError) -> grpc.Status:
    code = CODES.get(error.reason, grpc.StatusCode.INTERNAL)
    details = [_packed(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=dict(error.metadata)))]
    if isinstance(error, errors.InvalidArgument):
        violation = error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.explanation)
        details.append(_packed(error_details_pb2.BadRequest(field_violations=[violation])))
    if isinstance(error, Retryable):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after * 1e9))
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
    status = status_pb2.Status(code=code.value[0], message=str(error), details=details)
    return rpc_status.to_status(status)


def error_info(call: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ``ErrorInfo`` a hub (or node) attached to a failed call, if any."""
    status = rpc_status.from_call(call)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def from_rpc_error(call: grpc.RpcError, member: str = "") -> errors.HubError:
    """Turn a failed call back into the core error it carried, or ``MemberUnavailable(member)`` if none.

    The ``ErrorInfo`` is read first, whatever the status code: a hub answering UNAVAILABLE because the member
    it routed to did not answer names that member there, and the caller must hear that member, not the hub.
    Only a failure without one (the peer unreachable, a deadline, gRPC's own refusals) is read from the code.
    """
    code = call.code()  # type: ignore[attr-defined]
    details = call.details() or ""  # type: ignore[attr-defined]
    info = error_info(call)
    classes = _all_error_classes()
    if info is not None and info.reason in classes:
        return _rebuilt(classes[info.reason], info, details, member)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return errors.MemberUnavailable(member or "the node", f"{code.name.lower()}: {details}")
    if info is None and code in NATIVE:
        # gRPC itself refused before any hub code ran (e.g. over its own message size limit).
        return NATIVE[code](f"{code.name.lower()}: {details}")
    return errors.MemberUnavailable(member or "the node", f"failed with {code.name}: {details}")


def _rebuilt(
    cls: type[errors.HubError], info: error_details_pb2.ErrorInfo, details: str, member: str
) -> errors.HubError:
    """The error as raised on the other side: its explanation (without the reason prefix) and metadata."""
    metadata = dict(info.metadata)
    explanation = details or info.reason
    if ": " in explanation:
        explanation = explanation.split(": ", 1)[1]
    error = cls.__new__(cls)
    # Set the fields directly, not through ``HubError.__init__(explanation, **metadata)``: the metadata comes
    # from the peer, and a key such as ``explanation`` must not turn its refusal into a TypeError here.
    Exception.__init__(error, explanation)
    error.explanation = explanation
    error.metadata = metadata
    if isinstance(error, errors.InvalidArgument):
        error.field = metadata.get("field", "")
    if isinstance(error, errors.MemberUnavailable):
        error.member = metadata.get("member", member)
    if isinstance(error, Retryable):
        error.retry_after = _seconds(metadata.get("retry_after", ""))
    return error


def _seconds(text: str, default: float = 1.0) -> float:
    """A peer's ``retry_after``: a finite, non-negative number of seconds (at most a day), else ``default``."""
    try:
        seconds = float(text)
    except ValueError:
        return default
    return min(seconds, MAX_RETRY_AFTER) if math.isfinite(seconds) and seconds >= 0 else default

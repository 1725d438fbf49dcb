"""The gRPC boundary: core errors become statuses with ErrorInfo (and RetryInfo), and back again."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from hub import errors
from hub.grpc.status import from_rpc_error, to_status


def as_call(error: errors.HubError) -> grpc.aio.AioRpcError:
    """What a client holds after the server aborted with ``error``."""
    status = to_status(error)
    metadata = grpc.aio.Metadata(*status.trailing_metadata)
    return grpc.aio.AioRpcError(status.code, grpc.aio.Metadata(), metadata, status.details, None)


def retry_delay(call: grpc.aio.AioRpcError) -> float | None:
    status = rpc_status.from_call(call)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


def test_storage_unavailable_is_unavailable_with_a_retry_delay_and_nothing_internal() -> None:
    call = as_call(errors.StorageUnavailable(retry_after=1.5))
    assert call.code() == grpc.StatusCode.UNAVAILABLE
    assert retry_delay(call) == 1.5
    assert "5432" not in (call.details() or "") and "SELECT" not in (call.details() or "")
    error = from_rpc_error(call, "hub")
    assert isinstance(error, errors.StorageUnavailable) and error.retry_after == 1.5


def test_an_unavailable_member_is_named_even_though_the_hub_answered() -> None:
    error = from_rpc_error(as_call(errors.MemberUnavailable("11130629MB1234567U", "no answer within 2.0 s")), "hub")
    assert isinstance(error, errors.MemberUnavailable)
    assert error.member == "11130629MB1234567U"


def test_a_failure_without_error_info_is_the_peer_that_did_not_answer() -> None:
    call = grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "refused", None)
    error = from_rpc_error(call, "hub")
    assert isinstance(error, errors.MemberUnavailable) and error.member == "hub"


def peer_refusal(reason: str, metadata: dict[str, str], code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    """A failed call whose ErrorInfo was written by the peer (an agency node, or anything posing as one)."""
    from google.protobuf import any_pb2
    from google.rpc import status_pb2

    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="hub.v1", metadata=metadata))
    status = rpc_status.to_status(status_pb2.Status(code=code.value[0], message=f"{reason}: no", details=[detail]))
    return grpc.aio.AioRpcError(
        status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), status.details, None
    )


@pytest.mark.parametrize(
    ("reason", "metadata", "code"),
    [
        ("MALFORMED", {"explanation": "mine"}, grpc.StatusCode.INVALID_ARGUMENT),
        ("INVALID_ARGUMENT", {"self": "x", "field": "person"}, grpc.StatusCode.INVALID_ARGUMENT),
        ("RATE_LIMITED", {"retry_after": "soon"}, grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("STORAGE_UNAVAILABLE", {"retry_after": "nan"}, grpc.StatusCode.UNAVAILABLE),
        ("RATE_LIMITED", {"retry_after": "1e308"}, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
def test_a_peers_error_info_is_read_back_whatever_its_metadata(
    reason: str, metadata: dict[str, str], code: grpc.StatusCode
) -> None:
    """The hub reads a node's refusal with ``from_rpc_error``: odd metadata must not raise there (the asker
    would get UNKNOWN), and a retry delay must stay one the hub can send on as RetryInfo."""
    error = from_rpc_error(peer_refusal(reason, metadata, code), "11130629MB1234567U")
    assert error.reason == reason and error.explanation == "no"
    if isinstance(error, errors.StorageUnavailable | errors.RateLimited):
        assert 0 <= error.retry_after <= 86_400
    assert to_status(error).code == code

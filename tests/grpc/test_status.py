"""The gRPC boundary: core errors become statuses with ErrorInfo (and RetryInfo), and back again."""

from __future__ import annotations

import grpc
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

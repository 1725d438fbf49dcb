"""Each header policy alone, against a verified envelope and a hand-made registry snapshot."""

from __future__ import annotations

import datetime as dt

import pytest

from hub import services
from hub.envelope import Opened, SigningKey, StaticKeyRing, new_header, open_envelope, seal
from hub.errors import (
    Expired,
    InvalidArgument,
    NotGranted,
    NotYetValid,
    Replayed,
    ServiceMismatch,
    WrongRecipient,
)
from hub.policy import (
    AllOf,
    Call,
    RecipientIsHubOrMember,
    ReplayGuard,
    SenderIsGranted,
    ServiceMatchesCall,
    ValidityWindow,
)
from hub.registry import DirectorySnapshot, Member
from hub.store import Store
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Purpose

ASKER = "11110115MB0000007E"
ANSWERER = "11130629MB1234567U"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
KEY = SigningKey.generate(owner=ASKER)


def snapshot(grants: frozenset[tuple[str, str, str]] = frozenset()) -> DirectorySnapshot:
    members = {
        ASKER: Member(ASKER, "civil-affairs", "大兴区民政局", "", ("110115",), False),
        ANSWERER: Member(ANSWERER, "public-security", "容城县公安局", "", ("130629",), False),
    }
    return DirectorySnapshot(members, {}, {}, grants)


def message(
    *,
    recipient: str = "public-security@130629",
    service: str = services.HOUSEHOLD_REGISTRATION,
    issued: dt.datetime = NOW,
    ttl: dt.timedelta = dt.timedelta(minutes=5),
    purpose: str = "dibao.application",
) -> Opened:
    header = new_header(
        sender=ASKER, recipient=recipient, service=service, purpose=Purpose(code=purpose), now=issued, ttl=ttl
    )
    return open_envelope(seal(header, verification_pb2.HouseholdRegistrationQuery(), KEY), StaticKeyRing([KEY.public]))


def call(
    grants: frozenset[tuple[str, str, str]] = frozenset(),
    now: dt.datetime = NOW,
    service: str = services.HOUSEHOLD_REGISTRATION,
) -> Call:
    return Call(service=service, now=now, directory=snapshot(grants), hub_id="hub")


def test_a_routed_service_is_addressed_to_a_member_or_a_routed_address() -> None:
    policy = RecipientIsHubOrMember()
    for recipient in (ANSWERER, "public-security@130629"):
        policy.check(message(recipient=recipient), call())
    for recipient in ("hub", "public-security@650100", "11110115MB0000037H", "education@130629"):
        with pytest.raises(WrongRecipient):
            policy.check(message(recipient=recipient), call())


@pytest.mark.parametrize("service", [services.CONSENT_REGISTER, services.ADMIN_GRANT, services.HOUSEHOLD_CHECK])
def test_a_service_the_hub_answers_itself_is_addressed_to_the_hub(service: str) -> None:
    policy = RecipientIsHubOrMember()
    policy.check(message(recipient="hub", service=service), call(service=service))
    for recipient in (ANSWERER, "public-security@130629", "nowhere@1"):
        with pytest.raises(WrongRecipient, match="answered by this hub"):
            policy.check(message(recipient=recipient, service=service), call(service=service))


@pytest.mark.parametrize("field", ["issued_at", "expires_at"])
@pytest.mark.parametrize("seconds", [2**40, -(2**40), 253_402_300_800])
def test_times_no_datetime_can_hold_are_refused_naming_the_field(field: str, seconds: int) -> None:
    opened = message()
    stamp = getattr(opened.header, field)
    stamp.seconds = seconds
    with pytest.raises(InvalidArgument) as raised:
        ValidityWindow().check(opened, call())
    assert raised.value.field == f"header.{field}"


def test_service_must_be_the_rpc_called() -> None:
    ServiceMatchesCall().check(message(), call())
    with pytest.raises(ServiceMismatch, match="ResidencePermit"):
        ServiceMatchesCall().check(message(service=services.RESIDENCE_PERMIT), call())


@pytest.mark.parametrize(
    ("issued", "ttl", "error"),
    [
        (NOW - dt.timedelta(minutes=1), dt.timedelta(minutes=5), None),
        (NOW + dt.timedelta(seconds=90), dt.timedelta(minutes=5), None),  # within the skew
        (NOW + dt.timedelta(minutes=3), dt.timedelta(minutes=5), NotYetValid),
        (NOW - dt.timedelta(minutes=6), dt.timedelta(minutes=5), None),  # expired 1 min ago, skew is 2
        (NOW - dt.timedelta(minutes=8), dt.timedelta(minutes=5), Expired),
        (NOW, dt.timedelta(hours=2), InvalidArgument),  # window longer than allowed
    ],
)
def test_validity_window_with_bounded_skew(
    issued: dt.datetime, ttl: dt.timedelta, error: type[Exception] | None
) -> None:
    policy = ValidityWindow(skew=dt.timedelta(minutes=2), longest=dt.timedelta(hours=1))
    opened = message(issued=issued, ttl=ttl)
    if error is None:
        policy.check(opened, call())
    else:
        with pytest.raises(error):
            policy.check(opened, call())


def test_grant_for_the_purpose_or_any_purpose() -> None:
    service = services.HOUSEHOLD_REGISTRATION
    SenderIsGranted().check(message(), call(frozenset({(ASKER, service, "dibao.application")})))
    SenderIsGranted().check(message(purpose="x"), call(frozenset({(ASKER, service, "*")})))
    with pytest.raises(NotGranted, match=r"dibao\.application"):
        SenderIsGranted().check(message(), call(frozenset({(ASKER, service, "tekun.application")})))


def test_replay_guard_accepts_once_and_remembers_in_the_database(store: Store) -> None:
    opened = message(issued=dt.datetime.now(dt.UTC))
    ReplayGuard(store).check(opened, call())
    with pytest.raises(Replayed):
        ReplayGuard(store).check(opened, call())  # a new guard: only the database remembers


def test_replay_guard_forgets_only_after_the_window(store: Store) -> None:
    opened = message(issued=dt.datetime.now(dt.UTC))
    guard = ReplayGuard(store)
    guard.check(opened, call())
    assert guard.purge(dt.datetime.now(dt.UTC)) == 0
    assert guard.purge(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == 1


def test_all_of_raises_the_first_failure() -> None:
    policy = AllOf((ServiceMatchesCall(), RecipientIsHubOrMember()))
    with pytest.raises(ServiceMismatch):
        policy.check(message(service=services.RESIDENCE_PERMIT, recipient="nowhere@1"), call())

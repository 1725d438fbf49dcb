"""The member registry on the store: members, keys, grants, revocation and longest-prefix routing."""

from __future__ import annotations

import threading

import pytest

from hub import services
from hub.envelope import SigningKey
from hub.errors import InvalidArgument, KeyRevoked, UnknownMember, UnknownSender
from hub.registry import Directory, Registry
from hub.store import Store

RONGCHENG_CA = "11130629MB0000027U"
DAXING_PS = "11110115MB0000037H"


def uscc(base16: str) -> str:
    from hub.identifiers import uscc_check_character

    return base16 + uscc_check_character(base16)


@pytest.fixture
def registry(store: Store) -> Registry:
    return Registry(store)


def test_member_ids_are_validated(registry: Registry) -> None:
    with pytest.raises(InvalidArgument) as raised:
        registry.add_member("11130629MB0000027X", kind="civil-affairs")
    assert raised.value.field == "member_id"
    with pytest.raises(InvalidArgument, match="kind"):
        registry.add_member(RONGCHENG_CA, kind="astrology")
    with pytest.raises(InvalidArgument):
        registry.add_member(RONGCHENG_CA, kind="civil-affairs", jurisdictions=["999999"])


def test_subsystems_are_members_of_their_own(registry: Registry) -> None:
    registry.add_member(RONGCHENG_CA, kind="civil-affairs", jurisdictions=["130629"])
    member = registry.add_member(f"{RONGCHENG_CA}/dibao", kind="civil-affairs")
    assert member.member_id.endswith("/dibao")
    assert [m.member_id for m in registry.members("civil-affairs")] == [RONGCHENG_CA, f"{RONGCHENG_CA}/dibao"]


def test_routing_is_longest_prefix(registry: Registry) -> None:
    province = uscc("11130000MB0000011")
    registry.add_member(province, kind="civil-affairs", jurisdictions=["13"])
    registry.add_member(RONGCHENG_CA, kind="civil-affairs", jurisdictions=["130629"])
    registry.add_member(DAXING_PS, kind="public-security", jurisdictions=["110115"])
    snapshot = registry.snapshot()
    assert snapshot.route("civil-affairs", "130629").member_id == RONGCHENG_CA
    assert snapshot.route("civil-affairs", "130602").member_id == province
    with pytest.raises(UnknownMember):
        snapshot.route("civil-affairs", "110115")
    registry.revoke_member(RONGCHENG_CA, "merged into another county")
    assert registry.snapshot().route("civil-affairs", "130629").member_id == province


def test_keys_grants_and_revocation(registry: Registry) -> None:
    registry.add_member(RONGCHENG_CA, kind="civil-affairs", jurisdictions=["130629"])
    key = SigningKey.generate("ecdsa-p256")
    keyid = registry.add_signing_key(RONGCHENG_CA, key.public.pem())
    registry.grant(RONGCHENG_CA, services.ASSISTANCE_INQUIRY, "dibao.application")
    directory = Directory(registry, ttl=60)
    assert directory.lookup(keyid).owner == RONGCHENG_CA
    assert directory.current.is_granted(RONGCHENG_CA, services.ASSISTANCE_INQUIRY, "dibao.application")
    assert not directory.current.is_granted(RONGCHENG_CA, services.ASSISTANCE_INQUIRY, "other.purpose")
    with pytest.raises(UnknownSender):
        directory.lookup("0" * 64)

    registry.revoke_key(keyid)
    assert directory.lookup(keyid).owner == RONGCHENG_CA, "the cached snapshot lives until its ttl"
    directory.invalidate()
    with pytest.raises(KeyRevoked):
        directory.lookup(keyid)


def test_revoking_a_member_revokes_its_keys(registry: Registry) -> None:
    registry.add_member(DAXING_PS, kind="public-security", jurisdictions=["110115"])
    keyid = registry.add_signing_key(DAXING_PS, SigningKey.generate().public.pem())
    registry.revoke_member(DAXING_PS)
    with pytest.raises(KeyRevoked):
        registry.snapshot().lookup(keyid)


def test_a_key_cannot_move_between_members(registry: Registry) -> None:
    from hub.errors import FailedPrecondition

    registry.add_member(DAXING_PS, kind="public-security")
    registry.add_member(RONGCHENG_CA, kind="civil-affairs")
    pem = SigningKey.generate().public.pem()
    registry.add_signing_key(DAXING_PS, pem)
    with pytest.raises(FailedPrecondition):
        registry.add_signing_key(RONGCHENG_CA, pem)


def _register_together(store: Store, member: str, key: bytes, replicas: int) -> list[BaseException]:
    """``replicas`` threads add ``member`` and ``key`` at once, as hubs starting together do; their errors."""
    start = threading.Barrier(replicas)
    errors: list[BaseException] = []

    def register() -> None:
        registry = Registry(store)
        start.wait()
        try:
            registry.add_member(member, kind="hub", name="the hub")
            registry.add_signing_key(member, key)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=register) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_replicas_starting_together_add_the_same_member_and_key_without_failing(store: Store) -> None:
    """Hub replicas on one database register the hub and its key at start-up at the same moment: the ones
    that lose the race find the winner's rows instead of failing to start."""
    if store.dialect != "postgresql":
        pytest.skip("replicas share a PostgreSQL database (SQLite serialises its writers)")
    for round_ in range(5):
        member = uscc(f"1111011{round_}MB000000{round_}")
        assert _register_together(store, member, SigningKey.generate().public.pem(), 4) == []
        assert Registry(store).get(member).kind == "hub"

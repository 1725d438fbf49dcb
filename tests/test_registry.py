"""The member registry on the store: members, keys, grants, revocation and longest-prefix routing."""

from __future__ import annotations

import threading
import time

import pytest

from hub import services
from hub.envelope import SigningKey, VerifyingKey
from hub.errors import InvalidArgument, KeyRevoked, UnknownMember, UnknownSender
from hub.registry import Directory, DirectorySnapshot, Member, Registry
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


class _GatedRegistry:
    """A registry whose reads after the first wait for ``release``; each read returns a new snapshot."""

    def __init__(self) -> None:
        self.reads = 0
        self.release = threading.Event()
        self.started = threading.Event()

    def snapshot(self) -> DirectorySnapshot:
        self.reads += 1
        if self.reads > 1:
            self.started.set()
            assert self.release.wait(5)
        return DirectorySnapshot({}, {}, {}, frozenset({(str(self.reads), "", "")}))


def _read_number(snapshot: DirectorySnapshot) -> int:
    ((number, _, _),) = snapshot.grants
    return int(number)


def test_a_stale_directory_is_served_while_the_next_snapshot_is_read_in_the_background() -> None:
    """No request waits for the registry to be read once the hub has a snapshot: past ``ttl`` the old one is
    served and a thread reads the next; past twice ``ttl`` (or after ``invalidate``) the read happens in line."""
    registry = _GatedRegistry()
    directory = Directory(registry, ttl=0.2)  # type: ignore[arg-type]
    assert _read_number(directory.current) == 1
    time.sleep(0.25)
    started = time.monotonic()
    assert _read_number(directory.current) == 1, "served stale while the next read runs"
    assert _read_number(directory.current) == 1
    assert time.monotonic() - started < 0.1, "the caller did not wait for the read"
    assert registry.started.wait(5)
    registry.release.set()
    deadline = time.monotonic() + 5
    while _read_number(directory.current) == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _read_number(directory.current) == 2 and registry.reads == 2, "one background read, then installed"

    time.sleep(0.45)  # past twice the ttl: read before answering
    assert _read_number(directory.current) == 3


def test_a_background_read_begun_before_an_invalidation_is_not_installed() -> None:
    registry = _GatedRegistry()
    directory = Directory(registry, ttl=0.2)  # type: ignore[arg-type]
    assert _read_number(directory.current) == 1
    time.sleep(0.25)
    assert _read_number(directory.current) == 1  # and a background read (2) starts, and waits
    assert registry.started.wait(5)
    directory.invalidate()  # e.g. a key revoked through this process
    registry.release.set()
    assert _read_number(directory.current) == 3, "read in line after the invalidation"
    time.sleep(0.1)  # the background read (2) finishes meanwhile; it began before the invalidation
    assert _read_number(directory.current) == 3


def test_a_snapshot_parses_each_key_once(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.add_member(RONGCHENG_CA, kind="civil-affairs", jurisdictions=["130629"])
    keyid = registry.add_signing_key(RONGCHENG_CA, SigningKey.generate("ecdsa-p256").public.pem())
    parsed: list[bytes] = []
    original = VerifyingKey.from_pem

    def counting(pem: bytes, owner: str = "") -> VerifyingKey:
        parsed.append(pem)
        return original(pem, owner=owner)

    monkeypatch.setattr(VerifyingKey, "from_pem", staticmethod(counting))
    first = registry.snapshot()
    assert len(parsed) == 1
    registry.add_member(DAXING_PS, kind="public-security", jurisdictions=["110115"])
    other = registry.add_signing_key(DAXING_PS, SigningKey.generate("ed25519").public.pem())
    parsed.clear()  # adding a key parses it too (to check it)
    second = registry.snapshot()
    assert len(parsed) == 1, "the next snapshot parses only the key it had not seen"
    assert second.lookup(keyid) is first.lookup(keyid)
    assert second.lookup(other).owner == DAXING_PS
    registry.revoke_key(keyid)
    with pytest.raises(KeyRevoked):
        registry.snapshot().lookup(keyid)


def test_routing_by_index_agrees_with_a_walk_over_every_member() -> None:
    """The snapshot routes through a (kind, prefix) index; the answer must be the walk's: the longest matching
    prefix among active members of the kind, the first registered on a tie."""
    import random

    rng = random.Random(7)
    kinds = ("civil-affairs", "public-security")
    members = {}
    for n in range(400):
        prefixes = {rng.choice(["13", "11", "1306", "1101", "130629", "130602", "110115", "110108"]) for _ in range(2)}
        member = Member(f"m{n}", rng.choice(kinds), "", "", tuple(sorted(prefixes)), revoked=rng.random() < 0.2)
        members[member.member_id] = member
    snapshot = DirectorySnapshot(members, {}, {}, frozenset())

    def walk(kind: str, region: str) -> str | None:
        best: tuple[int, str] | None = None
        for member in members.values():
            if member.kind == kind and not member.revoked:
                for prefix in member.jurisdictions:
                    if region.startswith(prefix) and (best is None or len(prefix) > best[0]):
                        best = (len(prefix), member.member_id)
        return best[1] if best else None

    for kind in kinds:
        for region in ("130629", "130602", "130681", "110115", "110108", "110101", "120101", "1306"):
            expected = walk(kind, region)
            if expected is None:
                with pytest.raises(UnknownMember):
                    snapshot.route(kind, region)
            else:
                assert snapshot.route(kind, region).member_id == expected, (kind, region)

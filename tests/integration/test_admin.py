"""Registry administration over signed RPCs: only an operator with an admin grant may change it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import services
from hub.envelope import SigningKey
from hub.errors import HubError
from hub.sandbox import MemberSpec, Sandbox
from hub.v1 import admin_pb2
from hub.v1.envelope_pb2 import Purpose
from tests.integration.conftest import run

pytestmark = pytest.mark.integration

OPERATOR = "11130000MB00000118"  # 河北省民政厅, runs the hub
BUREAU = "11110115MB0000007E"
NEWCOMER = "11130629MB0000027U"
ADMIN = (services.ADMIN_LIST_MEMBERS, services.ADMIN_ADD_MEMBER, services.ADMIN_GRANT, services.ADMIN_REVOKE)


def test_an_operator_adds_grants_and_revokes_members_and_a_bureau_may_not(tmp_path: Path, database_url: str) -> None:
    async def scenario() -> None:
        sandbox = Sandbox(
            tmp_path / "world",
            [
                MemberSpec(OPERATOR, "civil-affairs", "河北省民政厅", ("13",), grants=tuple((s, "*") for s in ADMIN)),
                MemberSpec(BUREAU, "civil-affairs", "大兴区民政局", ("110115",)),
            ],
            database_url=database_url,
        )
        sandbox.provision()
        await sandbox.start(with_nodes=False)
        try:
            operator = sandbox.client(OPERATOR)
            purpose = Purpose(code="registry.admin")
            key = SigningKey.generate("ecdsa-p256")
            info = admin_pb2.MemberInfo(
                member_id=NEWCOMER,
                name="容城县民政局",
                kind="civil-affairs",
                jurisdictions=["130629"],
                signing_keys=[admin_pb2.SigningKeyInfo(public_key_pem=key.public.pem())],
            )
            added = await operator.ask(
                services.ADMIN_ADD_MEMBER, info, admin_pb2.MemberInfo, recipient="hub", purpose=purpose
            )
            assert added.body.signing_keys[0].keyid == key.keyid
            await operator.ask(
                services.ADMIN_GRANT,
                admin_pb2.GrantRequest(
                    member_id=NEWCOMER, service=services.ASSISTANCE_INQUIRY, purpose_code="dibao.application"
                ),
                admin_pb2.GrantRequest,
                recipient="hub",
                purpose=purpose,
            )
            listed = await operator.ask(
                services.ADMIN_LIST_MEMBERS,
                admin_pb2.ListMembersRequest(kind="civil-affairs"),
                admin_pb2.MemberList,
                recipient="hub",
                purpose=purpose,
            )
            assert NEWCOMER in {m.member_id for m in listed.body.members}
            await operator.ask(
                services.ADMIN_REVOKE,
                admin_pb2.RevocationRequest(member_id=NEWCOMER, reason="county merged"),
                admin_pb2.RevocationRequest,
                recipient="hub",
                purpose=purpose,
            )
            assert sandbox.hub is not None and sandbox.hub.registry.get(NEWCOMER).revoked

            bureau = sandbox.client(BUREAU)
            with pytest.raises(HubError) as raised:
                await bureau.ask(
                    services.ADMIN_ADD_MEMBER, info, admin_pb2.MemberInfo, recipient="hub", purpose=purpose
                )
            assert raised.value.reason == "NOT_GRANTED"
        finally:
            await sandbox.stop()

    run(scenario())

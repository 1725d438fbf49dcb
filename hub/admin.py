"""The Admin service: the member registry over signed RPCs, for operators who hold an admin grant.

Each handler makes its change in one registry transaction, so a refused request (an unknown member or key,
a bad value) changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.protobuf.message import Message as ProtoMessage

from hub import services
from hub.envelope import Opened
from hub.policy import Call
from hub.registry import Directory, Member, Registry
from hub.v1 import admin_pb2

if TYPE_CHECKING:
    from hub.exchange import LocalHandler


def member_info(member: Member, registry: Registry) -> admin_pb2.MemberInfo:
    snapshot = registry.snapshot()
    keys = [
        admin_pb2.SigningKeyInfo(keyid=key.keyid, suite=key.suite.name, public_key_pem=key.pem(), revoked=revoked)
        for key, revoked in snapshot.keys.values()
        if key.owner == member.member_id
    ]
    return admin_pb2.MemberInfo(
        member_id=member.member_id,
        name=member.name,
        kind=member.kind,
        jurisdictions=list(member.jurisdictions),
        endpoint=member.endpoint,
        signing_keys=keys,
        revoked=member.revoked,
    )


def admin_handlers(registry: Registry, directory: Directory) -> dict[str, LocalHandler]:
    async def list_members(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(admin_pb2.ListMembersRequest)
        members = registry.members(body.kind or None)
        return admin_pb2.MemberList(members=[member_info(m, registry) for m in members])

    async def add_member(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(admin_pb2.MemberInfo)
        member = registry.add_member(
            body.member_id,
            kind=body.kind,
            name=body.name,
            jurisdictions=body.jurisdictions,
            endpoint=body.endpoint,
            signing_keys=[key.public_key_pem for key in body.signing_keys],
        )
        directory.invalidate()
        return member_info(registry.get(member.member_id), registry)

    async def grant(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(admin_pb2.GrantRequest)
        registry.grant(body.member_id, body.service, body.purpose_code or "*")
        directory.invalidate()
        return body

    async def revoke(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(admin_pb2.RevocationRequest)
        if body.keyid:
            registry.revoke_key(body.keyid, body.member_id or None)  # named: only that member's key
        else:
            registry.revoke_member(body.member_id, body.reason)
        directory.invalidate()
        return body

    return {
        services.ADMIN_LIST_MEMBERS: list_members,
        services.ADMIN_ADD_MEMBER: add_member,
        services.ADMIN_GRANT: grant,
        services.ADMIN_REVOKE: revoke,
    }

"""Questions the hub asks members on its own account: a household check's fan-out, the annual cross-check.

The question is signed by the hub (so the node, which trusts only the hub, accepts it); the answer
must be signed by the member asked and bound to this question's bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message as ProtoMessage

from hub.envelope import Opened, SigningKey, new_header, open_envelope, seal
from hub.errors import HubError, RequestHashMismatch
from hub.registry import Directory, Member
from hub.transport import NodeTransport
from hub.v1.envelope_pb2 import Envelope, Purpose


class Recorder(Protocol):
    async def record_exchange(
        self, question: Envelope, answer: Envelope | None, outcome: str, subjects: Sequence[str]
    ) -> None: ...


@dataclass
class HubQuestions:
    hub_id: str
    signer: SigningKey
    directory: Directory
    transport: NodeTransport
    #: The audit log: every question the hub asks, and its answer, is recorded like any other exchange.
    recorder: Recorder | None = None

    async def ask(
        self,
        member: Member,
        service: str,
        body: ProtoMessage,
        *,
        purpose: Purpose,
        timeout: float,
        consent_ref: str = "",
        correlation_id: str = "",
        subjects: Sequence[str] = (),
    ) -> tuple[Envelope, Opened]:
        """Ask ``member``; return its signed answer as received and opened (verified).

        Raises ``TimeoutError`` after ``timeout`` seconds, ``MemberUnavailable`` or the member's refusal;
        the question and its outcome are recorded either way.
        """
        question = seal(
            new_header(
                sender=self.hub_id,
                recipient=member.member_id,
                service=service,
                purpose=purpose,
                consent_ref=consent_ref,
                correlation_id=correlation_id,
            ),
            body,
            self.signer,
        )
        try:
            answer = await asyncio.wait_for(self.transport.deliver(member, service, question, timeout=timeout), timeout)
            opened = open_envelope(answer, self.directory)
            if (
                opened.sender != member.member_id
                or opened.header.request_hash != hashlib.sha256(question.payload).digest()
            ):
                raise RequestHashMismatch(f"the answer from {member.member_id} does not answer this question")
        except (HubError, TimeoutError) as error:
            if self.recorder is not None:
                reason = error.reason if isinstance(error, HubError) else "TIMED_OUT"
                await self.recorder.record_exchange(question, None, reason, subjects)
            raise
        if self.recorder is not None:
            await self.recorder.record_exchange(question, answer, "ok", subjects)
        return answer, opened

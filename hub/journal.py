"""What a handled request leaves behind: its message id (replay memory) and its audit entries.

Both are written in one transaction, and that transaction is shared with whatever other requests
are finishing at the same moment (``GroupCommitWriter``): one commit per batch instead of one per
request is what keeps the audited query path near the speed of bare gRPC. A request's answer is
released only after its record has committed.

Message bodies are not kept: they carry raw ID numbers, and the audit trail never holds one. The log
keeps each body's SHA-256 (covered by the chain), the signatures and the subject tokens, so whoever
holds an envelope (the asker, the answerer) can prove it against the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from hub.audit import AuditLog, AuditRecord, record_from_envelope, record_from_opened
from hub.envelope import Opened
from hub.errors import Replayed
from hub.policy import ReplayGuard
from hub.privacy import Tokenizer
from hub.store._writer import GroupCommitWriter
from hub.v1.envelope_pb2 import Envelope


@dataclass
class Journal:
    replay: ReplayGuard
    writer: GroupCommitWriter
    tokenizer: Tokenizer
    audit: AuditLog | None = None

    def check_fresh(self, request: Opened) -> None:
        self.replay.check_fresh(request)

    async def settle(self, request: Opened, answer: Envelope | None, outcome: str, subjects: Sequence[str]) -> None:
        """Record the request (and its answer) durably; ``Replayed`` if another process took its id first."""
        records = self.records(request, answer, outcome, subjects) if self.audit is not None else []

        def work(connection: Connection) -> None:
            self.replay.remember_on(connection, request)
            if records and self.audit is not None:
                self.audit.append_on(connection, records)

        try:
            await self.writer.submit(work)
        except IntegrityError:
            raise Replayed(f"message {request.header.message_id} was already accepted") from None
        self.replay.note(request)

    def records(
        self, request: Opened, answer: Envelope | None, outcome: str, subjects: Sequence[str]
    ) -> list[AuditRecord]:
        tokens = [self.tokenizer.token(number) for number in subjects]
        records = [
            record_from_opened(request, kind="request", subject_tokens=tokens, outcome=outcome, keep_payload=False)
        ]
        if answer is not None:
            records.append(record_from_envelope(answer, kind="response", subject_tokens=tokens, keep_payload=False))
        return records

    async def record_exchange(
        self, question: Envelope, answer: Envelope | None, outcome: str, subjects: Sequence[str]
    ) -> None:
        """A question the hub asked on its own account (a fan-out source, a cross-check) and its answer."""
        if self.audit is None:
            return
        tokens = [self.tokenizer.token(number) for number in subjects]
        records = [
            record_from_envelope(question, kind="request", subject_tokens=tokens, outcome=outcome, keep_payload=False)
        ]
        if answer is not None:
            records.append(record_from_envelope(answer, kind="response", subject_tokens=tokens, keep_payload=False))
        audit = self.audit
        await self.writer.submit(lambda connection: audit.append_on(connection, records))

    def close(self) -> None:
        self.writer.close()

"""What a handled request leaves behind: its message id (replay memory) and its audit entries.

With the audit log on, the request's entry is its replay memory (no second copy of the id is written);
without it, the id goes to ``seen_messages``. Everything is written in one transaction, and that
transaction is shared with whatever other requests are finishing at the same moment
(``GroupCommitWriter``): one commit per batch instead of one per request is what keeps the audited
query path near the speed of bare gRPC. A request's answer is released only after its record has
committed.

Message bodies are not kept: they carry raw ID numbers, and the audit trail never holds one. The log
keeps each body's SHA-256 (covered by the chain), the signatures and the subject tokens, so whoever
holds an envelope (the asker, the answerer) can prove it against the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from hub.audit import AuditLog, PreparedRecord, prepare_envelope, prepare_opened
from hub.envelope import Opened
from hub.errors import Replayed
from hub.policy import ReplayGuard
from hub.privacy import Tokenizer
from hub.store._writer import GroupCommitWriter
from hub.v1.envelope_pb2 import Envelope


@dataclass
class Journal:
    """With an audit log, ``replay`` must read it (``ReplayGuard(..., in_audit_log=True)``): the log is then
    the only place a request's id is remembered."""

    replay: ReplayGuard
    writer: GroupCommitWriter
    tokenizer: Tokenizer
    audit: AuditLog | None = None

    def __post_init__(self) -> None:
        if (self.audit is not None) != self.replay.in_audit_log:
            raise ValueError("the replay guard must read the audit log exactly when there is one")

    def check_fresh(self, request: Opened) -> None:
        self.replay.check_fresh(request)

    async def settle(self, request: Opened, answer: Envelope | None, outcome: str, subjects: Sequence[str]) -> None:
        """Record the request (and its answer) durably; ``Replayed`` if another process took its id first."""
        records = self.records(request, answer, outcome, self.tokens(subjects)) if self.audit is not None else []
        await self._journaled(request, lambda connection: (answer, records))

    async def settle_effect(
        self, request: Opened, effect: Callable[[Connection], Envelope], subjects: Sequence[str]
    ) -> Envelope:
        """Run ``effect`` (a local handler's write, returning the answer) in the transaction that records the
        request and its answer: the effect, the replay memory and the audit entries commit together, and a
        refusal raised by the effect leaves none of them."""
        tokens = self.tokens(subjects)

        def produce(connection: Connection) -> tuple[Envelope, list[PreparedRecord]]:
            answer = effect(connection)
            return answer, self.records(request, answer, "ok", tokens) if self.audit is not None else []

        answer = await self._journaled(request, produce)
        assert answer is not None
        return answer

    async def _journaled(
        self, request: Opened, produce: Callable[[Connection], tuple[Envelope | None, list[PreparedRecord]]]
    ) -> Envelope | None:
        def work(connection: Connection) -> Envelope | None:
            answer, records = produce(connection)
            self._remember_and_append(connection, request, records)
            return answer

        answer: Envelope | None = await self.writer.submit(work)
        self.replay.note(request)
        return answer

    def record_on(self, connection: Connection, request: Opened) -> None:
        """Journal an admitted request on the caller's connection, in the transaction of its effect (a feed
        chunk's rows, say); call ``noted`` once that transaction has committed. ``Replayed`` on a taken id."""
        records = self.records(request, None, "ok", []) if self.audit is not None else []
        self._remember_and_append(connection, request, records)

    def noted(self, request: Opened) -> None:
        self.replay.note(request)

    async def settle_answer(self, answer: Envelope) -> None:
        """Log the answer to a request already journaled with its effect (a feed stream's receipt)."""
        if self.audit is None:
            return
        record = prepare_envelope(answer, kind="response", subject_tokens=())
        audit = self.audit
        await self.writer.submit(lambda connection: audit.append_on(connection, [record]))

    def _remember_and_append(self, connection: Connection, request: Opened, records: list[PreparedRecord]) -> None:
        if self.audit is not None:  # the request's entry is its replay memory (``ReplayGuard.in_audit_log``)
            self.audit.append_on(connection, records, new_request=request.header.message_id)
            return
        try:
            self.replay.remember_on(connection, request)
        except IntegrityError:
            raise Replayed(f"message {request.header.message_id} was already accepted") from None

    def tokens(self, subjects: Sequence[str]) -> list[bytes]:
        return [self.tokenizer.token(number) for number in subjects] if self.audit is not None else []

    @staticmethod
    def records(
        request: Opened, answer: Envelope | None, outcome: str, tokens: Sequence[bytes]
    ) -> list[PreparedRecord]:
        """The request's entry and its answer's, encoded now rather than while the append holds the log's lock."""
        records = [prepare_opened(request, kind="request", subject_tokens=tokens, outcome=outcome)]
        if answer is not None:
            records.append(prepare_envelope(answer, kind="response", subject_tokens=tokens))
        return records

    async def record_exchange(
        self, question: Envelope, answer: Envelope | None, outcome: str, subjects: Sequence[str]
    ) -> None:
        """A question the hub asked on its own account (a fan-out source, a cross-check) and its answer."""
        if self.audit is None:
            return
        tokens = self.tokens(subjects)
        records = [prepare_envelope(question, kind="request", subject_tokens=tokens, outcome=outcome)]
        if answer is not None:
            records.append(prepare_envelope(answer, kind="response", subject_tokens=tokens))
        audit = self.audit
        await self.writer.submit(lambda connection: audit.append_on(connection, records))

    def close(self) -> None:
        self.writer.close()
        self.replay.close()

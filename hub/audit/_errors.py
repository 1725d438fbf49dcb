"""Errors of the audit log: evidence that does not add up is a typed error naming where and what."""

from __future__ import annotations

from hub.errors import HubError


class AuditTampered(HubError):
    """The log (or an export of it) is not what the hub wrote: ``problem`` says what, ``line``/``seq`` where.

    ``problem`` is one of ``malformed``, ``gap``, ``out_of_order``, ``inserted``, ``chain_broken``,
    ``hash_mismatch``, ``payload_mismatch``, ``bad_signature``, ``root_mismatch``, ``truncated``,
    ``proof_invalid``. ``line`` is 1-based (0 when not read from a file); ``seq`` is -1 when unknown.
    """

    reason = "AUDIT_TAMPERED"

    def __init__(self, problem: str, explanation: str, *, line: int = 0, seq: int = -1) -> None:
        where = ", ".join(part for part in (f"line {line}" if line else "", f"seq {seq}" if seq >= 0 else "") if part)
        super().__init__(
            f"{where}: {explanation}" if where else explanation, problem=problem, line=str(line), seq=str(seq)
        )
        self.problem = problem
        self.line = line
        self.seq = seq


class ProofInvalid(AuditTampered):
    """A Merkle inclusion or consistency proof does not lead to the root it claims."""

    def __init__(self, explanation: str) -> None:
        super().__init__("proof_invalid", explanation)

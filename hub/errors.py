"""Typed errors of the hub core.

The core raises; it never returns ``False``. Each error carries a machine-readable ``reason``
(the ``hub.v1.ErrorReason`` name sent as ``google.rpc.ErrorInfo.reason``), a human explanation
for the bureau officer who sees it, and optional ``metadata`` (e.g. the offending field). The gRPC
boundary (``hub.grpc.status``) maps each class to a status code once; nothing else does.

    HubError
    ├── EnvelopeError                   the envelope itself cannot be trusted
    │   ├── Malformed                   MALFORMED             not parseable
    │   ├── TooLarge                    TOO_LARGE             over the size limit
    │   ├── PayloadTypeUnsupported      PAYLOAD_TYPE_UNSUPPORTED
    │   ├── SignatureInvalid            SIGNATURE_INVALID     no signature verifies
    │   ├── UnknownSender               UNKNOWN_SENDER        sender / keyid not registered
    │   ├── KeyRevoked                  KEY_REVOKED           key or certificate revoked
    │   ├── PeerMismatch                PEER_MISMATCH         TLS peer is not the sender
    │   └── RequestHashMismatch         REQUEST_HASH_MISMATCH an answer to another question
    ├── PolicyError                     the envelope is genuine but not acceptable
    │   ├── WrongRecipient              WRONG_RECIPIENT
    │   ├── ServiceMismatch             SERVICE_MISMATCH
    │   ├── Expired                     EXPIRED
    │   ├── NotYetValid                 NOT_YET_VALID
    │   ├── Replayed                    REPLAYED
    │   ├── NotGranted                  NOT_GRANTED
    │   ├── ConsentMissing              CONSENT_MISSING
    │   ├── ConsentExpired              CONSENT_EXPIRED
    │   ├── ConsentOutOfScope           CONSENT_OUT_OF_SCOPE
    │   └── RateLimited                 RATE_LIMITED          carries retry_after seconds
    ├── InvalidArgument                 INVALID_ARGUMENT      a field failed validation (names the field)
    │   └── CertificateUntrusted        INVALID_ARGUMENT      not issued by the hub's CA, or not valid now
    ├── NotFound                        NOT_FOUND
    │   └── UnknownMember               UNKNOWN_MEMBER
    ├── FailedPrecondition              FAILED_PRECONDITION   e.g. a state transition not allowed
    │   └── LeaseLost                   FAILED_PRECONDITION   a job run's lease passed to another hub process
    ├── MemberUnavailable               MEMBER_UNAVAILABLE    the routed member did not answer
    ├── StorageUnavailable              STORAGE_UNAVAILABLE   the hub's own database cannot serve now; retry_after
    └── CiphertextInvalid               (internal)            data at rest tampered with or under an unknown key
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class HubError(Exception):
    """Base of every error the core raises on purpose."""

    reason: ClassVar[str] = "ERROR_REASON_UNSPECIFIED"

    def __init__(self, explanation: str, **metadata: str) -> None:
        super().__init__(explanation)
        self.explanation = explanation
        self.metadata: Mapping[str, str] = {k: str(v) for k, v in metadata.items()}

    def __str__(self) -> str:
        return f"{self.reason}: {self.explanation}"


class EnvelopeError(HubError):
    """The envelope cannot be trusted: nothing inside it is looked at."""


class Malformed(EnvelopeError):
    reason = "MALFORMED"


class TooLarge(EnvelopeError):
    reason = "TOO_LARGE"


class PayloadTypeUnsupported(EnvelopeError):
    reason = "PAYLOAD_TYPE_UNSUPPORTED"


class SignatureInvalid(EnvelopeError):
    reason = "SIGNATURE_INVALID"


class UnknownSender(EnvelopeError):
    reason = "UNKNOWN_SENDER"


class KeyRevoked(EnvelopeError):
    reason = "KEY_REVOKED"


class PeerMismatch(EnvelopeError):
    reason = "PEER_MISMATCH"


class RequestHashMismatch(EnvelopeError):
    reason = "REQUEST_HASH_MISMATCH"


class PolicyError(HubError):
    """The envelope is genuine, but the header breaks a rule of the hub."""


class WrongRecipient(PolicyError):
    reason = "WRONG_RECIPIENT"


class ServiceMismatch(PolicyError):
    reason = "SERVICE_MISMATCH"


class Expired(PolicyError):
    reason = "EXPIRED"


class NotYetValid(PolicyError):
    reason = "NOT_YET_VALID"


class Replayed(PolicyError):
    reason = "REPLAYED"


class NotGranted(PolicyError):
    reason = "NOT_GRANTED"


class ConsentMissing(PolicyError):
    reason = "CONSENT_MISSING"


class ConsentExpired(PolicyError):
    reason = "CONSENT_EXPIRED"


class ConsentOutOfScope(PolicyError):
    reason = "CONSENT_OUT_OF_SCOPE"


class RateLimited(PolicyError):
    reason = "RATE_LIMITED"

    def __init__(self, explanation: str, retry_after: float, **metadata: str) -> None:
        super().__init__(explanation, retry_after=f"{retry_after:.3f}", **metadata)
        self.retry_after = retry_after


class InvalidArgument(HubError):
    """A value failed validation; ``field`` names it so the caller can point at it."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, explanation: str, **metadata: str) -> None:
        super().__init__(f"{field}: {explanation}", field=field, **metadata)
        self.field = field


class NotFound(HubError):
    reason = "NOT_FOUND"


class UnknownMember(NotFound):
    reason = "UNKNOWN_MEMBER"


class FailedPrecondition(HubError):
    reason = "FAILED_PRECONDITION"


class MemberUnavailable(HubError):
    reason = "MEMBER_UNAVAILABLE"

    def __init__(self, member: str, explanation: str, **metadata: str) -> None:
        super().__init__(f"member {member} did not answer: {explanation}", member=member, **metadata)
        self.member = member


class StorageUnavailable(HubError):
    """The hub's database cannot serve now (restarting, connection lost, locked past its timeout): retry shortly.

    Raised by the store for any driver error that means "unavailable" rather than "wrong" (``hub.store``
    decides which). The driver's own message names the host, port and SQL: it goes to the hub's log, never
    into this explanation, which the caller sees.
    """

    reason = "STORAGE_UNAVAILABLE"

    def __init__(self, retry_after: float = 1.0, **metadata: str) -> None:
        super().__init__(
            "the hub's database is unavailable for a moment; retry shortly",
            retry_after=f"{retry_after:.3f}",
            **metadata,
        )
        self.retry_after = retry_after
        #: The driver's first line (host, database, what failed), for the log and a local operator's command
        #: line; the gRPC boundary sends only the explanation and metadata.
        self.detail = ""


class CertificateUntrusted(InvalidArgument):
    """A certificate that does not chain to the hub's CA, or is not valid now for mutual TLS."""

    def __init__(self, explanation: str, **metadata: str) -> None:
        super().__init__("certificate", explanation, **metadata)


class CiphertextInvalid(HubError):
    """A value encrypted at rest failed to decrypt: tampered, truncated, moved to another column, or under a
    key version this hub does not hold. An internal fault (gRPC ``DATA_LOSS``), never the caller's mistake."""


class LeaseLost(FailedPrecondition):
    """This process no longer holds a job run's lease (it renewed too late and another hub took the run over):
    the run must stop without writing anything more, since its new holder resumes it."""

"""What a job is: a name, a description and ``async run(context) -> JobOutcome``.

A job never deals with scheduling, leases or replicas: the runner hands it a ``JobContext`` (progress, counts,
checkpoints, the items already done) and records what it returns. A job that raises fails its run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hub.jobs._context import JobContext


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Resumed ``max_attempts`` times without finishing, or its job is no longer configured.
    ABANDONED = "abandoned"
    #: Not run: the previous run of the job still held its lease, or the job had nothing to do.
    SKIPPED = "skipped"
    #: Due while no hub was up, and later than the misfire grace window when one came back.
    MISSED = "missed"


#: Statuses a job may end its own run with.
OUTCOMES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED})


@dataclass(frozen=True)
class JobOutcome:
    """How a run ended, and its report (JSON-serialisable; counts and kinds, never a raw ID number)."""

    status: RunStatus = RunStatus.SUCCEEDED
    report: Mapping[str, Any] = field(default_factory=dict)
    #: Why it failed or was skipped, for the officer reading the history.
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in OUTCOMES:
            raise ValueError(f"a job ends its run as one of {sorted(OUTCOMES)}, not {self.status!r}")

    @classmethod
    def skipped(cls, message: str, **report: Any) -> JobOutcome:
        return cls(RunStatus.SKIPPED, report, message)


class Job(Protocol):
    """A unit of scheduled work. ``run`` must be resumable: read ``context.resume_state`` and the item ledger."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    async def run(self, context: JobContext) -> JobOutcome: ...

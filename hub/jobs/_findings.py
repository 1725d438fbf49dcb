"""Where scheduled jobs put findings (预警线索): a one-method sink, idempotent by a dedupe key.

The findings engine (issue 5) will implement ``FindingSink`` over its own tables; until then the hub writes
findings to a JSON Lines file (``JsonlFindingSink``) and tests use ``MemoryFindingSink``. A job builds each
finding's ``dedupe_key`` from (job, due time, subject, kind), so a resumed run that meets the same fact again
raises nothing new: "never a finding twice" holds by the key, not by luck of where the crash fell.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hub.errors import InvalidArgument
from hub.logs import ID_NUMBER_PATTERN


class FindingSink(Protocol):
    def raise_finding(
        self, kind: str, subject: bytes, owner: str, evidence: Mapping[str, Any], dedupe_key: str
    ) -> bool:
        """Record a finding about ``subject`` (a person's or household head's token) for bureau ``owner``.

        Returns ``False`` if a finding with ``dedupe_key`` was already raised (nothing is written then).
        """
        ...


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: bytes
    owner: str
    evidence: Mapping[str, Any]
    dedupe_key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "dedupe_key": self.dedupe_key,
            "kind": self.kind,
            "subject": self.subject.hex(),
            "owner": self.owner,
            "evidence": dict(self.evidence),
        }


def checked_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """``evidence`` as JSON-ready data; refuses anything shaped like an ID number (findings hold tokens)."""
    text = json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)
    if ID_NUMBER_PATTERN.search(text):
        raise InvalidArgument("evidence", "a finding's evidence must not hold an ID number; use the person's token")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@dataclass
class MemoryFindingSink:
    """Findings in a dict (tests; a hub without a findings store). ``raised`` counts every call."""

    findings: dict[str, Finding] = field(default_factory=dict)
    raised: int = 0

    def raise_finding(
        self, kind: str, subject: bytes, owner: str, evidence: Mapping[str, Any], dedupe_key: str
    ) -> bool:
        self.raised += 1
        if dedupe_key in self.findings:
            return False
        self.findings[dedupe_key] = Finding(kind, subject, owner, checked_evidence(evidence), dedupe_key)
        return True


class JsonlFindingSink:
    """Appends one JSON object per new finding to ``path``, under an exclusive file lock.

    Before writing, the lock holder reads what other processes appended since its last look, so two hub
    processes on one host never write the same key twice. Each line is flushed and fsynced before ``True``
    is returned: a finding reported as raised survives a crash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: set[str] = set()
        self._offset = 0

    def raise_finding(
        self, kind: str, subject: bytes, owner: str, evidence: Mapping[str, Any], dedupe_key: str
    ) -> bool:
        line = json.dumps(
            Finding(kind, subject, owner, checked_evidence(evidence), dedupe_key).to_json(), ensure_ascii=False
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                torn = self._catch_up(handle)
                if dedupe_key in self._keys:
                    return False
                handle.seek(0, os.SEEK_END)
                handle.write((b"\n" if torn else b"") + line.encode("utf-8") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                self._offset = handle.tell()
                self._keys.add(dedupe_key)
                return True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _catch_up(self, handle: Any) -> bool:
        """Read the lines appended since the last look; ``True`` if the file ends in a torn line."""
        handle.seek(self._offset)
        for raw in handle:
            if not raw.endswith(b"\n"):
                return True  # a crash mid-write: not a finding; the next line starts on a fresh one
            self._offset += len(raw)
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self._keys.add(json.loads(raw)["dedupe_key"])
        return False

    def findings(self) -> list[dict[str, Any]]:
        """Every finding in the file, oldest first."""
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

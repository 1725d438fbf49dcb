"""Where scheduled jobs put findings (预警线索): a one-method sink, idempotent by a dedupe key.

A hub raises every finding into its findings table (``hub.findings.DatabaseFindingSink``, the catalogue's
default), where the bureau that owns it reviews it like any comparison hit; tests use ``MemoryFindingSink``.
A job builds each finding's ``dedupe_key`` from (job, due time, subject, kind), so a resumed run that meets the
same fact again raises nothing new: "never a finding twice" holds by the key, not by luck of where the crash
fell. The table keys a finding by what was found as well, so the next run meeting an unchanged fact raises
nothing either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.errors import InvalidArgument
from hub.identifiers import validate_id_number, validate_uscc
from hub.logs import ID_NUMBER_PATTERN


class FindingSink(Protocol):
    def raise_finding(
        self,
        kind: str,
        subject: bytes,
        owner: str,
        evidence: Mapping[str, Any],
        dedupe_key: str,
        *,
        locality: str = "",
        programme: str = "",
        household: bytes | None = None,
    ) -> bool:
        """Record a finding about ``subject`` (a person's token) for bureau ``owner``.

        ``locality`` (the paying area), ``programme`` and ``household`` (the head's token) place the finding
        where the bureau's lists and the statistics look for it. Returns ``False`` if this finding was already
        raised (nothing is written then).
        """
        ...


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: bytes
    owner: str
    evidence: Mapping[str, Any]
    dedupe_key: str
    locality: str = ""
    programme: str = ""
    household: bytes | None = None


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """``evidence`` as canonical JSON (sorted keys); refuses anything shaped like an ID number (findings hold
    tokens), unless it is a member's credit code that cannot be one. Every sink stores or compares this text, so
    equal evidence is equal text."""
    text = json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)
    if any(not _credit_code(match.group()) for match in ID_NUMBER_PATTERN.finditer(text)):
        raise InvalidArgument("evidence", "a finding's evidence must not hold an ID number; use the person's token")
    return text


def _credit_code(candidate: str) -> bool:
    """Whether an ID-number-shaped run is a unified social credit code that cannot be a citizen ID number.

    Many government bodies' codes are digits only (``111306290000123470``); evidence names the member asked, and
    refusing it would fail the whole cross-check at the first finding that bureau's answer yields.
    """
    if len(candidate) != 18:
        return False
    try:
        validate_uscc(candidate)
    except InvalidArgument:
        return False
    try:
        validate_id_number(candidate)
    except InvalidArgument:
        return True
    return False


def checked_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """``evidence`` as JSON-ready data, checked by ``evidence_text``."""
    loaded: dict[str, Any] = json.loads(evidence_text(evidence))
    return loaded


@dataclass
class MemoryFindingSink:
    """Findings in a dict, by dedupe key (tests: the in-memory twin of the findings table). ``raised`` counts
    every call."""

    findings: dict[str, Finding] = field(default_factory=dict)
    raised: int = 0

    def raise_finding(
        self,
        kind: str,
        subject: bytes,
        owner: str,
        evidence: Mapping[str, Any],
        dedupe_key: str,
        *,
        locality: str = "",
        programme: str = "",
        household: bytes | None = None,
    ) -> bool:
        self.raised += 1
        if dedupe_key in self.findings:
            return False
        finding = Finding(kind, subject, owner, checked_evidence(evidence), dedupe_key, locality, programme, household)
        self.findings[dedupe_key] = finding
        return True

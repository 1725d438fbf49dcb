"""Household economic-status check (居民家庭经济状况核对, "一键核对"): one question, many registries.

The hub asks every source at once, each with its own deadline; a slow or unreachable source is
reported as such and never holds up the others. Each source's signed answer is kept in the report
so it can be verified on its own; the report itself is signed by the hub.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from hub import services
from hub.asking import HubQuestions
from hub.envelope import Opened
from hub.errors import HubError, MemberUnavailable, UnknownMember
from hub.registry import Directory
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope

#: Kinds asked when neither the request nor the consent narrows them (DOMAIN.md flow 2).
DEFAULT_SOURCES = (
    "public-security",
    "civil-affairs",
    "hrss",
    "housing",
    "medical-insurance",
    "education",
    "rural-revitalisation",
)


@dataclass
class HouseholdCheck:
    questions: HubQuestions
    default_deadline: float = 3.0

    @property
    def directory(self) -> Directory:
        return self.questions.directory

    async def run(
        self, request: Opened, body: v.HouseholdCheckRequest, kinds: Sequence[str], subjects: Sequence[str] = ()
    ) -> v.HouseholdCheckReport:
        deadline = body.deadline_ms / 1000 if body.deadline_ms else self.default_deadline
        snapshot = self.directory.current
        asker = snapshot.member(request.sender)
        region = max(asker.jurisdictions, key=len, default="")
        results = await asyncio.gather(*(self._ask(request, body, kind, region, deadline, subjects) for kind in kinds))
        report = v.HouseholdCheckReport()
        for source_report, answer in results:
            report.sources.append(source_report)
            if answer is not None:
                report.source_answers.append(answer)
        report.complete = all(s.status == v.SOURCE_OK for s in report.sources)
        return report

    async def _ask(
        self,
        request: Opened,
        body: v.HouseholdCheckRequest,
        kind: str,
        region: str,
        deadline: float,
        subjects: Sequence[str],
    ) -> tuple[v.SourceReport, Envelope | None]:
        started = time.perf_counter()

        def report(status: v.SourceStatus, detail: str, member: str = "") -> tuple[v.SourceReport, None]:
            elapsed = int((time.perf_counter() - started) * 1000)
            return v.SourceReport(source=kind, member=member, status=status, detail=detail, elapsed_ms=elapsed), None

        try:
            member = self.directory.current.route(kind, region)
        except UnknownMember:
            return report(v.SOURCE_UNAVAILABLE, f"no {kind} source is registered for region {region}")
        try:
            answer, opened = await self.questions.ask(
                member,
                services.HOUSEHOLD_CHECK,
                body,
                purpose=request.header.purpose,
                timeout=deadline,
                consent_ref=request.header.consent_ref,
                correlation_id=request.header.correlation_id,
                subjects=subjects,
            )
            source = opened.body(v.SourceReport)
        except TimeoutError:
            return report(v.SOURCE_TIMED_OUT, f"no answer within {deadline:.1f} s", member.member_id)
        except MemberUnavailable as error:
            return report(v.SOURCE_UNAVAILABLE, error.explanation, member.member_id)
        except HubError as error:
            return report(v.SOURCE_REFUSED, f"{error.reason}: {error.explanation}", member.member_id)
        source.source, source.member = kind, member.member_id
        source.elapsed_ms = int((time.perf_counter() - started) * 1000)
        if source.status == v.SOURCE_STATUS_UNSPECIFIED:
            source.status = v.SOURCE_OK
        return source, answer

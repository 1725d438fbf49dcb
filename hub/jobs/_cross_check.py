"""The annual cross-check (年度核查): every residence-based enrolment re-verified with its 户籍 locality.

For each enrolled person, in token order and a page at a time:

1. ask public security (户籍核验) where the person's 户籍 is and who the household is — routed by the
   source's 户籍 region if known, else by the ID number's address code, else by the paying locality;
2. a 户籍 inside the paying locality is a local enrolment: nothing more to ask (``local``);
3. otherwise ask the civil-affairs bureau of the 户籍 region (函询) about every household member: a record
   still paid in another locality is a duplicate-assistance finding;
4. re-check the household against the property and death feeds;

and raise findings for the paying (residence) bureau. Each person is an item in the run's ledger: begun before
the first question, marked ``raising`` (with the findings) once the answers are in, finished after the findings
are raised. A resumed run skips every item it holds, so no member is asked twice; an item caught mid-question
stays ``interrupted``, one caught mid-raising has its findings raised again under the same dedupe keys, so no
finding is raised twice or lost. Answers are appended to the audit log with the household's tokens, in the
transaction that records them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub import services
from hub.asking import HubQuestions
from hub.audit import AuditLog, AuditRecord, record_from_opened
from hub.envelope import Opened
from hub.errors import HubError, MemberUnavailable, UnknownMember
from hub.jobs._context import JobContext
from hub.jobs._enrolments import Enrolment, EnrolmentSource, paying_bureau
from hub.jobs._feed_checks import FeedFacts, Hit
from hub.jobs._findings import FindingSink, checked_evidence
from hub.jobs._job import JobOutcome
from hub.logs import redact
from hub.privacy import Tokenizer
from hub.registry import Directory, Member
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Purpose

PURPOSE_CODE = "annual.cross_check"
LEGAL_BASIS = "社会救助暂行办法 第十一条、第五十八条; 居住地申办社会救助 年度核查"
STILL_PAID = frozenset({v.ACTIVE, v.GRADUAL_EXIT})

ANSWERED = "answered"
LOCAL = "local"
NOT_REGISTERED = "not_registered"
UNREACHABLE = "unreachable"
FAILED = "failed"
#: Answered, findings computed and being raised: a resumed run raises them again (idempotently) and finishes.
RAISING = "raising"


def in_region(code: str, region: str) -> bool:
    """Whether division ``code`` lies in ``region`` (a county, or a prefecture/province written ``xxxx00``)."""
    prefix = region
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return bool(prefix) and code.startswith(prefix)


@dataclass
class Checked:
    """One person's outcome: the ledger status and detail, findings to raise, answers to audit."""

    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    findings: list[Hit] = field(default_factory=list)
    answers: list[Opened] = field(default_factory=list)
    subjects: list[bytes] = field(default_factory=list)


class Unreachable(Exception):
    def __init__(self, kind: str, reason: str, answers: list[Opened]) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.answers = answers


@dataclass
class CrossCheck:
    questions: HubQuestions
    directory: Directory
    enrolments: EnrolmentSource
    findings: FindingSink
    tokenizer: Tokenizer
    facts: FeedFacts | None = None
    audit: AuditLog | None = None
    name: str = "annual_cross_check"
    description: str = "年度核查: ask each residence-based enrolment's 户籍 locality; re-check property and deaths"

    async def run(self, context: JobContext) -> JobOutcome:
        settings = context.settings.jobs
        total = self.enrolments.count()
        after = bytes.fromhex(str(context.resume_state.get("after", "")))
        done = int(context.resume_state.get("done", 0))
        context.progress(done, total)
        purpose = Purpose(code=PURPOSE_CODE, legal_basis=LEGAL_BASIS, case_number=f"{context.job}#{context.run_id}")
        limit = asyncio.Semaphore(settings.concurrency)
        if context.resumed:
            self._settle(context)
        while page := self.enrolments.page(after, settings.batch_size):
            held = context.items.known(e.key for e in page)
            await _all(self._item(context, e, purpose, limit) for e in page if e.key not in held)
            after, done = page[-1].token, done + len(page)
            context.progress(done, total)
            context.checkpoint({"after": after.hex(), "done": done})
        return JobOutcome(report=report(context, total))

    def _settle(self, context: JobContext) -> None:
        """After a crash: questions that may have left are not asked again; answered items finish raising."""
        interrupted = context.items.interrupt_started()
        if interrupted:
            context.log.warning("%d persons were being asked about when the run stopped; not asked again", interrupted)
        for key, pending in context.items.with_status(RAISING):
            hits = [Hit(h["kind"], h["evidence"]) for h in pending.pop("hits")]
            self._raise(context, bytes.fromhex(key), pending.pop("owner"), hits, pending.pop("where", {}))
            status = pending.pop("status")
            context.count(status)
            context.items.finish(key, status, pending)

    async def _item(
        self, context: JobContext, enrolment: Enrolment, purpose: Purpose, limit: asyncio.Semaphore
    ) -> None:
        async with limit:
            if not context.items.begin(enrolment.key):
                return
            answers: list[Opened] = []  # what came back before a failure is still counted and audited
            try:
                checked = await self._check(context, enrolment, purpose, answers)
            except Unreachable as gone:
                checked = Checked(UNREACHABLE, {"member_kind": gone.kind, "reason": gone.reason}, answers=gone.answers)
            except HubError as error:  # an answer that did not verify, a refusal: reported, not retried
                detail = {"reason": error.reason, "explanation": redact(error.explanation)}
                checked = Checked(FAILED, detail, answers=answers)
            checked.detail["findings"] = sorted({hit.kind for hit in checked.findings})
            context.count("questions", len(checked.answers))
            audited = self._audited(checked, enrolment)
            if checked.findings:  # answers in hand: from here on a crash must not lose the findings
                owner = paying_bureau(self.directory, enrolment)
                hits = [{"kind": hit.kind, "evidence": checked_evidence(hit.evidence)} for hit in checked.findings]
                where = placement(enrolment)
                pending = {**checked.detail, "status": checked.status, "owner": owner, "hits": hits, "where": where}
                context.items.finish(enrolment.key, RAISING, pending, audited)
                self._raise(context, enrolment.token, owner, checked.findings, where)
                audited = None
            context.count(checked.status)
            context.items.finish(enrolment.key, checked.status, checked.detail, audited)

    def _raise(
        self, context: JobContext, subject: bytes, owner: str, hits: list[Hit], where: Mapping[str, str]
    ) -> None:
        """Raise each hit for the paying bureau; the key makes a repeat (after a crash) raise nothing."""
        household = bytes.fromhex(where["household"]) if where.get("household") else None
        for hit in hits:
            dedupe = f"{context.job}:{context.scheduled_for.isoformat()}:{subject.hex()}:{hit.kind}"
            self.findings.raise_finding(
                hit.kind,
                subject,
                owner,
                hit.evidence,
                dedupe,
                locality=where.get("locality", ""),
                programme=where.get("programme", ""),
                household=household,
            )
            context.count(f"findings.{hit.kind}")

    async def _check(
        self, context: JobContext, enrolment: Enrolment, purpose: Purpose, answers: list[Opened]
    ) -> Checked:
        timeout = context.settings.jobs.question_timeout_seconds
        police = self._route("public-security", enrolment.hukou_region, enrolment.id_number[:6], enrolment.locality)
        registration = await self._ask(
            police,
            services.HOUSEHOLD_REGISTRATION,
            v.HouseholdRegistrationQuery(person=v.Person(id_number=enrolment.id_number)),
            v.HouseholdRegistrationResult,
            purpose,
            timeout,
            answers,
        )
        if not registration.registered:
            missing = Hit("hukou_missing", {"asked": police.member_id, "source": "public security"})
            return Checked(NOT_REGISTERED, {"asked": [police.member_id]}, [missing], answers)
        region = registration.region_code
        household = list(dict.fromkeys([enrolment.id_number, *(m.id_number for m in registration.members)]))
        relations = {m.id_number: m.relation for m in registration.members}
        detail: dict[str, Any] = {"hukou_region": region, "household_size": len(household), "asked": [police.member_id]}
        if in_region(region, enrolment.locality):
            return Checked(LOCAL, detail, answers=answers, subjects=self._tokens(household))
        bureau = self._route("civil-affairs", region, answers=answers)
        answer = await self._ask(
            bureau,
            services.ASSISTANCE_INQUIRY,
            v.AssistanceInquiry(persons=[v.Person(id_number=n) for n in household], household_region_code=region),
            v.AssistanceAnswer,
            purpose,
            timeout,
            answers,
        )
        detail["asked"].append(bureau.member_id)
        findings = []
        elsewhere = [
            {
                "programme": v.Programme.Name(r.programme),
                "status": v.AssistanceStatus.Name(r.status),
                "locality": r.locality,
                "relation": "self" if r.id_number == enrolment.id_number else relations.get(r.id_number, "household"),
            }
            for r in answer.records
            if r.status in STILL_PAID and not in_region(r.locality, enrolment.locality)
        ]
        if elsewhere:
            evidence: dict[str, Any] = {"hukou_region": region, "asked": bureau.member_id, "records": elsewhere}
            findings.append(Hit("duplicate_assistance", evidence))
        if self.facts is not None:
            facts = await context.in_thread(self.facts.of, household)
            findings += self.facts.findings(enrolment.id_number, household, facts)
        return Checked(ANSWERED, detail, findings, answers, self._tokens(household))

    async def _ask(
        self,
        member: Member,
        service: str,
        body: Any,
        result: type[Any],
        purpose: Purpose,
        timeout: float,
        answers: list[Opened],
    ) -> Any:
        try:
            _, opened = await asyncio.wait_for(
                self.questions.ask(member, service, body, purpose=purpose, timeout=timeout), timeout + 1
            )
        except (MemberUnavailable, TimeoutError) as gone:
            raise Unreachable(member.kind, getattr(gone, "reason", "TIMEOUT"), answers) from None
        answers.append(opened)
        return opened.body(result)

    def _route(self, kind: str, *regions: str, answers: list[Opened] | None = None) -> Member:
        """The member of ``kind`` for the first of ``regions`` that has one; ``Unreachable`` if none does."""
        snapshot = self.directory.current
        for region in regions:
            if region:
                try:
                    return snapshot.route(kind, region)
                except UnknownMember:
                    continue
        raise Unreachable(kind, "NO_ROUTE", answers or [])

    def _tokens(self, numbers: Iterable[str]) -> list[bytes]:
        return [self.tokenizer.token(n) for n in numbers]

    def _audited(self, checked: Checked, enrolment: Enrolment) -> Any:
        if self.audit is None or not checked.answers:
            return None
        subjects = checked.subjects or [enrolment.token]
        records: list[AuditRecord] = [
            record_from_opened(opened, kind="response", subject_tokens=subjects, keep_payload=False)
            for opened in checked.answers
        ]
        audit = self.audit

        def append(session: Session) -> None:
            audit.append_many(session, records)

        return append


def placement(enrolment: Enrolment) -> dict[str, str]:
    """Where a person's findings belong (paying locality, programme, household head), as JSON for the ledger:
    a run resumed after a crash raises the pending findings in the same place."""
    head = enrolment.household_head or enrolment.token
    return {"locality": enrolment.locality, "programme": enrolment.programme, "household": head.hex()}


async def _all(work: Iterable[Awaitable[None]]) -> None:
    """Await every item; the first failure (a lost lease) cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for item in work:
                group.create_task(_awaited(item))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


async def _awaited(item: Awaitable[None]) -> None:
    await item


def report(context: JobContext, total: int) -> dict[str, Any]:
    """The per-run report, from the ledger (authoritative across resumptions) and the finding counts."""
    tally = context.items.tally()
    counts = context.counts
    findings: Mapping[str, int] = {
        k.removeprefix("findings."): n for k, n in counts.items() if k.startswith("findings.")
    }
    return {
        "enrolments": total,
        "asked": sum(tally.values()),
        "questions": counts.get("questions", 0),
        "answered": tally.get(ANSWERED, 0),
        "local": tally.get(LOCAL, 0),
        "not_registered": tally.get(NOT_REGISTERED, 0),
        "unreachable": tally.get(UNREACHABLE, 0),
        "failed": tally.get(FAILED, 0),
        "interrupted": tally.get("interrupted", 0),
        "findings": dict(sorted(findings.items())),
        "attempts": context.attempt,
    }

"""The common body of the per-kind adapters: dispatch, input checks, the household-check report.

A kind adapter declares the datasets it reads (``DATASETS``), the services it answers besides the
household check (``handlers``), and the facts it contributes to a household check (``facts``). This
base does the rest the same way for every kind: it refuses a body of the wrong type, validates every
ID number at the edge (``InvalidArgument`` naming the field, the number masked), answers a household
check with one ``SourceReport`` (status, ``as_of``, elapsed time, and ``SOURCE_TIMED_OUT`` past the
deadline), and closes its backend once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self

from google.protobuf.message import Message

from adapters._backends import Closer, open_datasets
from adapters._datasets import Dataset, DatasetSpec
from adapters._interface import QueryContext
from adapters._values import CHINA, parse_date, timestamp
from hub import services
from hub.errors import FailedPrecondition, InvalidArgument
from hub.identifiers import validate_id_number
from hub.v1 import verification_pb2 as pb

Handler = Callable[[Any, QueryContext], Awaitable[Message]]

#: Most persons one request may name: a household, not a population (minimum necessity).
MAX_PERSONS = 100


def _today() -> dt.date:
    return dt.datetime.now(CHINA).date()


async def _nothing() -> None:
    return None


class KindAdapter:
    """Base of the adapters for one member kind over a ``Dataset`` per agency table."""

    kind: str
    DATASETS: ClassVar[tuple[DatasetSpec, ...]]

    def __init__(
        self,
        datasets: Mapping[str, Dataset],
        *,
        name: str | None = None,
        member: str = "",
        today: Callable[[], dt.date] = _today,
        closer: Closer = _nothing,
    ) -> None:
        missing = [spec.name for spec in self.DATASETS if spec.name not in datasets]
        if missing:
            raise ValueError(f"{self.kind}: datasets missing: {', '.join(missing)}")
        self.name = name or self.kind
        self.datasets = dict(datasets)
        self.member = member
        self.today = today
        self._closer = closer
        self._closed = False
        self._handlers: dict[str, Handler] = {services.HOUSEHOLD_CHECK: self._household_check, **self.handlers()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """Build from a parsed TOML table: backend keys (see ``adapters._backends``), plus optional
        ``member`` (the member id put in household-check reports), ``name`` and ``today`` (an ISO date
        that pins the adapter's calendar, for demos and tests)."""
        datasets, closer = open_datasets(config, cls.DATASETS)
        today = _today
        if "today" in config:
            pinned = parse_date(str(config["today"]))
            if pinned is None:
                raise InvalidArgument("today", "must be an ISO date")
            today = lambda: pinned  # noqa: E731
        member = config.get("member", "")
        if not isinstance(member, str):
            raise InvalidArgument("member", "must be a member id")
        name = config.get("name")
        return cls(datasets, name=name if isinstance(name, str) else None, member=member, today=today, closer=closer)

    def handlers(self) -> dict[str, Handler]:
        """Services answered besides the household check, each with its handler."""
        return {}

    async def facts(self, id_numbers: Sequence[str]) -> list[pb.SourceFact]:
        """This source's facts about the (normalised) persons asked; none for unknown persons."""
        raise NotImplementedError

    def services(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def answer(self, body: Message, context: QueryContext) -> Message:
        if self._closed:
            raise FailedPrecondition(f"adapter {self.name} is closed")
        handler = self._handlers.get(context.service)
        if handler is None:
            raise InvalidArgument("service", f"{self.name} does not answer {context.service}")
        expected, _ = services.BODY_TYPES[context.service]
        if not isinstance(body, expected):
            raise InvalidArgument("body", f"{context.service} takes {expected.__name__}, not {type(body).__name__}")
        return await handler(body, context)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._closer()

    async def _household_check(self, request: pb.HouseholdCheckRequest, context: QueryContext) -> pb.SourceReport:
        started = time.perf_counter()
        numbers = unique(validate_persons(request.members, "members"))
        report = pb.SourceReport(source=self.kind, member=self.member)
        if request.sources and self.kind not in request.sources:
            report.status = pb.SOURCE_REFUSED
            report.detail = f"{self.kind} was not among the sources asked"
            return report
        seconds = _seconds_left(context, request.deadline_ms)
        try:
            if seconds is not None and seconds <= 0:
                raise TimeoutError
            async with asyncio.timeout(seconds):
                report.facts.extend(await self.facts(numbers))
                as_of = [await dataset.as_of() for dataset in self.datasets.values()]
        except TimeoutError:
            del report.facts[:]
            report.status = pb.SOURCE_TIMED_OUT
            report.detail = "the source did not answer before the deadline"
        else:
            report.status = pb.SOURCE_OK
            known = [moment for moment in as_of if moment is not None]
            if known:
                report.as_of.CopyFrom(timestamp(min(known)))
        report.elapsed_ms = round((time.perf_counter() - started) * 1000)
        return report


def _seconds_left(context: QueryContext, deadline_ms: int) -> float | None:
    limits = []
    if context.deadline is not None:
        limits.append(context.deadline - time.monotonic())
    if deadline_ms > 0:
        limits.append(deadline_ms / 1000)
    return max(0.0, min(limits)) if limits else None


def validate_persons(persons: Sequence[pb.Person], field: str) -> list[str]:
    """The normalised ID numbers of ``persons``; ``InvalidArgument`` names ``field[i].id_number``."""
    if len(persons) > MAX_PERSONS:
        raise InvalidArgument(field, f"at most {MAX_PERSONS} persons per request; got {len(persons)}")
    return [validate_id_number(p.id_number, f"{field}[{i}].id_number") for i, p in enumerate(persons)]


def unique(values: Iterable[str]) -> list[str]:
    """``values`` without repeats, in first-seen order."""
    return list(dict.fromkeys(values))


def fact(id_number: str, name: str, value: object) -> pb.SourceFact:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return pb.SourceFact(id_number=id_number, name=name, value=str(value))

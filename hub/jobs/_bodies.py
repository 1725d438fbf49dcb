"""Job bodies: a callable taking the ``JobContext``, wrapped as a job; or named ``module:callable`` in configuration.

The built-in monthly comparison and statistics are bodies from ``hub.findings``; ``[jobs.bodies]`` replaces a
body or adds a job (``tick = "mypackage.jobs:tick"``) without the scheduler knowing it.
A body may be a coroutine function or a plain function (run in a thread, so the lease's heartbeat goes on);
it returns a ``JobOutcome``, a report mapping, or ``None``. A reference may also name a ready ``Job``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from hub.errors import InvalidArgument
from hub.jobs._context import JobContext
from hub.jobs._job import Job, JobOutcome

BodyResult = JobOutcome | Mapping[str, Any] | None
Body = Callable[[JobContext], BodyResult | Awaitable[BodyResult]]


@dataclass
class BodyJob:
    name: str
    body: Body
    description: str = ""

    async def run(self, context: JobContext) -> JobOutcome:
        if inspect.iscoroutinefunction(self.body):
            result = await self.body(context)
        else:
            result = await context.in_thread(self.body, context)
            if inspect.isawaitable(result):
                result = await result
        if isinstance(result, JobOutcome):
            return result
        return JobOutcome(report=dict(cast(Mapping[str, Any], result or {})))


def load(name: str, reference: str, description: str = "") -> Job:
    """The job configured as ``reference`` (``module:attribute``): a ``Job`` itself, or a body to wrap."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise InvalidArgument(f"jobs.bodies.{name}", f"{reference!r} is not of the form 'module:callable'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise InvalidArgument(f"jobs.bodies.{name}", f"{reference!r} cannot be loaded: {error}") from None
    if hasattr(target, "run") and hasattr(target, "name"):
        return cast(Job, target)
    if not callable(target):
        raise InvalidArgument(f"jobs.bodies.{name}", f"{reference!r} is neither a job nor a callable")
    return BodyJob(name, target, description or (inspect.getdoc(target) or "").split("\n")[0] or reference)

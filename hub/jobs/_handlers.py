"""The Jobs service: list, run now, history, over signed RPCs (for operators holding a grant on them)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp

from hub import services
from hub.envelope import Opened
from hub.jobs._job import RunStatus
from hub.jobs._records import RunRecord
from hub.jobs._runner import JobRunner
from hub.jobs._schedule import PlannedJob
from hub.policy import Call
from hub.v1 import jobs_pb2 as pb

if TYPE_CHECKING:
    from hub.exchange import LocalHandler

STATUS_WIRE: dict[RunStatus, pb.JobRunStatus] = {
    RunStatus.RUNNING: pb.JOB_RUN_STATUS_RUNNING,
    RunStatus.SUCCEEDED: pb.JOB_RUN_STATUS_SUCCEEDED,
    RunStatus.FAILED: pb.JOB_RUN_STATUS_FAILED,
    RunStatus.ABANDONED: pb.JOB_RUN_STATUS_ABANDONED,
    RunStatus.SKIPPED: pb.JOB_RUN_STATUS_SKIPPED,
    RunStatus.MISSED: pb.JOB_RUN_STATUS_MISSED,
}
DEFAULT_HISTORY = 20
MAX_HISTORY = 500


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def run_to_proto(record: RunRecord) -> pb.JobRun:
    run = pb.JobRun(
        run_id=record.run_id,
        name=record.job,
        status=STATUS_WIRE[record.status],
        trigger=record.trigger,
        scheduled_for=_timestamp(record.scheduled_for),
        started_at=_timestamp(record.started_at),
        heartbeat_at=_timestamp(record.heartbeat_at),
        holder=record.holder,
        attempts=record.attempts,
        progress_done=record.progress_done,
        progress_total=record.progress_total,
        counts=dict(record.counts),
        error=record.error,
        report_json=json.dumps(record.report, ensure_ascii=False, sort_keys=True),
    )
    if record.finished_at is not None:
        run.finished_at.CopyFrom(_timestamp(record.finished_at))
    return run


def job_to_proto(planned: PlannedJob, description: str, last: RunRecord | None) -> pb.Job:
    job = pb.Job(name=planned.name, cron=planned.cron, description=description)
    if planned.next_run_at is not None:
        job.next_run_at.CopyFrom(_timestamp(planned.next_run_at))
    if last is not None:
        job.last_run.CopyFrom(run_to_proto(last))
    return job


def job_handlers(runner: JobRunner, planned: Callable[[], list[PlannedJob]]) -> dict[str, LocalHandler]:
    """``planned`` lists the jobs with their crons and next due times (``JobScheduler.planned`` or ``plan``)."""

    async def list_jobs(request: Opened, call: Call) -> ProtoMessage:
        request.body(pb.JobListRequest)
        last = runner.last_runs()
        jobs = [job_to_proto(p, runner.job(p.name).description, last.get(p.name)) for p in planned()]
        return pb.JobList(jobs=jobs)

    async def run_now(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(pb.JobRunRequest)
        return run_to_proto(runner.start_now(body.name))

    async def history(request: Opened, call: Call) -> ProtoMessage:
        body = request.body(pb.JobHistoryRequest)
        limit = min(body.limit or DEFAULT_HISTORY, MAX_HISTORY)
        return pb.JobHistory(runs=[run_to_proto(r) for r in runner.history(body.name or None, limit)])

    return {services.JOBS_LIST: list_jobs, services.JOBS_RUN_NOW: run_now, services.JOBS_HISTORY: history}

"""The Jobs service over signed RPCs on a running hub: list, run now, history; and the public surface."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import hub.jobs
from hub import services
from hub.errors import HubError
from hub.sandbox import MemberSpec, Sandbox
from hub.store import Store
from hub.v1 import jobs_pb2 as pb
from hub.v1.envelope_pb2 import Purpose
from tests.jobs.conftest import run

OPERATOR = "11130000MB00000118"  # 河北省民政厅, runs the hub
BUREAU = "11110115MB0000007E"
JOBS = (services.JOBS_LIST, services.JOBS_RUN_NOW, services.JOBS_HISTORY)
PURPOSE = Purpose(code="jobs.operate")


@pytest.mark.integration
def test_an_operator_lists_runs_and_reads_the_history_of_jobs(
    tmp_path: Path, database_url: str, clean_jobstore: Store
) -> None:
    async def scenario() -> None:
        sandbox = Sandbox(
            tmp_path / "world",
            [
                MemberSpec(OPERATOR, "civil-affairs", "河北省民政厅", ("13",), grants=tuple((s, "*") for s in JOBS)),
                MemberSpec(BUREAU, "civil-affairs", "大兴区民政局", ("110115",)),
            ],
            database_url=database_url,
        )
        sandbox.provision()
        await sandbox.start(with_nodes=False)
        try:
            operator = sandbox.client(OPERATOR)
            listed = await operator.ask(
                services.JOBS_LIST, pb.JobListRequest(), pb.JobList, recipient="hub", purpose=PURPOSE
            )
            jobs = {job.name: job for job in listed.body.jobs}
            assert set(jobs) >= {"annual_cross_check", "statistics", "audit_checkpoint", "retention_purge"}
            assert jobs["statistics"].cron == "0 6 14,28 * *" and jobs["statistics"].HasField("next_run_at")
            assert jobs["annual_cross_check"].description.startswith("年度核查")

            started = await operator.ask(
                services.JOBS_RUN_NOW, pb.JobRunRequest(name="statistics"), pb.JobRun, recipient="hub", purpose=PURPOSE
            )
            assert started.body.name == "statistics" and started.body.trigger == "manual"
            history = pb.JobHistory()
            for _ in range(100):
                history = (
                    await operator.ask(
                        services.JOBS_HISTORY,
                        pb.JobHistoryRequest(name="statistics"),
                        pb.JobHistory,
                        recipient="hub",
                        purpose=PURPOSE,
                    )
                ).body
                if history.runs and history.runs[0].status != pb.JOB_RUN_STATUS_RUNNING:
                    break
                await asyncio.sleep(0.05)
            (done,) = history.runs
            assert done.run_id == started.body.run_id and done.status == pb.JOB_RUN_STATUS_SUCCEEDED
            assert done.HasField("finished_at") and json.loads(done.report_json)["rows"] == 0

            with pytest.raises(HubError) as unknown:
                await operator.ask(
                    services.JOBS_RUN_NOW, pb.JobRunRequest(name="nope"), pb.JobRun, recipient="hub", purpose=PURPOSE
                )
            assert unknown.value.reason == "NOT_FOUND"
            bureau = sandbox.client(BUREAU)
            with pytest.raises(HubError) as refused:
                await bureau.ask(services.JOBS_LIST, pb.JobListRequest(), pb.JobList, recipient="hub", purpose=PURPOSE)
            assert refused.value.reason == "NOT_GRANTED"
        finally:
            await sandbox.stop()

    run(scenario(), timeout=60)


def test_the_public_surface_is_deliberate_and_every_name_resolves() -> None:
    assert "JobRunner" in hub.jobs.__all__ and "CrossCheck" in hub.jobs.__all__
    for name in hub.jobs.__all__:
        assert getattr(hub.jobs, name) is not None
    with pytest.raises(AttributeError):
        _ = hub.jobs.Nothing  # type: ignore[attr-defined]

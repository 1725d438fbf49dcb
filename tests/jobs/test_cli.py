"""``hubctl jobs``: list, run now, history — through the real CLI on a fresh data folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("HUB_CONFIG", "HUB_DATABASE_URL", "HUB_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "hub-data"
    assert hubctl(data, "pki", "init").exit_code == 0
    assert hubctl(data, "pki", "issue", "hub").exit_code == 0
    yield data


def hubctl(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


def test_list_run_and_history(data_dir: Path) -> None:
    listed = hubctl(data_dir, "jobs", "list")
    assert listed.exit_code == 0, listed.output
    assert "annual_cross_check   0 2 1 3 *" in listed.output and "年度核查" in listed.output
    assert "monthly_comparison   0 3 1 * *" in listed.output

    ran = hubctl(data_dir, "jobs", "run", "annual_cross_check", "--json")
    assert ran.exit_code == 0, ran.output
    record = json.loads(ran.output)
    assert record["status"] == "succeeded" and record["trigger"] == "manual"
    assert record["report"]["enrolments"] == 0

    compared = hubctl(data_dir, "jobs", "run", "monthly_comparison", "--json")  # no configuration needed
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.output)["report"]["totals"] == {"new": 0, "reopened": 0, "updated": 0, "unchanged": 0}

    history = hubctl(data_dir, "jobs", "history", "--json")
    assert history.exit_code == 0, history.output
    runs = [json.loads(line) for line in history.output.splitlines()]
    assert [r["job"] for r in runs] == ["monthly_comparison", "annual_cross_check"]
    only = hubctl(data_dir, "jobs", "history", "annual_cross_check")
    assert only.output.count("\n") == 1 and "succeeded" in only.output
    again = hubctl(data_dir, "jobs", "list")
    assert "last: #1  annual_cross_check  succeeded" in again.output


def test_an_unknown_job_is_refused_by_name(data_dir: Path) -> None:
    result = hubctl(data_dir, "jobs", "run", "nope")
    assert result.exit_code == 1 and "no job is named 'nope'" in result.output

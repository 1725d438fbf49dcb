"""``hubctl feeds`` against a live hub: upload with a summary and exit codes, status, kinds, pull, retokenize."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.feeds import kind_by_code
from hub.sandbox import Sandbox
from tests.feeds.conftest import ROSTER_SUPPLIER, SUPPLIER, person, valid_row
from tests.feeds.wire import suppliers

pytestmark = pytest.mark.integration

FIELDS = [spec.name for spec in kind_by_code("medical_settlement").fields]


class LiveHub:
    """A sandbox hub served from its own event loop in a thread, so that the synchronous CLI can talk to it."""

    def __init__(self, root: Path) -> None:
        self.sandbox = Sandbox(root, suppliers())
        self.sandbox.provision()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(with_nodes=False), self.loop).result(60)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sandbox.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def hubctl(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["--data-dir", str(self.sandbox.root), *args])

    def upload(self, path: Path, *extra: str) -> Result:
        return self.hubctl(
            "feeds",
            "upload",
            str(path),
            "--department",
            "medical-insurance",
            "--period-start",
            "2025-06-01",
            "--period-end",
            "2025-06-30",
            "--as",
            SUPPLIER,
            "--hub",
            self.sandbox.hub_address,
            *extra,
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    hub = LiveHub(tmp_path_factory.mktemp("feeds-cli"))
    try:
        yield hub
    finally:
        hub.stop()


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = FIELDS, encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def settlement(n: int, **changes: Any) -> list[Any]:
    row = valid_row(kind_by_code("medical_settlement"), n, **changes)
    values = [getattr(row, name) for name in FIELDS]
    values[FIELDS.index("care_kind")] = "inpatient"  # as an agency writes it: the stored code
    return values


def test_an_upload_shows_progress_and_a_readable_receipt(live: LiveHub, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "jsxx.csv", [settlement(n) for n in range(12)])
    first = live.upload(path, "--chunk-rows", "5")
    assert first.exit_code == 0, first.output
    assert "COMPLETE, now the current version" in first.stdout
    assert "12 received, 12 accepted, 0 rejected" in first.stdout
    assert "3 chunks, digest" in first.stdout and "receipt signed by hub (" in first.stdout
    again = live.upload(path, "--chunk-rows", "5")  # the same file: the same version, nothing stored twice
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[:4] == first.stdout.splitlines()[:4]


def test_rejected_rows_are_listed_by_their_row_in_the_file_and_exit_2(live: LiveHub, tmp_path: Path) -> None:
    native = ["SFZH", "JSID", "CBD", "JSRQ", "YLLB", "ZFY", "TCZF", "GRZF"]
    rows = [settlement(100 + n) for n in range(8)]
    rows[2][FIELDS.index("total_fen")] = "十二元"  # cannot be sent at all: row 3 of the file
    rows[5][0] = person(105)[:-1] + ("0" if person(105)[-1] != "0" else "1")  # the hub refuses it: row 6
    rows[6][FIELDS.index("settled_on")] = "2025/06/07"  # an agency date format, read as 2025-06-07
    path = write_csv(tmp_path / "gbk.csv", rows, header=native, encoding="gbk")
    mapped = [f"--column={field}={column}" for field, column in zip(FIELDS, native, strict=True)]
    result = live.upload(path, *mapped)
    assert result.exit_code == 2, result.output
    assert "7 received, 6 accepted, 1 rejected; 1 could not be sent" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("  row ")]
    assert [(line[1], line[2]) for line in lines] == [("3", "total_fen"), ("6", "id_number")]
    assert person(105) not in result.output


def test_a_file_without_a_required_column_is_refused_by_name(live: LiveHub, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "short.csv", [row[:-1] for row in [settlement(1)]], header=FIELDS[:-1])
    result = live.upload(path)
    assert result.exit_code == 1 and "out_of_pocket_fen" in result.output


def test_a_department_with_several_kinds_needs_one_named(live: LiveHub, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "wages.csv", [])
    result = live.hubctl("feeds", "upload", str(path), "--department", "hrss", "--period-start", "2025-06-01")
    assert result.exit_code != 0
    result = live.upload(path, "--kind", "wage")
    assert result.exit_code == 1 and "wage records come from hrss" in result.output


def test_status_locally_and_over_the_network(live: LiveHub, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "status.csv", [settlement(200 + n) for n in range(3)])
    assert live.upload(path).exit_code == 0
    local = live.hubctl("feeds", "status", "--department", "medical-insurance")
    remote = live.hubctl(
        "feeds", "status", "--department", "medical-insurance", "--as", SUPPLIER, "--hub", live.sandbox.hub_address
    )
    for result in (local, remote):
        assert result.exit_code == 0, result.output
        [line] = [line for line in result.stdout.splitlines() if line.startswith("medical-insurance")]
        assert SUPPLIER in line and "medical_settlement" in line and "2025-06-01 – 2025-06-30" in line
        assert "STALE" not in line
    config = tmp_path / "hub.toml"
    config.write_text("[feeds]\nmax_age_days_by_department = { medical-insurance = 1e-7 }\n")
    stale = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(live.sandbox.root), "feeds", "status"])
    assert "STALE (older than" in stale.stdout and "1 of 1 feeds are stale" in stale.stdout
    assert live.hubctl("feeds", "status", "--department", "fishery").exit_code == 1


def test_kinds_lists_the_columns_of_each_kind(live: LiveHub) -> None:
    result = live.hubctl("feeds", "kinds", "hrss")
    assert result.exit_code == 0
    assert "hrss / wage" in result.stdout and "  month" in result.stdout and "education" not in result.stdout


def test_pull_runs_a_configured_csv_drop_once(live: LiveHub, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    write_csv(drop / "jsxx-202506.csv", [settlement(300 + n) for n in range(4)])
    config = tmp_path / "pull.toml"
    config.write_text(
        f'member = "{SUPPLIER}"\nhub = "{live.sandbox.hub_address}"\ndepartment = "medical-insurance"\n'
        'period_start = 2025-06-01\nperiod_end = 2025-06-30\n[source]\ntype = "csv"\npath = "drop"\n'
    )
    result = live.hubctl("feeds", "pull", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "4 received, 4 accepted, 0 rejected" in result.stdout


def test_retokenize_rotates_the_key_and_moves_the_rows(live: LiveHub, tmp_path: Path) -> None:
    roster = kind_by_code("roster")
    fields = [spec.name for spec in roster.fields]
    rows = [[getattr(valid_row(roster, n), name) for name in fields] for n in range(3)]
    path = write_csv(tmp_path / "roster.csv", rows, header=fields)
    upload = live.upload(path, "--department", "civil-affairs", "--as", ROSTER_SUPPLIER)  # the last ones win
    assert upload.exit_code == 0, upload.output
    result = live.hubctl("feeds", "retokenize")
    assert result.exit_code == 0, result.output
    assert "token key version 2 is now current" in result.stdout
    moved = int(result.stdout.split(" rows moved")[0].rsplit(" ", 1)[1].replace(",", ""))
    # The roster's 3 rows (their numbers are kept, encrypted), and the settlements of the same 3 persons uploaded
    # by the first test: token-only rows move with them. The other settlements' persons are known nowhere.
    assert moved == 6
    assert "stay on an older key" in result.stdout and "key versions still used by feed rows: 1, 2" in result.stdout
    document = json.loads((live.sandbox.root / "secrets.json").read_text())
    assert document["tokens"]["current"] == 2
    again = live.hubctl("feeds", "retokenize", "--no-rotate")
    assert again.exit_code == 0 and "to key version 2: 0 rows moved" in again.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_follows_records_handed_over_even_after_a_resume() -> None:
    from hub.cli.feeds import _Bar

    screen = Terminal()
    with _Bar(12, "uploading", file=screen) as progress:
        for done in (5, 10, 5, 12):  # after 10, a new stream resumed from the sixth record
            progress(done)
    assert [int(n) for n in re.findall(r"(\d+)/12", screen.getvalue())] == [0, 5, 10, 5, 12]


def test_pull_with_rows_that_cannot_be_sent_lists_them_and_exits_2(live: LiveHub, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = [settlement(400 + n) for n in range(4)]
    rows[1][FIELDS.index("total_fen")] = "十二元"  # cannot be sent at all: row 2 of the file
    write_csv(drop / "jsxx-202506.csv", rows)
    config = tmp_path / "pull.toml"
    config.write_text(
        f'member = "{SUPPLIER}"\nhub = "{live.sandbox.hub_address}"\ndepartment = "medical-insurance"\n'
        'period_start = 2025-06-01\nperiod_end = 2025-06-30\n[source]\ntype = "csv"\npath = "drop"\n'
    )
    result = live.hubctl("feeds", "pull", "--config", str(config))
    assert result.exit_code == 2, result.output  # as the module says: a scheduled export must notice
    assert "3 received, 3 accepted, 0 rejected; 1 could not be sent" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("  row ")]
    assert [(line[1], line[2]) for line in lines] == [("2", "total_fen")]

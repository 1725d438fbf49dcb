"""``hubctl findings`` as an operator uses it: run, list, show, review, export, stats, rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from hub.audit import AuditLog, AuditRecord
from hub.audit._record import OPERATOR_REVIEW_SERVICE
from hub.cli import main
from hub.feeds import FeedIntake
from hub.privacy import load_secrets
from hub.store import open_store
from tests.findings.conftest import BUREAU_OF, NOW, World, register_bureaus


def hubctl(data_dir: Path, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "findings", *args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    secrets = load_secrets(tmp_path)
    store = open_store(database_url)
    try:
        register_bureaus(store)
        world = World()
        household = world.household("110105", 2)
        world.death(household[1], "2025-05-01")
        world.load(FeedIntake(store, secrets.tokenizer, secrets.cipher, clock=lambda: NOW))
    finally:
        store.dispose()
    return tmp_path


def _audit_entries(data_dir: Path) -> list[AuditRecord]:
    store = open_store(os.environ["HUB_DATABASE_URL"])
    try:
        log = AuditLog(store)
        return [log.entry(seq).record for seq in range(log.size())]
    finally:
        store.dispose()


def test_an_operator_runs_reviews_and_exports_from_the_command_line(data_dir: Path) -> None:
    ran = hubctl(data_dir, "run", "--as-of", "2025-06-30")
    assert "member_died" in ran and "skipped: no current version of property" in ran
    listed = hubctl(data_dir, "list", "--bureau", BUREAU_OF["110105"])
    (line,) = listed.strip().splitlines()
    finding_id = line.split()[0]
    assert "member_died" in line and "open" in line and "110105" in line and "****" in line
    assert hubctl(data_dir, "list", "--bureau", BUREAU_OF["440308"]).strip() == "no findings"

    shown = json.loads(hubctl(data_dir, "show", finding_id))
    assert shown["rule"] == "member_died" and shown["evidence"]["first_on"] == "2025-05-01" and shown["history"] == []
    hubctl(data_dir, "review", finding_id, "start", "--reviewer", "李四")
    refused = hubctl(data_dir, "review", finding_id, "dismiss", "--reviewer", "李四", ok=False)
    assert "reason" in refused
    done = hubctl(data_dir, "review", finding_id, "dismiss", "--reviewer", "李四", "--reason", "同名误报")
    assert "dismissed (by 李四)" in done
    shown = json.loads(hubctl(data_dir, "show", finding_id))
    assert [(e["from"], e["to"]) for e in shown["history"]] == [("open", "under_review"), ("under_review", "dismissed")]
    logged = _audit_entries(data_dir)  # each step went into the audit log with it; the refused one did not
    assert [(e.kind, e.service, e.purpose_code, e.case_number) for e in logged] == [
        ("finding_review", OPERATOR_REVIEW_SERVICE, "finding.start", f"finding {finding_id}"),
        ("finding_review", OPERATOR_REVIEW_SERVICE, "finding.dismiss", f"finding {finding_id}"),
    ]
    assert all(len(e.subject_tokens) == 1 and "同名误报" not in repr(e) for e in logged)

    exported = hubctl(data_dir, "export", str(data_dir / "out.xlsx"), "--status", "dismissed")
    assert "exported 1 finding " in exported
    sheet = load_workbook(data_dir / "out.xlsx").active
    assert sheet is not None and sheet["B2"].value == "member_died" and sheet["A1"].value == "编号 ID"

    hubctl(data_dir, "stats", str(data_dir / "report"), "--period-end", "2025-07-14")
    assert {p.name for p in (data_dir / "report").iterdir()} == {"statistics.csv", "statistics.xlsx", "trend.png"}


def test_rule_files_are_checked_from_the_command_line(tmp_path: Path) -> None:
    listed = hubctl(tmp_path, "rules")
    assert "(default)" in listed and "130629" in listed and "income_over_standard" in listed
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "440308.toml").write_text(
        'region = "440308"\n[rules.second_home]\nat_lest = 3\n', encoding="utf-8"
    )
    refused = hubctl(tmp_path, "rules", "--dir", str(tmp_path / "rules"), ok=False)
    assert "unknown keys at_lest" in refused

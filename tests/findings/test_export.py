"""Exports for the bureaus: CSV and XLSX, columns in Chinese and English, persons masked unless asked for."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from hub.feeds import FeedIntake
from hub.findings import (
    Action,
    ExportFormat,
    FindingBook,
    FindingFilter,
    PersonNames,
    load_rules,
    parse_rules,
    rule_titles,
    run_comparison,
    write_findings,
)
from hub.identifiers import mask_id_number
from hub.privacy import FieldCipher
from hub.store import Store
from tests.findings.conftest import AS_OF, NOW, World

HEADERS = ["编号 ID", "规则 Rule", "规则名称 Rule title", "类别 Signal", "严重程度 Severity", "地区 Locality"]


def prepare(store: Store, intake: FeedIntake) -> tuple[list[str], list[str]]:
    world = World()
    died = world.household("110105", 2)
    world.death(died[1], "2025-05-01")
    twice = world.household("110105", 1, since="2024-01-01", amount=60_000)
    world.enrol(twice[0], twice[0], "440308", "dibao", since="2024-06-01", amount=55_000)
    world.load(intake)
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)
    return died, twice


def test_csv_names_columns_in_both_languages_and_masks_persons(
    store: Store, intake: FeedIntake, cipher: FieldCipher, tmp_path: Path
) -> None:
    died, _ = prepare(store, intake)
    book = FindingBook(store, clock=lambda: NOW)
    duplicate = book.find(FindingFilter(rules=("duplicate_locality",)))[0]
    book.review(duplicate.id, Action.START, reviewer="赵六")
    book.review(duplicate.id, Action.CONFIRM, reviewer="赵六", reason="两地重复")
    path = tmp_path / "findings.csv"
    rows = write_findings(
        book.iterate(),
        path,
        ExportFormat.CSV,
        names=PersonNames(store, cipher),
        titles=rule_titles(load_rules()),
        today=book.today(),
    )
    assert rows == 2
    with path.open(encoding="utf-8-sig") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0])[: len(HEADERS)] == HEADERS
    by_rule = {row["规则 Rule"]: row for row in table}
    death = by_rule["member_died"]
    assert death["对象身份证号 Person ID"] == mask_id_number(died[1])
    assert death["户主身份证号 Household head ID"] == mask_id_number(died[0])
    assert death["状态 Status"] == "待核查 open" and death["救助项目 Programme"] == "低保 dibao"
    assert "first_on=2025-05-01" in death["比对依据 Evidence"] and death["数据版本 Feed versions"].startswith("death v")
    assert death["规则名称 Rule title"].startswith("救助对象死亡")
    confirmed = by_rule["duplicate_locality"]
    assert confirmed["多发金额(元) Overpayment (yuan)"] == f"{14 * 550:.2f}" and confirmed["核查人 Reviewer"] == "赵六"
    assert died[1] not in path.read_text(encoding="utf-8-sig")


def test_full_numbers_only_when_asked_and_references_without_the_key(
    store: Store, intake: FeedIntake, cipher: FieldCipher
) -> None:
    died, _ = prepare(store, intake)
    book = FindingBook(store, clock=lambda: NOW)
    revealed = io.BytesIO()
    write_findings(
        book.iterate(), revealed, ExportFormat.CSV, names=PersonNames(store, cipher, reveal=True), today=book.today()
    )
    assert died[1] in revealed.getvalue().decode("utf-8-sig")
    keyless = io.BytesIO()
    write_findings(book.iterate(), keyless, ExportFormat.CSV, names=PersonNames(store, None), today=book.today())
    text = keyless.getvalue().decode("utf-8-sig")
    assert died[1] not in text and mask_id_number(died[1]) not in text and ",#" in text


def test_xlsx_opens_with_a_bold_bilingual_header(store: Store, intake: FeedIntake, cipher: FieldCipher) -> None:
    prepare(store, intake)
    book = FindingBook(store, clock=lambda: NOW)
    buffer = io.BytesIO()
    rows = write_findings(
        book.iterate(), buffer, ExportFormat.XLSX, names=PersonNames(store, cipher), today=book.today()
    )
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet is not None and sheet.title == "预警线索 Findings"
    header = [cell.value for cell in sheet[1]]
    assert header[: len(HEADERS)] == HEADERS and sheet["A1"].font.bold
    assert sheet.max_row == rows + 1 == 3


def test_typed_text_that_looks_like_a_formula_stays_text(store: Store, intake: FeedIntake) -> None:
    """A reason an officer typed must never become a live formula in the bureau's spreadsheet."""
    prepare(store, intake)
    book = FindingBook(store, clock=lambda: NOW)
    duplicate = book.find(FindingFilter(rules=("duplicate_locality",)))[0]
    book.review(duplicate.id, Action.START, reviewer="@赵六")
    book.review(duplicate.id, Action.DISMISS, reviewer="@赵六", reason='=HYPERLINK("http://x.example","详情")')
    xlsx = io.BytesIO()
    write_findings(book.iterate(), xlsx, ExportFormat.XLSX, today=book.today())
    sheet = load_workbook(io.BytesIO(xlsx.getvalue())).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    reason = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "duplicate_locality")
    cell = reason[header.index("理由 Reason")]
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://x.example","详情")'
    assert reason[header.index("核查人 Reviewer")].value == "'@赵六"
    text = io.BytesIO()
    write_findings(book.iterate(), text, ExportFormat.CSV, today=book.today())
    rows = {row["规则 Rule"]: row for row in csv.DictReader(io.StringIO(text.getvalue().decode("utf-8-sig")))}
    assert rows["duplicate_locality"]["理由 Reason"].startswith("'=")


def test_a_region_that_renames_a_rule_shows_its_own_title_on_its_findings(store: Store, intake: FeedIntake) -> None:
    """``rule_titles``: the default's title, overridden by a region that renames the rule — on that region's
    findings only (a county's wording must not replace the default's elsewhere, nor the reverse)."""
    from tests.findings.test_rules import default_document

    county_title = "容城县：救助对象死亡 / died (Rongcheng wording)"
    rules = parse_rules(
        {"": default_document(), "130629": {"region": "130629", "rules": {"member_died": {"title": county_title}}}}
    )
    world = World()
    for locality in ("110105", "130629"):
        died = world.household(locality, 2)
        world.death(died[1], "2025-05-01")
    world.load(intake)
    run_comparison(store, rules, as_of=AS_OF, clock=lambda: NOW)
    book = FindingBook(store, clock=lambda: NOW)
    buffer = io.BytesIO()
    write_findings(book.iterate(), buffer, ExportFormat.CSV, titles=rule_titles(rules), today=book.today())
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    titles = {row["地区 Locality"]: row["规则名称 Rule title"] for row in rows}
    default_title = rules.region("").rule("member_died").title
    assert titles == {"110105": default_title, "130629": county_title}

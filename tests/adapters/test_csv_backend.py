"""The CSV drop-folder backend: cached reads that notice changes, atomic appends, agency encodings."""

from __future__ import annotations

import asyncio
import csv
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from adapters import load_adapter
from adapters._csv import CsvDataset
from adapters._datasets import ColumnMap
from adapters.civil_affairs import ASSISTANCE_RECORDS, KEY
from adapters.demo import Demo
from hub import services
from hub.errors import FailedPrecondition
from hub.v1 import verification_pb2 as pb

from .adapter_requests import answer, ask

COLUMNS = {"id_number": "SFZH", "programme": "JZLB", "locality": "XZQH", "status": "ZT"}


def _dataset(path: Path, **options: Any) -> CsvDataset:
    columns = ColumnMap.from_config(ASSISTANCE_RECORDS, COLUMNS, "datasets.assistance_records")
    return CsvDataset("assistance_records", path, columns, required=ASSISTANCE_RECORDS.required, **options)


def _row(number: str, locality: str = "110115") -> dict[str, object]:
    return {"id_number": number, "programme": "低保", "locality": locality, "status": "在保"}


def _notice(number: str) -> pb.EnrolmentNotice:
    record = pb.AssistanceRecord(id_number=number, programme=pb.TEKUN, locality="110115")
    return pb.EnrolmentNotice(change=pb.NEW_ENROLMENT, record=record)


def test_enrolment_notice_appends_one_row_by_replacing_the_file(open_adapter: Any, demo: Demo) -> None:
    assert demo.directory is not None
    roster = demo.directory / "civil-affairs" / "jzdx.csv"
    before = roster.read_bytes()
    inode = roster.stat().st_ino
    adapter = open_adapter("csv")
    answer(adapter, _notice(demo.b.id_number), services.ENROLMENT_NOTICE)
    after = roster.read_bytes()
    assert after.startswith(before), "earlier rows are kept byte for byte"
    [added] = list(csv.reader(after[len(before) :].decode().splitlines()))
    header = next(csv.reader([before.decode().splitlines()[0]]))
    assert len(added) == len(header)
    assert dict(zip(header, added, strict=True))["SFZH"] == demo.b.id_number
    assert dict(zip(header, added, strict=True))["JZLB"] == "特困"
    assert roster.stat().st_ino != inode, "the new content was renamed into place, not written in place"
    assert sorted(p.name for p in roster.parent.iterdir()) == ["jzdx.csv"], "no temporary or lock file is left"


def test_a_failed_append_leaves_the_file_as_it_was(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo.directory is not None
    roster = demo.directory / "civil-affairs" / "jzdx.csv"
    before = roster.read_bytes()
    adapter = load_adapter("csv", demo.config("csv"))

    def crash(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        answer(adapter, _notice(demo.b.id_number), services.ENROLMENT_NOTICE)
    assert roster.read_bytes() == before
    assert not [p for p in roster.parent.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert ask(adapter, services.ASSISTANCE_INQUIRY, [demo.b.id_number]).not_found


def test_concurrent_appends_all_land_and_readers_never_see_half_a_row(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    dataset = _dataset(path, refresh_seconds=0)
    numbers = [p.id_number for p in demo.persons.values()]
    stop = threading.Event()
    torn: list[list[str]] = []

    def read_continuously() -> None:
        while not stop.is_set():
            if path.exists():
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    torn.extend(row for row in csv.reader(handle) if len(row) != len(ASSISTANCE_RECORDS.fields))

    reader = threading.Thread(target=read_continuously)
    reader.start()

    async def append_all() -> None:
        await asyncio.gather(*(dataset.upsert(_row(n), KEY) for n in numbers))

    try:
        asyncio.run(append_all())
    finally:
        stop.set()
        reader.join()
    assert not torn
    found = asyncio.run(dataset.by_id(numbers))
    assert {n: len(rows) for n, rows in found.items()} == dict.fromkeys(numbers, 1)


def test_new_file_gets_a_header_and_a_bom_only_at_the_start(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    dataset = _dataset(path)
    asyncio.run(dataset.upsert(_row(demo.a.id_number), KEY))
    asyncio.run(dataset.upsert(_row(demo.b.id_number), KEY))
    content = path.read_bytes()
    assert content.count("\ufeff".encode()) == 1 and content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:4] == ["SFZH", "name", "JZLB", "XZQH"]
    assert len(lines) == 3


def test_changes_made_by_others_are_noticed(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"SFZH,JZLB,XZQH\n{demo.a.id_number},低保,130629\n", encoding="utf-8")
    dataset = _dataset(path, refresh_seconds=0)
    assert set(asyncio.run(dataset.by_id([demo.a.id_number, demo.b.id_number]))) == {demo.a.id_number}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{demo.b.id_number},特困,130629\n")
    assert set(asyncio.run(dataset.by_id([demo.a.id_number, demo.b.id_number]))) == {
        demo.a.id_number,
        demo.b.id_number,
    }


def test_reads_are_cached_between_refreshes(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"SFZH,JZLB,XZQH\n{demo.a.id_number},低保,130629\n", encoding="utf-8")
    dataset = _dataset(path, refresh_seconds=3600)
    assert asyncio.run(dataset.by_id([demo.a.id_number]))
    path.write_text("SFZH,JZLB,XZQH\n", encoding="utf-8")
    assert asyncio.run(dataset.by_id([demo.a.id_number])), "within refresh_seconds the cached rows serve"


def test_missing_file_is_an_empty_dataset_and_missing_column_a_clear_error(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    dataset = _dataset(path, refresh_seconds=0)
    assert asyncio.run(dataset.by_id([demo.a.id_number])) == {}
    assert asyncio.run(dataset.as_of()) is None
    path.write_text(f"ID,JZLB,XZQH\n{demo.a.id_number},低保,130629\n", encoding="utf-8")
    with pytest.raises(FailedPrecondition, match="SFZH"):
        asyncio.run(dataset.by_id([demo.a.id_number]))


def test_rows_with_unreadable_id_numbers_are_skipped(tmp_path: Path, demo: Demo) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"SFZH,JZLB,XZQH\n123,低保,130629\n{demo.a.id_number},低保,130629\n", encoding="utf-8")
    dataset = _dataset(path)
    assert list(asyncio.run(dataset.by_id([demo.a.id_number]))) == [demo.a.id_number]


def test_gbk_exports_and_other_delimiters(tmp_path: Path, demo: Demo) -> None:
    folder = tmp_path / "gbk"
    folder.mkdir()
    (folder / "cbry.csv").write_bytes(f"身份证号;单位\n{demo.a.id_number};容城县服装厂\n".encode("gbk"))
    config = {
        "backend": "csv",
        "folder": str(folder),
        "encoding": "gbk",
        "delimiter": ";",
        "datasets": {"insured_persons": {"file": "cbry.csv", "columns": {"id_number": "身份证号", "employer": "单位"}}},
    }
    adapter = load_adapter("hrss", config)
    report = ask(adapter, services.HOUSEHOLD_CHECK, [demo.a.id_number])
    assert [(f.name, f.value) for f in report.facts] == [("employer", "容城县服装厂")]

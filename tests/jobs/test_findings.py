"""Finding sinks: idempotent by dedupe key, across processes for the file, and never holding an ID number."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from hub.errors import InvalidArgument
from hub.jobs import JsonlFindingSink, MemoryFindingSink

TOKEN = bytes(range(16))


def test_the_memory_sink_raises_each_key_once() -> None:
    sink = MemoryFindingSink()
    assert sink.raise_finding("property", TOKEN, "owner", {"residential": 2}, "k1")
    assert not sink.raise_finding("property", TOKEN, "owner", {"residential": 3}, "k1")
    assert sink.raised == 2 and sink.findings["k1"].evidence == {"residential": 2}


def test_the_file_sink_is_idempotent_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    first, second = JsonlFindingSink(path), JsonlFindingSink(path)
    assert first.raise_finding("deceased", TOKEN, "owner", {"died_on": "2025-04-17"}, "k1")
    assert not second.raise_finding("deceased", TOKEN, "owner", {"died_on": "2025-04-17"}, "k1")
    assert second.raise_finding("property", TOKEN, "owner", {"residential": 2}, "k2")
    assert not first.raise_finding("property", TOKEN, "owner", {}, "k2")
    assert [f["dedupe_key"] for f in first.findings()] == ["k1", "k2"]
    assert first.findings()[0] == {
        "dedupe_key": "k1",
        "kind": "deceased",
        "subject": TOKEN.hex(),
        "owner": "owner",
        "evidence": {"died_on": "2025-04-17"},
    }


def test_a_torn_last_line_is_not_a_finding_and_does_not_glue_to_the_next(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    JsonlFindingSink(path).raise_finding("deceased", TOKEN, "owner", {}, "k1")
    with path.open("ab") as handle:
        handle.write(b'{"dedupe_key": "k2", "ki')  # the process died mid-write
    sink = JsonlFindingSink(path)
    assert sink.raise_finding("property", TOKEN, "owner", {}, "k2")
    assert [f["dedupe_key"] for f in sink.findings()] == ["k1", "k2"]


def _raise_many(path: str, worker: int) -> None:
    sink = JsonlFindingSink(Path(path))
    for n in range(40):
        sink.raise_finding("property", TOKEN, f"w{worker}", {"n": n}, f"key-{n}")


def test_processes_racing_on_one_file_write_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_raise_many, args=(str(path), w)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    keys = [f["dedupe_key"] for f in JsonlFindingSink(path).findings()]
    assert sorted(keys) == sorted(f"key-{n}" for n in range(40))


@pytest.mark.parametrize("sink", [MemoryFindingSink(), JsonlFindingSink(Path("/nonexistent/never-written.jsonl"))])
def test_evidence_holding_an_id_number_is_refused(sink: MemoryFindingSink | JsonlFindingSink) -> None:
    with pytest.raises(InvalidArgument, match="ID number"):
        sink.raise_finding("property", TOKEN, "owner", {"member": "11010519491231002X"}, "k")

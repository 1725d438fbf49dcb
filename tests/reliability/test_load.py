"""A bounded load test on loopback (``bench.load``, short): requests served, errors by status exactly as sent,
and the audit log exported and verified intact afterwards, with one pair of entries per answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.load import EXPECTED, run_load

pytestmark = [pytest.mark.integration, pytest.mark.load]


def test_bounded_load(tmp_path: Path, database_url: str) -> None:
    report = asyncio.run(
        asyncio.wait_for(run_load(tmp_path / "load", seconds=3.0, callers=4, database_url=database_url), 120)
    )
    print("\n" + "\n".join(report.lines()))  # the table, with pytest -s
    tally, audit = report.tally, report.audit
    assert tally.unexpected() == {}, "a request got another status than its kind must"
    assert {kind for kind, _ in tally.outcomes} == set(EXPECTED), "every kind of request was sent"
    served = tally.by_status()["OK"]
    assert served >= 200 and served == len(tally.answered) == len(set(tally.answered))
    assert audit.seen_messages == served, "the replay memory holds exactly the answered questions"
    assert audit.by_kind == {"request": served, "response": served}, "refusals leave no entry, answers two"
    assert audit.duplicates == 0 and audit.entries == audit.signed_size == 2 * served
    assert report.exit_code == 0, "the hub did not shut down cleanly after the load"

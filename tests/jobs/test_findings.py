"""The in-memory finding sink (the twin of the findings table): idempotent by dedupe key, never an ID number.

The findings table itself, as the jobs' sink, is tested with the comparisons (``tests/findings/test_jobs.py``).
"""

from __future__ import annotations

import pytest

from hub.errors import InvalidArgument
from hub.jobs import MemoryFindingSink

TOKEN = bytes(range(16))


def test_the_memory_sink_raises_each_key_once() -> None:
    sink = MemoryFindingSink()
    assert sink.raise_finding("property", TOKEN, "owner", {"residential": 2}, "k1", locality="110115")
    assert not sink.raise_finding("property", TOKEN, "owner", {"residential": 3}, "k1")
    assert sink.raised == 2 and sink.findings["k1"].evidence == {"residential": 2}
    assert sink.findings["k1"].locality == "110115"


def test_evidence_holding_an_id_number_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="ID number"):
        MemoryFindingSink().raise_finding("property", TOKEN, "owner", {"member": "11010519491231002X"}, "k")

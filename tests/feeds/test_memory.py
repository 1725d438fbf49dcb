"""An upload's peak memory does not grow with the feed (issue 4, item 8; DESIGN.md's "peak memory flat in feed size").

Each size is uploaded through the intake in a fresh process, which reports its peak resident set: a process's
high-water mark covers everything it ever held, so two sizes in one process would measure the larger twice. The
rows are made chunk by chunk, as a supplier streams them. A 256 MB page cache for the completion's fill once made
the peak grow with the feed: here 113 → 152 MB from 20 k to 200 k records (now 113 → 116 MB), and 147 → 504 MB
from 200 k to 2 M in ``bench/feeds_upload.py``, which measures the full sizes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parents[2]
#: The bench's bound: peak memory at the larger size over the smaller, above which it grows with the feed.
FLAT = 1.25

CHILD = textwrap.dedent(
    """
    import json, resource, sys, tempfile
    from pathlib import Path

    from hub.feeds import FeedIntake, kind_by_code
    from hub.privacy import FieldCipher, Tokenizer
    from hub.store import open_store
    from tests.feeds.conftest import meta, upload, valid_row

    records = int(sys.argv[1])
    kind = kind_by_code("medical_settlement")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'hub.db'}")
        intake = FeedIntake(store, Tokenizer.generate(), FieldCipher.generate())
        rows = (valid_row(kind, n) for n in range(records))
        receipt = upload(intake, meta("memory-1", records=records), rows, size=5_000)
        store.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"accepted": receipt.accepted_records, "peak_mb": peak_mb}))
    """
)


def peak_memory(records: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(records)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["accepted"] == records
    return float(measured["peak_mb"])


def test_peak_memory_of_an_upload_is_flat_in_its_size() -> None:
    small, large = peak_memory(20_000), peak_memory(200_000)
    assert large / small <= FLAT, f"peak memory grew from {small:.0f} MB at 20 k records to {large:.0f} MB at 200 k"

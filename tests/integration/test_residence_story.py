"""The 居住地申办 story through real processes: hub and agency nodes as `python -m hub.cli` over mutual TLS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.demo import run

pytestmark = pytest.mark.integration


def test_residence_based_application_story(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = run(tmp_path / "demo", lines.append)

    assert outcome.permits_valid == {"A": True, "B": True}
    assert outcome.hukou_regions == {"A": "130629", "B": "130629"}
    assert outcome.assistance_before == {"A": [("低保", "130629")], "B": []}
    assert outcome.enrolment_recorded
    assert outcome.assistance_after["B"] == [("低保", "110115")], "the 户籍 county now knows B is paid at the residence"
    assert outcome.assistance_after["A"] == [("低保", "130629")]
    assert outcome.exit_codes == {name: 0 for name in outcome.exit_codes} and len(outcome.exit_codes) == 4

    transcript = "\n".join(lines)
    assert "verified: 容城县民政局" in transcript and "the hub" in transcript
    for log in (tmp_path / "demo" / "logs").iterdir():
        text = log.read_text()
        assert "INSECURE" not in text
        assert not re.search(r"\d{17}[\dXx]", text), f"{log.name} contains a raw ID number"

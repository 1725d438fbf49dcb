"""The committed generated code is exactly what proto/ generates (one command regenerates it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_matches_proto() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (
        f"generated code drifts from proto/; run `python scripts/gen_proto.py`\n{result.stderr}"
    )

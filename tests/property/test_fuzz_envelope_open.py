"""The envelope-opening fuzz target: its oracle holds on the seeds and catches a forgery, and a bounded
coverage-guided run (atheris, from the ``test`` extra; skipped where it has no wheel) finds no crash."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hub.envelope import sign_payload
from hub.v1.envelope_pb2 import Message

TARGET = Path(__file__).resolve().parents[2] / "fuzz" / "envelope_open.py"
SECONDS = 5


def target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_envelope_open", TARGET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_seeds_pass_the_oracle_in_every_mode() -> None:
    fuzz = target()
    seeds = list(fuzz.seed_inputs())
    assert {data[0] for data in seeds} == {0, 1, 2}
    for data in seeds:
        fuzz.test_one_input(data)


def test_the_oracle_catches_a_payload_nobody_signed() -> None:
    """Control: were opening to accept a payload other than the seeds', the target would crash."""
    fuzz = target()
    message = Message(header=fuzz.header("hub.v1.Verification/HouseholdRegistration", 999))
    forged = sign_payload(message.SerializeToString(), [fuzz.MEMBER_KEYS[0]])
    with pytest.raises(AssertionError, match="nobody signed"):
        fuzz.test_one_input(b"\x00" + forged.SerializeToString())


def test_a_bounded_fuzzing_run_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris has no wheel for this Python")
    corpus, artifacts = tmp_path / "corpus", tmp_path / "crashes"
    artifacts.mkdir()
    command = [
        sys.executable,
        str(TARGET),
        f"-max_total_time={SECONDS}",
        "-rss_limit_mb=2048",
        f"-artifact_prefix={artifacts}/",
        str(corpus),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert list(artifacts.iterdir()) == [], "the fuzzer saved a crashing input"
    runs = re.search(r"Done (\d+) runs", output)
    assert runs is not None and int(runs.group(1)) >= 1000, output[-2000:]
    assert len(list(corpus.iterdir())) > len(list(target().seed_inputs())), "no new coverage beyond the seeds"

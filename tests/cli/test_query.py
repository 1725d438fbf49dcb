"""hubctl query against a live hub and agency nodes: a user asks each question by hand."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.demo import Demo, write_demo
from hub.cli import main
from hub.demo import DAXING_CA, RONGCHENG_CA, RONGCHENG_PS, members
from hub.sandbox import Sandbox

pytestmark = pytest.mark.integration


class LiveSandbox:
    """A sandbox served from its own event loop in a thread, so a synchronous CLI can talk to it."""

    def __init__(self, root: Path) -> None:
        self.demo: Demo = write_demo(root / "agency-data")
        self.sandbox = Sandbox(root, members(self.demo))
        self.sandbox.provision()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(), self.loop).result(60)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sandbox.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    sandbox = LiveSandbox(tmp_path_factory.mktemp("live"))
    try:
        yield sandbox
    finally:
        sandbox.stop()


def query(live: LiveSandbox, *args: str) -> tuple[int, str]:
    base = ["--data-dir", str(live.sandbox.root), "query", "--hub", live.sandbox.hub_address, "--as", DAXING_CA]
    result = CliRunner().invoke(main, [*base, *args])
    return result.exit_code, result.output


def test_household_registration_by_hand(live: LiveSandbox) -> None:
    code, out = query(
        live, "--trust", RONGCHENG_PS, "household-registration", live.demo.a.id_number, "--region", "130629"
    )
    assert code == 0, out
    assert 'region_code: "130629"' in out and "registered: true" in out
    assert f"verified signature: {RONGCHENG_PS}" in out and "verified signature: hub" in out


def test_inquiry_by_hand_shows_assistance_elsewhere(live: LiveSandbox) -> None:
    code, out = query(
        live, "--trust", RONGCHENG_CA, "inquiry", live.demo.a.id_number, live.demo.b.id_number, "--region", "130629"
    )
    assert code == 0, out
    assert "programme: DIBAO" in out and live.demo.b.id_number in out  # B is reported not found


def test_a_refusal_is_a_clear_error_with_a_nonzero_exit(live: LiveSandbox) -> None:
    code, out = query(live, "household-registration", "110105194912310021", "--region", "130629")
    assert code != 0
    assert "INVALID_ARGUMENT" in out and "person.id_number" in out and "110105194912310021" not in out
    code, out = query(live, "household-check", live.demo.a.id_number)  # the demo bureau holds no grant for it
    assert code != 0
    assert "NOT_GRANTED" in out

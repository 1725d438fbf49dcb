"""Job bodies the process tests plug into real hubs (``jobs.bodies``): each leaves a side effect per unit of work
in the file named by ``HUB_TEST_SIDE_EFFECTS``, so a test can count how often the work really happened."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from hub.jobs import JobContext

SIDE_EFFECTS = "HUB_TEST_SIDE_EFFECTS"
SLOW_ITEMS = 12


def note(line: str) -> None:
    with open(os.environ[SIDE_EFFECTS], "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


async def tick(context: JobContext) -> dict[str, Any]:
    """Once per due time: note it (the ledger keeps a take-over from noting it again)."""
    if context.resumed:
        context.items.interrupt_started()
    if context.items.begin("tick"):
        note(f"tick {context.scheduled_for.isoformat()} {os.getpid()}")
        context.items.finish("tick", "done")
    return {}


async def slow(context: JobContext) -> dict[str, Any]:
    """Twelve items of a quarter second each, checkpointed after each one."""
    if context.resumed:
        context.items.interrupt_started()
    for n in range(int(context.resume_state.get("next", 0)), SLOW_ITEMS):
        key = f"item-{n:02d}"
        if context.items.begin(key):
            note(f"slow {key} {os.getpid()}")
            await asyncio.sleep(0.25)
            context.items.finish(key, "done")
        context.progress(n + 1, SLOW_ITEMS)
        context.checkpoint({"next": n + 1})
    return {"items": SLOW_ITEMS}

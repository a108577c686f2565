"""The heartbeat ticker reaches the activity from its own thread, and stops with the block."""

from __future__ import annotations

import time

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities.heartbeat import heartbeating


@activity.defn
def _long_work(seconds: float) -> str:
    with heartbeating(every=0.05):
        time.sleep(seconds)
    return "done"


def test_heartbeats_while_the_work_blocks_and_not_after() -> None:
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    assert env.run(_long_work, 0.3) == "done"
    during = len(beats)
    assert during >= 3
    time.sleep(0.2)
    assert len(beats) == during

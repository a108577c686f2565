"""The spool: appends from many processes, claims that never lose a line, and its caps."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import UsageEvent
from agent_registry.usage import spool
from agent_registry.usage.paths import UsagePaths
from tests.usage.helpers import NOW


def event(number: int) -> UsageEvent:
    return UsageEvent(
        kind=AssetKind.SKILL,
        name="pdf-report",
        user="ada",
        at=NOW + timedelta(seconds=number),
        event_id=f"e{number}",
    )


def test_append_then_claim_moves_every_event_into_a_batch(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path / "usage")
    for number in range(3):
        spool.append(paths, event(number))
    current = spool.state(paths)
    assert (current.events, current.oldest_at, current.batches) == (3, NOW, 0)

    batch = spool.claim(paths, wait_seconds=0)
    assert batch is not None
    assert [e.event_id for e in spool.read_batch(batch)] == ["e0", "e1", "e2"]
    assert spool.state(paths).events == 0
    assert spool.state(paths).batches == 1
    assert spool.claim(paths, wait_seconds=0) is None  # nothing new to claim


def test_corrupt_lines_are_skipped_and_flagged(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    paths.spool.write_bytes(b"garbage\n")
    spool.append(paths, event(1))
    assert spool.state(paths).unreadable
    batch = spool.claim(paths, wait_seconds=0)
    assert batch is not None
    assert [e.event_id for e in spool.read_batch(batch)] == ["e1"]


def test_a_held_lock_makes_an_append_give_up_quickly(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    with spool.locked(paths.lock, wait_seconds=0):
        started = time.monotonic()
        with pytest.raises(spool.SpoolBusyError):
            spool.append(paths, event(1))
        assert time.monotonic() - started < 1.0
    spool.append(paths, event(2))
    assert spool.state(paths).events == 1


def test_a_full_spool_drops_new_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = UsagePaths(tmp_path)
    monkeypatch.setattr(spool, "MAX_SPOOL_BYTES", 400)
    for number in range(4):
        spool.append(paths, event(number))
    with pytest.raises(spool.SpoolFullError):
        spool.append(paths, event(4))
    assert spool.state(paths).events == 4

"""Batching: send only when due, within the budget, and never count an event twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import UsageEvent
from agent_registry.usage import spool
from agent_registry.usage.flush import (
    FlushOutcome,
    FlushPolicy,
    flush_due,
    flush_within,
    send_pending,
)
from agent_registry.usage.paths import UsagePaths
from tests.usage.helpers import NOW, CountingSink

POLICY = FlushPolicy(max_age_seconds=60, max_events=5, budget_seconds=0.3, chunk_size=2)


def spool_events(paths: UsagePaths, count: int, *, first: int = 0) -> None:
    for number in range(first, first + count):
        spool.append(
            paths,
            UsageEvent(
                kind=AssetKind.SKILL, name="pdf-report", user="ada", at=NOW, event_id=f"e{number}"
            ),
        )


def test_not_due_while_young_and_small(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    assert not flush_due(paths, POLICY, NOW)  # empty
    spool_events(paths, 5)
    assert not flush_due(paths, POLICY, NOW + timedelta(seconds=59))
    sink = CountingSink()
    assert flush_within(paths, lambda: sink, POLICY, now=NOW) is FlushOutcome.NOT_DUE
    assert sink.calls == []


def test_due_when_old_or_large(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    spool_events(paths, 1)
    assert flush_due(paths, POLICY, NOW + timedelta(seconds=60))
    spool_events(paths, 5, first=1)
    assert flush_due(paths, POLICY, NOW)


def test_a_due_spool_is_sent_in_chunks_and_removed(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    spool_events(paths, 6)
    sink = CountingSink()
    assert flush_within(paths, lambda: sink, POLICY, now=NOW) is FlushOutcome.SENT
    assert [len(call) for call in sink.calls] == [2, 2, 2]
    assert sorted(sink.seen) == [f"e{n}" for n in range(6)]
    assert spool.state(paths) == spool.SpoolState(events=0, oldest_at=None, batches=0)


def test_a_failed_send_keeps_the_batch_and_the_retry_counts_once(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    spool_events(paths, 6)
    down = CountingSink(fail=True)
    assert flush_within(paths, lambda: down, POLICY, now=NOW) is FlushOutcome.FAILED
    assert spool.state(paths).batches == 1

    # The answer to a send is lost after the registry recorded it: the batch stays.
    sink = CountingSink()
    batch = paths.batches()[0]
    sink.record_usage(spool.read_batch(batch))
    spool_events(paths, 1, first=6)
    assert send_pending(paths, lambda: sink, POLICY) == 1  # only the new event counts
    assert sorted(sink.seen) == [f"e{n}" for n in range(7)]
    assert paths.batches() == []


def test_a_slow_registry_is_abandoned_at_the_budget(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    spool_events(paths, 6)
    slow = CountingSink(delay=2.0)
    policy = FlushPolicy(max_age_seconds=60, max_events=5, budget_seconds=0.2)
    assert flush_within(paths, lambda: slow, policy, now=NOW) is FlushOutcome.TIMED_OUT
    assert spool.state(paths).batches == 1  # kept for next time
    # The next hooks do not try again before the flush interval has passed...
    assert flush_within(paths, CountingSink, policy, now=NOW) is FlushOutcome.NOT_DUE
    later = NOW + timedelta(seconds=policy.max_age_seconds)
    # ...and then not while the abandoned send still runs.
    assert flush_within(paths, CountingSink, policy, now=later) is FlushOutcome.BUSY


def test_a_failed_send_backs_off_until_the_interval_passes(tmp_path: Path) -> None:
    paths = UsagePaths(tmp_path)
    spool_events(paths, 6)
    down = CountingSink(fail=True)
    assert flush_within(paths, lambda: down, POLICY, now=NOW) is FlushOutcome.FAILED
    up = CountingSink()
    almost = NOW + timedelta(seconds=POLICY.max_age_seconds - 1)
    assert flush_within(paths, lambda: up, POLICY, now=almost) is FlushOutcome.NOT_DUE
    later = NOW + timedelta(seconds=POLICY.max_age_seconds)
    assert flush_within(paths, lambda: up, POLICY, now=later) is FlushOutcome.SENT
    assert len(up.seen) == 6
    assert not paths.backoff.exists()

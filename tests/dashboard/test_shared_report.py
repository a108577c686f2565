"""The report the dashboard and /metrics share: computed at most once per few seconds."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent_registry.catalog.models import OrgReport
from agent_registry.dashboard.shared import SharedReport
from tests.dashboard.sample import sample_report


class Counting:
    """A report source that counts its computations, and can fail or be slow."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> OrgReport:
        self.calls += 1
        self.release.wait(timeout=10)
        if self.fail:
            raise ConnectionError("database is down")
        return sample_report()


async def test_an_unchanged_registry_shares_one_computation_until_it_ages() -> None:
    now = [100.0]
    generation = ["g1"]
    source = Counting()
    shared = SharedReport(
        source, generation=lambda: generation[0], max_age=10, clock=lambda: now[0]
    )

    first = await shared.get()
    now[0] += 9.9
    assert await shared.get() is first
    assert source.calls == 1
    now[0] += 0.2  # older than the age: computed again
    second = await shared.get()
    assert second is not first
    assert source.calls == 2


async def test_a_registry_change_is_computed_at_once() -> None:
    generation = ["g1"]
    source = Counting()
    shared = SharedReport(source, generation=lambda: generation[0], max_age=10)
    first = await shared.get()
    generation[0] = "g2"  # a use was recorded, a version moved
    assert await shared.get() is not first
    assert source.calls == 2


async def test_without_a_generation_every_reader_computes() -> None:
    source = Counting()
    shared = SharedReport(source, generation=None, max_age=10)
    await shared.get()
    await shared.get()
    assert source.calls == 2


async def test_concurrent_readers_wait_for_the_one_computation() -> None:
    source = Counting()
    source.release.clear()
    shared = SharedReport(source, generation=lambda: "g", max_age=10)
    readers = [asyncio.create_task(shared.get()) for _ in range(5)]
    await asyncio.sleep(0.1)
    source.release.set()
    reports = await asyncio.gather(*readers)
    assert source.calls == 1
    assert all(report is reports[0] for report in reports)


async def test_a_failure_is_not_kept() -> None:
    source = Counting()
    source.fail = True
    shared = SharedReport(source, generation=lambda: "g", max_age=10)
    with pytest.raises(ConnectionError):
        await shared.get()
    source.fail = False
    assert (await shared.get()).generated_at == sample_report().generated_at
    assert source.calls == 2

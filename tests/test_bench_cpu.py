"""The CPU arithmetic the benchmarks use to say what sets a missed latency target."""

from __future__ import annotations

import statistics

import pytest

from bench.cpu import CpuSeconds, cpu_split, median_floor


def test_the_floor_is_the_median_of_jobs_done_one_after_another_on_every_core() -> None:
    each, count, cores = 0.1, 20, 2
    finished = [(k + 1) * each / cores for k in range(count)]

    assert median_floor(each, count=count, cores=cores) == pytest.approx(
        statistics.median(finished)
    )


def test_sharing_the_cores_fairly_finishes_the_median_later_than_the_floor() -> None:
    each, count, cores = 0.1, 20, 2
    everything = count * each / cores  # all jobs progress together and end together

    assert median_floor(each, count=count, cores=cores) < everything


def test_the_split_names_every_part_and_their_sum() -> None:
    text = cpu_split(CpuSeconds(worker=0.1, server=0.05, database=0.02))

    assert text == "170 ms (worker 100 ms, Temporal server 50 ms, PostgreSQL 20 ms)"

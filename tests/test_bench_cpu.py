"""How the benchmarks report the CPU a lifecycle or a submission costs."""

from __future__ import annotations

import pytest

from bench.cpu import CpuSeconds, cpu_split


def test_the_split_names_every_part_and_their_sum() -> None:
    text = cpu_split(CpuSeconds(worker=0.1, server=0.05, database=0.02))

    assert text == "170 ms (worker 100 ms, Temporal server 50 ms, PostgreSQL 20 ms)"


def test_a_run_s_cpu_divides_evenly_among_its_lifecycles() -> None:
    spent = CpuSeconds(worker=1.0, server=0.5, database=0.25) - CpuSeconds(worker=0.2)

    assert spent.per(4) == CpuSeconds(worker=0.2, server=0.125, database=0.0625)
    assert spent.per(4).total == pytest.approx(0.3875)

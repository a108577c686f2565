"""CPU seconds spent by the processes a benchmark runs, read from ``/proc``.

A throughput ratio says how much slower one workflow is than another, not why. Split
by process, the CPU each lifecycle costs says where the difference is spent: in the
worker (our activities and workflow code, the SDK), in the Temporal server (history,
matching, visibility for every event and search attribute), or in the database. On a
machine the runs saturate, the ratio of throughputs can be no better than the inverse
ratio of these costs.

Linux only (``/proc``); elsewhere every figure is zero and the caller says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench.report import ms

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

SERVER_NAMES = frozenset({"temporal"})
"""Process names counted as the Temporal server (the dev server the bench starts)."""

DATABASE_PREFIX = "postgres"
"""Processes named so are PostgreSQL's: the server and one backend per connection."""


@dataclass(frozen=True)
class CpuSeconds:
    """CPU seconds (user and system), by who spent them.

    Attributes:
        worker: This process and its other descendants: the worker, the driver, the
            eval bar's check processes (counted when reaped, through their parent).
        server: The Temporal dev server.
        database: Every PostgreSQL process on the machine, so measure on a quiet one.
    """

    worker: float = 0.0
    server: float = 0.0
    database: float = 0.0

    def __add__(self, other: CpuSeconds) -> CpuSeconds:
        return CpuSeconds(
            self.worker + other.worker,
            self.server + other.server,
            self.database + other.database,
        )

    def __sub__(self, other: CpuSeconds) -> CpuSeconds:
        return CpuSeconds(
            self.worker - other.worker,
            self.server - other.server,
            self.database - other.database,
        )

    @property
    def total(self) -> float:
        """Everything the run spent, wherever."""
        return self.worker + self.server + self.database

    def per(self, count: int) -> CpuSeconds:
        """Each figure divided by ``count`` (lifecycles, say)."""
        return CpuSeconds(self.worker / count, self.server / count, self.database / count)


def cpu_split(each: CpuSeconds) -> str:
    """One lifecycle's CPU: in all, then by the worker, the server and PostgreSQL."""
    return (
        f"{ms(each.total)} (worker {ms(each.worker)}, Temporal server {ms(each.server)}, "
        f"PostgreSQL {ms(each.database)})"
    )


def sample() -> CpuSeconds:
    """The CPU spent so far by this process tree and by PostgreSQL."""
    if not PROC.is_dir():
        return CpuSeconds()
    me = os.getpid()
    worker = _own(me)
    server = 0.0
    for pid in _descendants(me):
        name, own, reaped = _stat(pid)
        if name in SERVER_NAMES:
            server += own + reaped
        else:
            worker += own + reaped
    database = 0.0
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            name, own, reaped = _stat(int(entry.name))
            if name.startswith(DATABASE_PREFIX):
                # A backend's CPU moves to the postmaster's reaped time when it exits.
                database += own + reaped
    return CpuSeconds(worker, server, database)


def _own(pid: int) -> float:
    """A process's own CPU, not its reaped children's (the dev server is still running)."""
    _, own, _ = _stat(pid)
    return own


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for child in _children(parent):
            found.append(child)
            pending.append(child)
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return children
    for task in tasks:
        try:
            children.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return children


def _stat(pid: int) -> tuple[str, float, float]:
    """(name, own CPU seconds, reaped children's CPU seconds); zeros once it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return "", 0.0, 0.0
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state is field 3 of stat(5); utime, stime, cutime, cstime are 14-17.
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return name, (utime + stime) / TICKS, (cutime + cstime) / TICKS

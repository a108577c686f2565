"""Benchmark: a worker told to stop drains cleanly while the machine is busy.

A rolling deploy sends SIGTERM to a worker with lifecycles in flight and reads its exit
status: anything but 0 counts as a crash, and an activity cut short must not leave a
lifecycle recorded twice. The fault tests check this once on a quiet machine
(``tests/faults/test_worker_exit.py``, ``tests/faults/test_worker_drain.py``); a rare
abort at interpreter exit, or a drain that runs past its grace period, shows up only
when the worker is slow, so here every round runs while ``--burners`` processes spin on
the CPU (on a 2-core machine, two of them take every core the worker could have).

Each of ``--rounds`` rounds: start the shipped ``agentreg-worker`` as a process of its
own on the real dev server, start ``--lifecycles`` lifecycles as ``agentreg submit``
does, send the worker SIGTERM as soon as the first of them is being worked on, and
record its exit status, how long it took to exit (the drain) and whether its output
holds ``Fatal Python error``. A second worker process then finishes the lifecycles: each
is approved as ``bench.lifecycle`` approves (the update ``agentreg review approve``
sends) and must end up with one version row, ``Published``, and exactly one ``InReview``
and one ``published`` audit event.

Run as ``.venv/bin/python -m bench.drain_under_load [--rounds 20] [--lifecycles 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from sqlmodel import select as select_rows
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.tables import AssetVersion, AuditEvent
from agent_registry.staging import start_lifecycle
from agent_registry.temporal import LIFECYCLE_STAGE
from bench.lifecycle import Watcher, approve_lifecycle, published_and_scheduled
from bench.report import Figure, ms, percentile, write_section
from bench.stack import Registry, dev_server, fresh_registry, submissions
from tests.faults.helpers import WorkerProcess, worker_env

TARGET_ROUNDS = 20
"""The issue's figure: 20 rounds of 20 lifecycles, every one a clean drain."""

TARGET_LIFECYCLES = 20

BURN = """
import os
parent = os.getppid()
while os.getppid() == parent:  # an orphan stops: a burner never outlives the benchmark
    for _ in range(1_000_000):
        pass
"""
"""A CPU burner: a busy loop that ends when its parent does, however the parent ends."""

FATAL = "Fatal Python error"
"""What CPython writes to stderr when it aborts, e.g. in finalization."""

FINISH_TIMEOUT = 300.0
"""Seconds the second worker gets to bring a round's lifecycles to publication."""

TAKE_UP_TIMEOUT = 60.0
"""Seconds a started worker gets to take up the first lifecycle of a round."""

EARLY_STAGES = (None, Stage.SUBMITTED.value)
"""Stages before a worker has taken a lifecycle up."""

IN_REVIEW_OR_LATER = (Stage.IN_REVIEW.value, Stage.PUBLISHED.value)


@contextlib.contextmanager
def cpu_burners(count: int) -> Iterator[None]:
    """``count`` processes spinning on the CPU, killed on the way out whatever happened."""
    burners: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            burners.append(
                subprocess.Popen(
                    [sys.executable, "-c", BURN],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield
    finally:
        for burner in burners:
            if burner.poll() is None:
                burner.kill()
        for burner in burners:
            burner.wait(timeout=10)


@dataclass(frozen=True)
class Round:
    """What one round found.

    Attributes:
        exit_code: The drained worker's exit status (negative: killed by that signal).
        fatal: Whether the drained worker's output holds ``Fatal Python error``.
        drain: Seconds from SIGTERM to the drained worker's exit.
        in_flight: Lifecycles not yet shown in review when SIGTERM was sent.
        retried: The activity type of each attempt after the first in the round's first
            runs: work the drain cut short (or that failed) and another attempt did again.
        once: Whether every lifecycle was published, each with exactly one ``InReview``
            and one ``published`` audit event and one version row.
        second_exit: The second worker's exit status, stopped the same way when idle.
        problem: What went wrong, empty when nothing did.
    """

    exit_code: int | None
    fatal: bool
    drain: float
    in_flight: int
    retried: list[str]
    once: bool
    second_exit: int | None
    problem: str


async def stages(client: Client, workflow_ids: Sequence[str]) -> dict[str, str | None]:
    """Each workflow's ``LifecycleStage`` as visibility shows it, in one list call."""
    ids = ", ".join(f"'{workflow_id}'" for workflow_id in workflow_ids)
    found: dict[str, str | None] = dict.fromkeys(workflow_ids)
    async for execution in client.list_workflows(f"WorkflowId IN ({ids})", page_size=1000):
        found[execution.id] = execution.typed_search_attributes.get(LIFECYCLE_STAGE)
    return found


async def taken_up(client: Client, workflow_ids: Sequence[str]) -> int:
    """Wait until a worker has taken up one of the lifecycles.

    Returns:
        How many are not yet in review: the ones a SIGTERM now catches in flight.
    """
    deadline = time.monotonic() + TAKE_UP_TIMEOUT
    while True:
        now = await stages(client, workflow_ids)
        if any(stage not in EARLY_STAGES for stage in now.values()):
            return sum(stage not in IN_REVIEW_OR_LATER for stage in now.values())
        if time.monotonic() > deadline:
            raise TimeoutError("no lifecycle was taken up by the worker")
        await asyncio.sleep(0.05)


async def finish(client: Client, workflow_ids: Sequence[str], poll: float) -> None:
    """Approve every lifecycle once it is in review; return when all are published."""
    watcher = Watcher(client, published_and_scheduled, poll)

    async def one(workflow_id: str) -> None:
        entry = watcher.watch(workflow_id)
        await entry.in_review
        handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
        await approve_lifecycle(handle)
        await entry.done

    polling = asyncio.create_task(watcher.run())
    driving = asyncio.ensure_future(asyncio.gather(*(one(i) for i in workflow_ids)))
    try:
        either: set[asyncio.Future[Any]] = {driving, polling}
        await asyncio.wait(either, timeout=FINISH_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if polling.done():
            polling.result()  # the watcher saw a lifecycle end: raise that
        if not driving.done():
            raise TimeoutError(f"not all published within {FINISH_TIMEOUT:.0f} s")
        driving.result()
    finally:
        polling.cancel()
        driving.cancel()


async def retried_attempts(client: Client, started: WorkflowHandle[Any, Any]) -> list[str]:
    """The activity type of each attempt after the first, in the run a lifecycle started with.

    That run is the one the drain interrupted; a later one (after continue-as-new) starts
    after the review.
    """
    run = client.get_workflow_handle(started.id, run_id=started.first_execution_run_id)
    scheduled: dict[int, str] = {}
    retried: list[str] = []
    async for event in run.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attributes.activity_type.name
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started_attempt = event.activity_task_started_event_attributes
            if started_attempt.attempt > 1:
                retried.append(scheduled.get(started_attempt.scheduled_event_id, "?"))
    return retried


def recorded_once(engine: Engine, names: dict[str, str]) -> str:
    """Why the registry does not hold each lifecycle exactly once; empty when it does.

    Each workflow must have one version row, ``Published``, and its asset exactly one
    ``stage:InReview`` and one ``published`` audit event: an activity cut short by the
    drain and retried on the second worker must not record its step twice.

    Args:
        engine: The registry.
        names: Each lifecycle's workflow id and asset name (each asset has one version).
    """
    actions = (f"stage:{Stage.IN_REVIEW.value}", "published")
    with Session(engine) as session:
        versions = session.exec(
            select_rows(AssetVersion).where(col(AssetVersion.workflow_id).in_(list(names)))
        ).all()
        counted = session.execute(
            select(col(AuditEvent.name), col(AuditEvent.action), func.count())
            .where(col(AuditEvent.name).in_(list(names.values())))
            .where(col(AuditEvent.action).in_(actions))
            .group_by(col(AuditEvent.name), col(AuditEvent.action))
        ).all()
    problems = []
    rows: dict[str, int] = {}
    for version in versions:
        rows[version.workflow_id] = rows.get(version.workflow_id, 0) + 1
        if version.stage != Stage.PUBLISHED.value:
            problems.append(f"{names[version.workflow_id]} is {version.stage}")
    missing = [workflow_id for workflow_id in names if rows.get(workflow_id) != 1]
    if missing:
        problems.append(f"{len(missing)} without exactly one version row")
    events = {(name, action): count for name, action, count in counted}
    for name in names.values():
        for action in actions:
            count = events.get((name, action), 0)
            if count != 1:
                problems.append(f"{name}: {count} {action!r} events")
    return "; ".join(problems)


async def one_round(
    client: Client, registry: Registry, logs: Path, number: int, lifecycles: int, poll: float
) -> Round:
    """Start a worker, put lifecycles in flight, drain it, finish them on a second one."""
    settings = registry.settings
    env = worker_env(settings, client.service_client.config.target_host)
    folder = logs / f"round-{number:02d}"
    for name in ("first", "second"):
        (folder / name).mkdir(parents=True)
    first = WorkerProcess(env, folder / "first")
    second = WorkerProcess(env, folder / "second")
    workflow_ids: list[str] = []
    exit_code: int | None = None
    fatal = False
    drain = 0.0
    in_flight = 0
    retried: list[str] = []
    problem = ""
    second_exit: int | None = None
    try:
        await first.start(timeout=120)
        batch = submissions(settings, lifecycles)
        names = {s.ref.workflow_id: s.ref.name for s in batch}
        workflow_ids = list(names)
        handles = await asyncio.gather(
            *(start_lifecycle(client, settings, submission=s) for s in batch)
        )
        in_flight = await taken_up(client, workflow_ids)
        began = time.perf_counter()
        await asyncio.to_thread(first.stop)  # SIGTERM; SIGKILL after 15 s
        drain = time.perf_counter() - began
        exit_code = first.returncode
        fatal = FATAL in first.log.read_text(errors="replace")
        await second.start(timeout=120)
        await finish(client, workflow_ids, poll)
        problem = recorded_once(registry.engine, names)
        for found in await asyncio.gather(*(retried_attempts(client, h) for h in handles)):
            retried += found
    except Exception as error:  # a round that fails is a figure, not the end of the run
        problem = _summary(error)
    finally:
        first.kill()
        await asyncio.to_thread(second.stop)
        second_exit = second.returncode
        second.kill()
        for workflow_id in workflow_ids:
            with contextlib.suppress(RPCError):  # never started, or ended
                await client.get_workflow_handle(workflow_id).terminate(reason="bench done")
    if problem or exit_code != 0 or fatal:
        print(f"round {number}: exit {exit_code}, fatal {fatal}, {problem}", file=sys.stderr)
        print(f"  worker logs kept in {folder}", file=sys.stderr)
    return Round(exit_code, fatal, drain, in_flight, retried, not problem, second_exit, problem)


def _summary(error: Exception) -> str:
    """An error in one line: a failed worker start carries its whole log."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if len(lines) > 1:
        return f"{type(error).__name__}: {lines[0]} … {lines[-1].strip()}"
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


@dataclass(frozen=True)
class Measured:
    """Every round, and the setup they ran in."""

    rounds: list[Round]
    seconds: float
    logs: Path


async def measure(rounds: int, lifecycles: int, burners: int, poll: float) -> Measured:
    """Every round on one dev server and one registry, with the burners running throughout."""
    logs = Path(tempfile.mkdtemp(prefix="agentreg-drain-"))
    found: list[Round] = []
    began = time.perf_counter()
    with cpu_burners(burners):
        async with dev_server() as server:
            with fresh_registry() as registry:
                for number in range(1, rounds + 1):
                    found.append(
                        await one_round(server.client, registry, logs, number, lifecycles, poll)
                    )
                    last = found[-1]
                    print(
                        f"round {number}/{rounds}: exit {last.exit_code}, drain "
                        f"{ms(last.drain)}, {last.in_flight} not yet in review at SIGTERM, "
                        f"{'all once' if last.once else 'NOT all once'}",
                        file=sys.stderr,
                    )
    seconds = time.perf_counter() - began
    if all(r.exit_code == 0 and not r.fatal and r.once for r in found):
        shutil.rmtree(logs, ignore_errors=True)
    return Measured(found, seconds, logs)


def figures(measured: Measured, lifecycles: int) -> list[Figure]:
    """Clean exits, exactly-once completions, drain times; targets judged only at full size."""
    rounds = measured.rounds
    count = len(rounds)
    full = count >= TARGET_ROUNDS and lifecycles >= TARGET_LIFECYCLES
    clean = sum(r.exit_code == 0 for r in rounds)
    fatal = sum(r.fatal for r in rounds)
    once = sum(r.once for r in rounds)
    drains = [r.drain for r in rounds]
    in_flight = [float(r.in_flight) for r in rounds]
    target = f"{TARGET_ROUNDS}/{TARGET_ROUNDS}"
    return [
        Figure(
            "rounds whose drained worker exited 0",
            f"{clean}/{count}",
            target,
            clean == count if full else None,
        ),
        Figure(
            "rounds with `Fatal Python error` in the drained worker's output",
            str(fatal),
            "0",
            fatal == 0 if full else None,
        ),
        Figure(
            f"rounds whose {lifecycles} lifecycles were each in review and published once",
            f"{once}/{count}",
            target,
            once == count if full else None,
        ),
        Figure(
            "drain (SIGTERM to exit), p50 / max",
            f"{ms(percentile(drains, 0.5))} / {ms(max(drains))}",
        ),
        Figure(
            "lifecycles not yet in review at SIGTERM, min / p50",
            f"{min(in_flight):.0f} / {percentile(in_flight, 0.5):.0f} of {lifecycles}",
        ),
        Figure(
            "activity attempts retried (work the drain cut short or that failed)",
            _tally([name for r in rounds for name in r.retried]),
        ),
        Figure(
            "rounds whose second worker (stopped idle) exited 0",
            f"{sum(r.second_exit == 0 for r in rounds)}/{count}",
        ),
    ]


def _tally(names: Sequence[str]) -> str:
    """``3 (store_bundle x2, evaluate_version)``, or ``0``."""
    counts = Counter(names)
    if not counts:
        return "0"
    parts = [name if n == 1 else f"{name} x{n}" for name, n in counts.most_common()]
    return f"{len(names)} ({', '.join(parts)})"


def main() -> None:
    """Parse the options, measure, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=TARGET_ROUNDS, help="drains in a row")
    parser.add_argument(
        "--lifecycles", type=int, default=TARGET_LIFECYCLES, help="in flight per round"
    )
    parser.add_argument("--burners", type=int, default=2, help="CPU burner processes")
    parser.add_argument("--poll", type=float, default=0.1, help="watcher interval, seconds")
    parser.add_argument("--notes", default="", help="Markdown appended to the section's notes")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.rounds < 1 or args.lifecycles < 1:
        parser.error("--rounds and --lifecycles must be at least 1")
    # A SIGTERM to the benchmark unwinds it like Ctrl-C, so the burners and workers go too.
    signal.signal(signal.SIGTERM, _interrupt)
    measured = asyncio.run(measure(args.rounds, args.lifecycles, args.burners, args.poll))
    result = figures(measured, args.lifecycles)
    if args.no_write:
        from bench.report import print_figures

        print_figures("Worker drain under CPU load", result)
    else:
        write_section(
            "drain_under_load",
            title="Worker drain under CPU load: SIGTERM with lifecycles in flight",
            command=(
                f".venv/bin/python -m bench.drain_under_load --rounds {args.rounds} "
                f"--lifecycles {args.lifecycles}"
                + (f" --burners {args.burners}" if args.burners != 2 else "")
            ),
            figures=result,
            notes=_notes(measured, args),
        )
    failed = [r for r in measured.rounds if r.problem]
    if failed or any(r.exit_code != 0 or r.fatal for r in measured.rounds):
        print(f"worker logs of the failed rounds: {measured.logs}", file=sys.stderr)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _notes(measured: Measured, args: argparse.Namespace) -> str:
    problems = [f"round {i}: {r.problem}" for i, r in enumerate(measured.rounds, 1) if r.problem]
    notes = (
        f"{len(measured.rounds)} rounds of {args.lifecycles} lifecycles in "
        f"{measured.seconds:.0f} s, "
        f"with {args.burners} CPU burner processes (a Python busy loop each) running "
        "from before the first round to after the last. Each round: the shipped "
        "`agentreg-worker` as a process of its own on the real dev server (SQLite registry "
        "unless `BENCH_REGISTRY=postgres`), the lifecycles of `examples/skills/release-notes` "
        "(a copy under a name of its own per lifecycle, default policy) started as `agentreg "
        "submit` starts them, SIGTERM to the worker as soon as visibility shows one of them "
        "past `Submitted`, then a second worker process finishes them: each is approved as "
        "`bench.lifecycle` approves and counts when it is `Published` with its "
        "re-certification scheduled, and the registry must then hold one `Published` version "
        "row and exactly one `stage:InReview` and one `published` audit event for it. The "
        "worker's graceful shutdown lets running activities finish for "
        "`worker.GRACEFUL_SHUTDOWN` (10 s); a worker still running 15 s after SIGTERM is "
        "killed (and the round counts as not exiting 0). The targets are judged at the "
        f"issue's size only ({TARGET_ROUNDS} rounds of {TARGET_LIFECYCLES})."
    )
    if problems:
        notes += "\n\nProblems: " + "; ".join(problems) + "."
    if args.notes:
        notes += "\n\n" + args.notes
    return notes


if __name__ == "__main__":
    main()

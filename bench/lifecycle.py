"""Benchmark: lifecycle overhead against the bare engine.

How much does the registry cost on top of Temporal itself? N assets go through the
whole shipped lifecycle (submit → store → eval → review → publish → the published life's
first step) on the real dev server with the shipped worker, at most ``--concurrency`` in
flight; each is approved by the same update ``agentreg review approve`` sends, as soon as
its ``LifecycleStage`` search attribute says it is in review. On the same server, at
the same N and concurrency, a bare workflow of the same shape (two activities, one
update, one activity, trivial bodies) is driven by the same driver. The ratio of the two
throughputs is the registry's overhead; the target is that we keep 0.8 times the bare
engine's throughput on the SQLite registry and 0.6 times on PostgreSQL (a server of its
own on the same machine, reached over a socket).

``--registries sqlite,postgres`` measures both registries side by side in one run: one dev
server, one bare run, each registry on it. Each measured run is split in two halves run in
a mirrored order (bare, SQLite, PostgreSQL, PostgreSQL, SQLite, bare), so every run's
halves sit at the same mean position: none gets the fresher server, the warmer caches or
the quieter minute. That is the default; with ``BENCH_REGISTRY`` set (and no
``--registries``) only the registry it names is measured, in the same mirrored order
around the bare run, and its section's command says ``BENCH_REGISTRY``.

Both runs are watched the same way: one watcher lists the in-flight workflows by id
every ``--poll`` seconds and reads their search attributes, so the watching costs both
the same and does not load the worker (a status query per asset would).

Run as ``.venv/bin/python -m bench.lifecycle [--registries sqlite,postgres] [--assets 300]
[--concurrency 50]``; each registry measured writes its section of docs/performance.md.
"""

from __future__ import annotations

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import argparse
    import asyncio
    import os
    import time
    import uuid
    from collections.abc import Awaitable, Callable, Sequence
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack
    from dataclasses import dataclass, field
    from datetime import timedelta
    from typing import Any

    from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
    from temporalio.worker import Worker

    from agent_registry.lifecycle.contract import (
        DECISION_UPDATES,
        ReviewInput,
        Submission,
        VoteResult,
    )
    from agent_registry.lifecycle.stages import Decision, Stage
    from agent_registry.staging import start_lifecycle
    from agent_registry.temporal import LIFECYCLE_STAGE, RECERTIFY_BY
    from agent_registry.vocabulary.principal import Principal, VerifiedBy
    from bench import cpu
    from bench.cpu import CpuSeconds, cpu_split
    from bench.report import Figure, ms, percentile, write_section
    from bench.stack import (
        BACKENDS,
        Registry,
        dev_server,
        fresh_registry,
        registry_backend,
        submissions,
    )
    from worker import ACTIVITY_THREADS, build_worker

TARGET_RATIOS = {"sqlite": 0.8, "postgres": 0.6}
"""Our lifecycles per second over the bare engine's, at least, per registry database."""

BARE = "bare"
"""The bare engine's name in the run order."""

BARE_TIMEOUT = timedelta(seconds=30)


# ----- the bare engine: the same shape, nothing inside -----------------------------------


@activity.defn(name="bench_bare_store")
def bare_store(name: str) -> str:
    """Stand-in for storing the bundle: does nothing (sync, like ours, on a thread)."""
    return name


@activity.defn(name="bench_bare_evaluate")
def bare_evaluate(name: str) -> str:
    """Stand-in for the eval bar."""
    return name


@activity.defn(name="bench_bare_publish")
def bare_publish(name: str) -> str:
    """Stand-in for publishing."""
    return name


@workflow.defn(name="BenchBareLifecycle")
class BareLifecycle:
    """Two activities, the stage attribute, one update, one activity: the engine's floor."""

    def __init__(self) -> None:
        self._ready = False
        self._approved = False

    @workflow.run
    async def run(self, name: str) -> str:
        """Store, evaluate, wait for the approval, publish."""
        for step in (bare_store, bare_evaluate):
            await workflow.execute_activity(step, name, start_to_close_timeout=BARE_TIMEOUT)
        workflow.upsert_search_attributes([LIFECYCLE_STAGE.value_set(Stage.IN_REVIEW.value)])
        self._ready = True
        await workflow.wait_condition(lambda: self._approved)
        await workflow.execute_activity(bare_publish, name, start_to_close_timeout=BARE_TIMEOUT)
        return name

    @workflow.update(name="approve")
    def approve(self, reviewer: str) -> str:
        """Count the approval."""
        self._approved = True
        return f"approved by {reviewer}"

    @approve.validator
    def _ready_for_review(self, reviewer: str) -> None:
        if not self._ready:
            raise ValueError("not in review yet")


# ----- watching and driving ---------------------------------------------------------------


@dataclass
class Watched:
    """What the driver waits for on one workflow: in review, then done."""

    in_review: asyncio.Future[None]
    done: asyncio.Future[None]


Done = Callable[[WorkflowExecutionStatus | None, str | None, bool], bool]
"""Whether a workflow is done, from (execution status, stage, re-certification set)."""


@dataclass
class Watcher:
    """Lists the in-flight workflows by id and resolves their futures from the attributes.

    One ``ListWorkflowExecutions`` call per poll covers every in-flight workflow, so the
    watching costs the server a few calls a second and the worker nothing.
    """

    client: Client
    done_when: Done
    poll: float
    watched: dict[str, Watched] = field(default_factory=dict)

    def watch(self, workflow_id: str) -> Watched:
        """Start watching a workflow."""
        loop = asyncio.get_running_loop()
        entry = Watched(loop.create_future(), loop.create_future())
        self.watched[workflow_id] = entry
        return entry

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            if self.watched:
                ids = ", ".join(f"'{workflow_id}'" for workflow_id in self.watched)
                async for execution in self.client.list_workflows(
                    f"WorkflowId IN ({ids})", page_size=1000
                ):
                    entry = self.watched.get(execution.id)
                    if entry is None:
                        continue
                    attributes = execution.typed_search_attributes
                    stage = attributes.get(LIFECYCLE_STAGE)
                    recertify = attributes.get(RECERTIFY_BY) is not None
                    early = (None, Stage.SUBMITTED.value, Stage.EVALUATING.value)
                    if stage not in early and not entry.in_review.done():
                        entry.in_review.set_result(None)
                    if self.done_when(execution.status, stage, recertify):
                        if not entry.in_review.done():
                            entry.in_review.set_result(None)
                        entry.done.set_result(None)
                        del self.watched[execution.id]
            await asyncio.sleep(self.poll)


@dataclass(frozen=True)
class Run:
    """One driven run: how long it took and each lifecycle's end-to-end latency."""

    seconds: float
    latencies: list[float]
    cpu: CpuSeconds = field(default_factory=CpuSeconds)

    @property
    def per_second(self) -> float:
        """Lifecycles completed per second of wall time."""
        return len(self.latencies) / self.seconds

    def __add__(self, other: Run) -> Run:
        """Two halves of one measurement as one: their lifecycles over their wall time."""
        return Run(
            self.seconds + other.seconds, self.latencies + other.latencies, self.cpu + other.cpu
        )

    @property
    def cpu_per_lifecycle(self) -> CpuSeconds:
        """CPU seconds each lifecycle cost, by who spent them."""
        return self.cpu.per(len(self.latencies))


Start = Callable[[int], Awaitable[str]]
"""Start lifecycle number i; return its workflow id."""
Approve = Callable[[str], Awaitable[None]]
"""Approve the workflow with this id until its review is decided."""


async def drive(
    count: int, concurrency: int, watcher: Watcher, start: Start, approve: Approve
) -> Run:
    """Drive ``count`` lifecycles, ``concurrency`` at a time, from start to done."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(index: int) -> None:
        async with gate:
            began = time.perf_counter()
            workflow_id = await start(index)
            entry = watcher.watch(workflow_id)
            await entry.in_review
            await approve(workflow_id)
            await entry.done
            latencies.append(time.perf_counter() - began)

    polling = asyncio.create_task(watcher.run())
    # Only the driven lifecycles: not the submissions prepared before, nor the worker's start.
    spent = cpu.sample()
    began = time.perf_counter()
    driving = asyncio.ensure_future(asyncio.gather(*(one(i) for i in range(count))))
    try:
        either: set[asyncio.Future[Any]] = {driving, polling}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if polling.done():
            polling.result()  # the watcher failed: raise its error rather than hang
        driving.result()
    finally:
        polling.cancel()
        driving.cancel()
    return Run(time.perf_counter() - began, latencies, cpu.sample() - spent)


# ----- the two runs -----------------------------------------------------------------------


def published_and_scheduled(
    status: WorkflowExecutionStatus | None, stage: str | None, recertify: bool
) -> bool:
    """Whether a lifecycle is done: published, its re-certification scheduled."""
    # A published lifecycle lives on; its first published step ends with the
    # re-certification scheduled (what tests/support.py approve_until_published waits for).
    if status is not None and status is not WorkflowExecutionStatus.RUNNING:
        raise RuntimeError(f"a lifecycle ended {status.name} at {stage}")
    return stage == Stage.PUBLISHED.value and recertify


async def approve_lifecycle(handle: WorkflowHandle[Any, Any]) -> None:
    """Approve a lifecycle in review until its review is decided.

    Votes as ``agentreg review approve`` does; a tier that needs more approvals than one
    gets them from further reviewers (the default policy lets anyone review).
    """
    for reviewer in range(1, 4):
        result = await handle.execute_update(
            DECISION_UPDATES[Decision.APPROVE],
            ReviewInput(
                principal=Principal(
                    email=f"reviewer{reviewer}@example.com",
                    verified_by=VerifiedBy.LOCAL_UNVERIFIED,
                )
            ),
            id=f"bench/{uuid.uuid4()}",
            result_type=VoteResult,
        )
        if not result.message.startswith("approval recorded"):
            return
    raise RuntimeError(f"{handle.id} still needs approvals after three")


def _bare_done(status: WorkflowExecutionStatus | None, stage: str | None, recertify: bool) -> bool:
    if status not in (None, WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        raise RuntimeError(f"a bare workflow ended {status}")
    return status is WorkflowExecutionStatus.COMPLETED


async def run_ours(
    client: Client, registry: Registry, count: int, concurrency: int, poll: float
) -> Run:
    """The shipped lifecycle under the shipped worker, approved as the CLI approves."""
    settings = registry.settings
    prepared: list[Submission] = submissions(settings, count)
    handles = {}

    async def start(index: int) -> str:
        handle = await start_lifecycle(client, settings, submission=prepared[index])
        handles[handle.id] = handle
        return handle.id

    async def approve(workflow_id: str) -> None:
        await approve_lifecycle(handles[workflow_id])

    watcher = Watcher(client, published_and_scheduled, poll)
    with build_worker(client, settings, engine=registry.engine) as worker:
        async with worker:
            try:
                return await drive(count, concurrency, watcher, start, approve)
            finally:
                for handle in handles.values():
                    await client.get_workflow_handle(handle.id).terminate(reason="bench done")


async def run_bare(client: Client, count: int, concurrency: int, poll: float) -> Run:
    """The bare workflow, with the worker configured like ours (threads, slots)."""
    queue = f"bench-bare-{uuid.uuid4()}"
    run = uuid.uuid4().hex[:6]

    async def start(index: int) -> str:
        handle = await client.start_workflow(
            BareLifecycle.run,
            f"asset-{index}",
            id=f"bench-bare-{run}-{index:05d}",
            task_queue=queue,
        )
        return handle.id

    async def approve(workflow_id: str) -> None:
        await client.get_workflow_handle(workflow_id).execute_update(
            "approve", "reviewer1@example.com", id=f"bench/{uuid.uuid4()}"
        )

    watcher = Watcher(client, _bare_done, poll)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[BareLifecycle],
            activities=[bare_store, bare_evaluate, bare_publish],
            activity_executor=executor,
            max_concurrent_activities=ACTIVITY_THREADS,
        ):
            return await drive(count, concurrency, watcher, start, approve)


def run_order(registries: Sequence[str], *, bare_too: bool = True) -> list[str]:
    """The order of the measured halves: every run, then every run again in reverse.

    Each run is measured in two halves, so each sits at the same mean position in the
    sequence (bare, A, B, B, A, bare): a server that slows as its history grows, or a
    neighbour's load that comes and goes, favours none of them.
    """
    runs = [*([BARE] if bare_too else []), *registries]
    return runs + runs[::-1]


async def measure(
    count: int,
    concurrency: int,
    warmup: int,
    poll: float,
    registries: Sequence[str],
    *,
    bare_too: bool = True,
) -> tuple[dict[str, Run], Run | None]:
    """Every registry's run and the bare run on one dev server, after a warm-up of each.

    Returns:
        Each registry's run by name, and the bare run (None when ``bare_too`` is off).
    """
    order = run_order(registries, bare_too=bare_too)
    halves = {name: [count // 2, count - count // 2] for name in dict.fromkeys(order)}
    measured: dict[str, list[Run]] = {name: [] for name in halves}
    async with dev_server() as env:
        client = env.client
        with ExitStack() as stack:
            opened = {
                name: stack.enter_context(fresh_registry(backend=name)) for name in registries
            }

            async def one(name: str, size: int) -> Run:
                if name == BARE:
                    return await run_bare(client, size, concurrency, poll)
                return await run_ours(client, opened[name], size, concurrency, poll)

            if warmup:
                for name in halves:
                    await one(name, warmup)
            for name in order:
                size = halves[name].pop(0)
                if size:
                    measured[name].append(await one(name, size))
    runs = {name: sum(parts[1:], parts[0]) for name, parts in measured.items()}
    return {name: runs[name] for name in registries}, runs.get(BARE)


def figures(ours: Run, bare: Run, target: float) -> list[Figure]:
    """The figures: throughput of both, their ratio, and both latency distributions."""
    ratio = ours.per_second / bare.per_second
    return [
        Figure("registry lifecycles/s", f"{ours.per_second:.1f}/s"),
        Figure("bare workflow lifecycles/s", f"{bare.per_second:.1f}/s"),
        Figure(
            "registry ÷ bare throughput",
            f"{ratio:.2f}x",
            f"≥ {target}x",
            ratio >= target,
        ),
        Figure("registry end-to-end p50", ms(percentile(ours.latencies, 0.5))),
        Figure("registry end-to-end p99", ms(percentile(ours.latencies, 0.99))),
        Figure("bare end-to-end p50", ms(percentile(bare.latencies, 0.5))),
        Figure("bare end-to-end p99", ms(percentile(bare.latencies, 0.99))),
        Figure("registry CPU per lifecycle", cpu_split(ours.cpu_per_lifecycle)),
        Figure("bare CPU per lifecycle", cpu_split(bare.cpu_per_lifecycle)),
    ]


def _registries(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in BACKENDS]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of distinct registries out of {', '.join(BACKENDS)}"
        )
    return names


_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def notes_for(
    name: str, registries: Sequence[str], runs: dict[str, Run], bare: Run, args: argparse.Namespace
) -> str:
    """The section's notes: the setup, and what this run shared with the others."""
    ours = runs[name]
    others = [other for other in registries if other != name]
    order = ", ".join("bare" if run == BARE else _LABELS[run] for run in run_order(registries))
    shared = (
        f" Measured in the same run as the {' and '.join(_LABELS[o] for o in others)} "
        "registry (its own section), against the same bare run on the same dev server."
        if others
        else ""
    )
    notes = (
        f"{args.assets} lifecycles per run, at most {args.concurrency} in flight, after "
        f"{args.warmup} unmeasured ones per run; {_LABELS[name]} registry run "
        f"{ours.seconds:.1f} s, bare run {bare.seconds:.1f} s. Each run was measured in two "
        f"halves, in the order {order}, so each run's halves sit at the same mean position "
        f"in the sequence; a run's throughput is its lifecycles over its halves' wall time."
        f"{shared} Asset: `examples/skills/release-notes`, copied under a "
        "name of its own per asset (version 1.0.0: each lifecycle is a first version and "
        "none supersedes another), default policy, CLI reviews on, no Slack token (review "
        "requests and notices go to the log). The registry lifecycle counts as done when it is "
        "`Published` with its re-certification scheduled; the bare workflow (defined in "
        "`bench/lifecycle.py`: two activities, an update, one activity, empty bodies, a "
        "worker with the same activity threads) when it completes. Latency is from "
        "`start_lifecycle` to done; both runs are watched by one visibility list call every "
        f"{args.poll * 1000:.0f} ms, which adds up to that much to each wait on both sides. "
        "CPU per lifecycle is read from `/proc` around each run (`bench/cpu.py`): the worker "
        "is this process and its eval processes (the driver and watcher, the same for both "
        "runs, included), the server is the dev server, PostgreSQL is every `postgres` "
        "process on the machine (zero for SQLite and for the bare run, which write nothing)."
    )
    if args.notes:
        notes += "\n\n" + args.notes
    return notes


def main() -> None:
    """Parse the options, measure, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--registries",
        type=_registries,
        default=None,
        help="registries to measure side by side (default: sqlite,postgres; only the one "
        "BENCH_REGISTRY names when that is set)",
    )
    parser.add_argument("--assets", type=int, default=300, help="lifecycles per run")
    parser.add_argument("--concurrency", type=int, default=50, help="at most this many in flight")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured lifecycles first")
    parser.add_argument("--poll", type=float, default=0.1, help="watcher interval, seconds")
    parser.add_argument("--notes", default="", help="Markdown appended to the section's notes")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--registry-only",
        action="store_true",
        help="skip the bare run and print only (for profiling the worker)",
    )
    args = parser.parse_args()
    if args.assets < 2:
        parser.error("--assets must be at least 2 (each run is measured in two halves)")
    # BENCH_REGISTRY alone keeps its old meaning: that registry only, its own command.
    by_name = args.registries is not None or "BENCH_REGISTRY" not in os.environ
    registries: list[str] = args.registries or (list(BACKENDS) if by_name else [registry_backend()])
    runs, bare = asyncio.run(
        measure(
            args.assets,
            args.concurrency,
            args.warmup,
            args.poll,
            registries,
            bare_too=not args.registry_only,
        )
    )
    if bare is None:
        for name, ours in runs.items():
            print(
                f"{_LABELS[name]} registry: {ours.per_second:.1f}/s, "
                f"p50 {ms(percentile(ours.latencies, 0.5))}, "
                f"p99 {ms(percentile(ours.latencies, 0.99))}"
            )
        return
    command = ".venv/bin/python -m bench.lifecycle"
    if by_name:
        command += f" --registries {','.join(registries)}"
    command += f" --assets {args.assets} --concurrency {args.concurrency}"
    for name in registries:
        title = "Lifecycle overhead vs the bare engine"
        result = figures(runs[name], bare, TARGET_RATIOS[name])
        if args.no_write:
            from bench.report import print_figures

            print_figures(f"{title} ({_LABELS[name]} registry)", result)
            continue
        write_section(
            "lifecycle",
            title=title,
            command=command,
            figures=result,
            notes=notes_for(name, registries, runs, bare, args),
            # Named explicitly when the command names the registries; otherwise the
            # section follows BENCH_REGISTRY as it always has.
            registry=name if by_name else None,
        )


if __name__ == "__main__":
    main()

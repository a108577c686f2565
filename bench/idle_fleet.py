"""Idle fleet: what 10,000 published assets waiting on re-certification cost while they wait.

Every published version keeps a lifecycle workflow open until it retires: a timer to its
next re-certification, months away. A registry's steady state is therefore a large fleet
of sleeping workflows, and it must cost next to nothing: bounded worker memory (the
sticky cache holds at most ``worker.MAX_CACHED_WORKFLOWS``), a short history per asset
(one re-certification cycle per run, then continue-as-new), and no CPU or activity while
nothing is due, because waiting is a server-side timer, not polling.

The fleet is started the way each published lifecycle continues as new at the end of a
re-certification cycle: ``Submission.resume`` with the published status, which runs the
published life directly (read the life plan, record when re-certification is due, wait).
The registry rows a published version has are seeded first through the store functions
the workflow's activities use (register, review, publish), as tests/seeding.py does; no
asset goes through review here (bench/lifecycle.py times that path). The worker is the
shipped ``agentreg-worker``, run as a process of its own so its memory and CPU are its own,
against the real Temporal dev server.

Run as ``.venv/bin/python -m bench.idle_fleet [--assets N] [--idle SECONDS]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from agent_registry import temporal
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import (
    LIFECYCLE_WORKFLOW,
    AssetStatus,
    EvalSummary,
    Submission,
)
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.tables import AssetVersion, AuditEvent
from bench.report import Figure, percentile, write_section
from bench.similarity import make_entry, publish_entry
from bench.stack import BIN, dev_server, fresh_registry
from tests.faults.helpers import worker_env
from worker import MAX_CACHED_WORKFLOWS

TARGET_RSS_MB = 500
STARTS_IN_FLIGHT = 100
"""Workflow starts sent at once: enough to keep the server busy, few enough to be fair."""
TICKS = os.sysconf("SC_CLK_TCK")


def seed_published(engine: Engine, count: int, rng: random.Random) -> list[AssetRef]:
    """``count`` published versions, written through the store as the activities write them."""
    refs: list[AssetRef] = []
    with Session(engine) as session:
        for serial in range(count):
            ref = publish_entry(session, make_entry(rng, serial))
            refs.append(ref)
            if serial % 500 == 499:
                session.commit()
        session.commit()
    return refs


def published_submission(ref: AssetRef, team: str) -> Submission:
    """The input a published lifecycle continues as new with, for a version just published."""
    status = AssetStatus(
        ref=ref,
        stage=Stage.PUBLISHED,
        owner_team=team,
        submitter="ada@example.com",
        authors=["ada@example.com"],
        content_hash=hashlib.sha256(str(ref).encode()).hexdigest(),
        eval=EvalSummary(
            run_key=f"{ref}/eval",
            policy_version="1",
            passed=True,
            blocking=0,
            warnings=0,
            risk_tier="low",
        ),
        waiting_for="published",
    )
    return Submission(
        ref=ref,
        metadata=RegistryMetadata(
            owner_team=team, version=ref.version, authors=["ada@example.com"]
        ),
        submitter="ada@example.com",
        resume=status,
    )


async def start_fleet(
    client: Client, settings: Settings, refs: list[AssetRef], teams: list[str]
) -> None:
    """Start one published lifecycle per version, with the search attributes a real one has."""
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)

    async def start(ref: AssetRef, team: str) -> None:
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(temporal.ASSET_KIND, ref.kind.value),
                SearchAttributePair(temporal.ASSET_NAME, ref.name),
                SearchAttributePair(temporal.ASSET_VERSION, ref.version),
                SearchAttributePair(temporal.OWNER_TEAM, team),
                SearchAttributePair(temporal.LIFECYCLE_STAGE, Stage.PUBLISHED.value),
            ]
        )
        async with gate:
            await client.start_workflow(
                LIFECYCLE_WORKFLOW,
                published_submission(ref, team),
                id=ref.workflow_id,
                task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=attributes,
            )

    await asyncio.gather(*(start(ref, team) for ref, team in zip(refs, teams, strict=True)))


def scheduled(engine: Engine) -> int:
    """Versions whose re-certification due date the lifecycle has recorded."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .where(sa.column("recertify_by").is_not(None))
                .select_from(AssetVersion.__table__)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def audit_events(engine: Engine) -> int:
    """Rows in the audit log: every activity that writes adds one."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(AuditEvent.__table__)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory (``VmRSS``) or its peak (``VmHWM``) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def dev_server_pid() -> int | None:
    """The dev server this process started (a child running the venv's ``temporal``)."""
    binary = str(BIN / "temporal").encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if parent == os.getpid() and command.startswith(binary):
            return int(entry.name)
    return None


async def history_lengths(client: Client, refs: list[AssetRef]) -> list[int]:
    """Server-side history length of each lifecycle's current run."""
    gate = asyncio.Semaphore(20)

    async def one(ref: AssetRef) -> int:
        async with gate:
            return (await client.get_workflow_handle(ref.workflow_id).describe()).history_length

    return list(await asyncio.gather(*(one(ref) for ref in refs)))


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    assets: int
    seed_seconds: float
    start_seconds: float
    settle_seconds: float
    baseline_mb: float
    rss_mb: float
    peak_mb: float
    idle_seconds: float
    worker_cpu: float
    server_cpu: float | None
    histories: list[int]
    events_while_idle: int
    audit_while_idle: int


async def run(assets: int, idle: float, sample: int, seed: int) -> Result:
    """Seed, start the fleet, wait for it to go idle, then watch it idle."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible catalog, nothing secret
    with fresh_registry() as registry:
        started = time.perf_counter()
        refs = seed_published(registry.engine, assets, rng)
        seed_seconds = time.perf_counter() - started
        with Session(registry.engine) as session:
            teams = [
                store.get_asset_for(session, version=store.get_version(session, ref=ref)).owner_team
                for ref in refs
            ]
        async with dev_server() as env:
            address = env.client.service_client.config.target_host
            log = registry.folder / "worker.log"
            worker = start_worker(registry.settings, address, log)
            try:
                baseline = await polling_rss(worker.pid, log)
                started = time.perf_counter()
                await start_fleet(env.client, registry.settings, refs, teams)
                start_seconds = time.perf_counter() - started
                while scheduled(registry.engine) < assets:
                    if worker.poll() is not None:
                        raise RuntimeError(f"the worker exited; see {log.read_text()[-2000:]}")
                    await asyncio.sleep(1)
                sampled = rng.sample(refs, min(sample, assets))
                # The timer is started in the task after the last activity completes.
                before = await history_lengths(env.client, sampled)
                await asyncio.sleep(5)
                while (now := await history_lengths(env.client, sampled)) != before:
                    before = now
                    await asyncio.sleep(5)
                settle_seconds = time.perf_counter() - started
                server = dev_server_pid()
                audit_before = audit_events(registry.engine)
                cpu_before = cpu_seconds(worker.pid)
                server_before = cpu_seconds(server) if server else None
                window = time.perf_counter()
                await asyncio.sleep(idle)
                window = time.perf_counter() - window
                worker_cpu = cpu_seconds(worker.pid) - cpu_before
                server_cpu = (
                    cpu_seconds(server) - server_before
                    if server and server_before is not None
                    else None
                )
                rss = memory_mb(worker.pid)
                peak = memory_mb(worker.pid, "VmHWM")
                audit_after = audit_events(registry.engine)
                after = await history_lengths(env.client, sampled)
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    return Result(
        assets=assets,
        seed_seconds=seed_seconds,
        start_seconds=start_seconds,
        settle_seconds=settle_seconds,
        baseline_mb=baseline,
        rss_mb=rss,
        peak_mb=peak,
        idle_seconds=window,
        worker_cpu=worker_cpu,
        server_cpu=server_cpu,
        histories=after,
        events_while_idle=sum(after) - sum(before),
        audit_while_idle=audit_after - audit_before,
    )


def start_worker(settings: Settings, address: str, log: Path) -> subprocess.Popen[bytes]:
    """``agentreg-worker`` as a child process of its own, its output in ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(BIN / "agentreg-worker")],
            env=worker_env(settings, address),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def is_polling(log: Path) -> bool:
    """Whether the worker has logged that it polls its task queue."""
    return b"worker polling task queue" in log.read_bytes()


async def polling_rss(pid: int, log: Path) -> float:
    """The worker's resident memory once it polls its task queue, before any lifecycle."""
    deadline = time.monotonic() + 60
    while not is_polling(log):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start polling; see {log}")
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)
    return memory_mb(pid)


def main() -> None:
    """Run the idle fleet and write its section of docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds to watch it idle")
    parser.add_argument("--sample", type=int, default=200, help="lifecycles to describe")
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()
    result = asyncio.run(run(arguments.assets, arguments.idle, arguments.sample, arguments.seed))

    cpu_share = result.worker_cpu / result.idle_seconds
    cached = min(result.assets, MAX_CACHED_WORKFLOWS)
    above = result.rss_mb - result.baseline_mb
    figures = [
        Figure(
            f"worker RSS, {result.assets:,} lifecycles idle",
            f"{result.rss_mb:.0f} MB",
            f"< {TARGET_RSS_MB} MB",
            result.rss_mb < TARGET_RSS_MB,
        ),
        Figure("worker RSS polling, before any lifecycle", f"{result.baseline_mb:.0f} MB"),
        Figure("worker peak RSS (while starting the fleet)", f"{result.peak_mb:.0f} MB"),
        Figure(
            "worker RSS per cached lifecycle (above the baseline)",
            f"{(result.rss_mb - result.baseline_mb) * 1024 / cached:.0f} KB",
        ),
        Figure(
            f"worker CPU while idle ({result.idle_seconds:.0f} s)",
            f"{result.worker_cpu:.2f} s ({cpu_share:.2%} of a core)",
            "~0",
            cpu_share < 0.01,
        ),
        Figure(
            "history events / audit rows written while idle",
            f"{result.events_while_idle} / {result.audit_while_idle}",
            "0 / 0",
            result.events_while_idle == 0 and result.audit_while_idle == 0,
        ),
        Figure(
            f"history length per asset, p50 / max ({len(result.histories)} sampled)",
            f"{percentile(result.histories, 0.5)} / {max(result.histories)} events",
        ),
        Figure(
            f"fleet start: {result.assets:,} starts / until all idle (5 s checks)",
            f"{result.start_seconds:.0f} s / {result.settle_seconds:.0f} s",
        ),
    ]
    if result.server_cpu is not None:
        figures.append(
            Figure(
                "dev server CPU while idle",
                f"{result.server_cpu:.2f} s "
                f"({result.server_cpu / result.idle_seconds:.2%} of a core)",
            )
        )
    command = ".venv/bin/python -m bench.idle_fleet"
    if arguments.assets != 10_000:
        command += f" --assets {arguments.assets}"
    if arguments.idle != 60.0:
        command += f" --idle {arguments.idle:g}"
    notes = f"""\
{result.assets:,} published versions, each with its lifecycle waiting on its re-certification
timer (default policy: 90 to 180 days away). Their registry rows were written through the
store as the activities write them (register, InReview, publish; {result.seed_seconds:.0f} s);
no asset went through review here: every lifecycle was started the way a published one
continues as new after a re-certification cycle (`Submission.resume` with the published
status), so each run read its life plan, recorded its due date (two activities) and started
its timer. Worker: the shipped `agentreg-worker` as a process of its own on the real dev
server, sticky cache bounded at `worker.MAX_CACHED_WORKFLOWS` = {MAX_CACHED_WORKFLOWS:,} (now set
explicitly; it was the SDK's default, also 1,000), so at most that many lifecycles are held in
memory; the others replay their short history when their timer fires. Each cached
lifecycle costs the worker the figure above (the workflow object, its state and the
sandbox it runs in; not broken down here), so the bound, not the fleet, sets the worker's
memory: {cached:,} cached lifecycles come to about {above:.0f} MB above a
{result.baseline_mb:.0f} MB worker. Idle measured from
`/proc/<pid>/stat` (utime + stime) over the window after every sampled history stopped
growing; the history and audit counts before and after show no activity was scheduled:
waiting is a server timer, not a poll. The worker's remaining CPU is its task-queue long
polls and the SDK's heartbeat to the server, not per asset."""
    write_section(
        "idle_fleet",
        title=f"Idle fleet: {result.assets:,} published assets waiting on re-certification",
        command=command,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    main()

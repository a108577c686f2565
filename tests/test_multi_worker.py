"""Several worker processes on one task queue and one PostgreSQL registry share the work
without losing or doubling any of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry.audit_chain import verify_database
from agent_registry.registry.db import make_engine, upgrade_database
from agent_registry.registry.tables import AssetVersion, AuditEvent
from tests import pg
from tests.faults.helpers import WorkerProcess, worker_env
from tests.support import (
    Handle,
    copy_example,
    latest_run,
    make_settings,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.postgres]

LIFECYCLES = 100
IN_FLIGHT = 25


@pytest.fixture
def registry_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL registry of this test's own."""
    with pg.isolated_schema(postgres_url) as url:
        upgrade_database(url)
        yield url


@pytest.fixture
def registry(registry_url: str) -> Iterator[Engine]:
    engine = make_engine(registry_url)
    yield engine
    engine.dispose()


def _subagent_named(tmp_path: Path, n: int) -> Path:
    """The code-reviewer example as asset number ``n``: a name of its own, so that no
    publication supersedes another."""
    source = copy_example("subagents/code-reviewer.md", tmp_path / f"asset-{n}")
    name = f"code-reviewer-{n}"
    target = source.with_name(f"{name}.md")
    target.write_text(source.read_text().replace("name: code-reviewer", f"name: {name}", 1))
    source.unlink()
    sidecar = source.with_name("code-reviewer.agentreg.yaml")
    sidecar.rename(source.with_name(f"{name}.agentreg.yaml"))
    return target


async def test_two_workers_publish_a_hundred_lifecycles_each_exactly_once(
    dev_env: WorkflowEnvironment, registry_url: str, registry: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, registry_url)
    env = worker_env(settings, client.service_client.config.target_host)
    workers = []
    for n in (1, 2):
        (tmp_path / f"worker-{n}").mkdir()
        workers.append(WorkerProcess(env, tmp_path / f"worker-{n}"))
        await workers[-1].start()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> Handle:
        async with gate:
            handle = await submit_path(client, settings, _subagent_named(tmp_path, n))
            await wait_for_stage(handle, Stage.IN_REVIEW, timeout=120)
            await vote(handle, Decision.APPROVE, "rita@example.com")
            await wait_for_stage(
                latest_run(client, handle),
                Stage.PUBLISHED,
                until=lambda s: s.recertify_by is not None,
                timeout=120,
            )
            return handle

    try:
        handles = await asyncio.gather(*(one(n) for n in range(LIFECYCLES)))
    finally:
        for worker in workers:
            worker.stop()

    with Session(registry) as session:
        versions = session.exec(  # type: ignore[call-overload]
            select(AssetVersion.version, AssetVersion.stage)
        ).all()
        published = session.exec(  # type: ignore[call-overload]
            select(AuditEvent.version, func.count())
            .where(AuditEvent.action == "published")
            .group_by(AuditEvent.version)
        ).all()
        chain = verify_database(session)
    assert len(versions) == LIFECYCLES
    assert {stage for _, stage in versions} == {Stage.PUBLISHED.value}
    assert sorted(count for _, count in published) == [1] * LIFECYCLES
    assert {version for version, _ in published} == {version for version, _ in versions}
    assert chain.intact, chain.broken

    # Both processes took work: activity tasks were started by two different identities.
    identities: set[str] = set()
    for handle in handles:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                identities.add(event.activity_task_started_event_attributes.identity)
    assert len(identities) == 2, identities

"""``agentreg serve``'s own metrics: governance gauges, the task queue, its requests."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from agent_registry import metrics
from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import OrgReport
from agent_registry.config import Settings
from agent_registry.dashboard import routes as dashboard_routes
from agent_registry.server_metrics import (
    QueueStats,
    ServerMetrics,
    add_routes,
    describe_task_queue,
    watch_task_queue,
)
from tests.api.seed import seed_registry
from tests.observability.test_metrics import scrape
from tests.ports import free_port
from tests.support import make_settings, running_worker, wait_for_listener


@workflow.defn(name="IdleForMetrics")
class IdleWorkflow:
    """A workflow type for a worker that only needs to poll."""

    @workflow.run
    async def run(self) -> None:
        return None


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and sorted labels, as Prometheus' own parser reads them."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def serve(catalog: Any, tmp_path: Path) -> TestClient[Any, Any]:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    app = build_web_app(settings, catalog, extra_routes=[dashboard_routes.add_routes, add_routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_governance_gauges_and_requests_are_served(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed_registry(sqlite_engine)
    catalog = DatabaseCatalog(sqlite_engine)
    expected = catalog.report()
    client = await serve(catalog, tmp_path)
    try:
        assert (await client.get("/dashboard")).status == 200
        assert (await client.get("/no/such/page/123")).status == 404
        reply = await client.get("/metrics")
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        found = samples(await reply.text())
    finally:
        await client.close()

    assert value(found, metrics.REVIEWS_PENDING.name) == len(expected.pending_reviews) == 1
    assert value(found, metrics.AWAITING_SUNSET.name) == len(expected.deprecations) == 1
    assert value(found, metrics.REVIEWS_PAST_SLA.name) == sum(
        1 for r in expected.pending_reviews if r.sla_breached
    )
    assert value(found, metrics.RECERTIFICATIONS_DUE.name) == len(expected.recertifications_due)
    assert value(found, metrics.REGISTRY_UP.name) == 1
    requests = metrics.HTTP_REQUESTS.name
    assert value(found, requests, route="/dashboard", method="GET", status="200") == 1
    # A made-up path is one "unmatched" series, never a series of its own.
    assert value(found, requests, route="unmatched", method="GET", status="404") == 1
    assert not any("/no/such" in str(labels) for _, labels in found)
    assert value(found, f"{metrics.HTTP_DURATION.name}_count", route="/dashboard") == 1


class BrokenCatalog:
    def report(self) -> OrgReport:
        raise ConnectionError("database is down")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"/metrics does not call {name}")


async def test_an_unreadable_registry_is_a_gauge_not_a_failed_scrape(tmp_path: Path) -> None:
    client = await serve(BrokenCatalog(), tmp_path)
    try:
        reply = await client.get("/metrics")
        assert reply.status == 200
        found = samples(await reply.text())
    finally:
        await client.close()
    assert value(found, metrics.REGISTRY_UP.name) == 0


def unexported(text: str) -> Iterable[str]:
    """Declared server metrics with no sample in ``text``."""
    sampled = {family.name for family in text_string_to_metric_families(text) if family.samples}
    for metric in metrics.ALL_SERVER_METRICS:
        base = metric.name.removesuffix("_total") if metric.type == "counter" else metric.name
        if base not in sampled:
            yield metric.name


async def test_every_declared_server_metric_is_exported(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    server = ServerMetrics()
    server.observe_report(DatabaseCatalog(sqlite_engine).report())
    server.requests.labels("/", "GET", "200").inc()
    server.durations.labels("/").observe(0.01)
    assert set(unexported(server.exposition().decode())) == {
        metrics.TASK_QUEUE_BACKLOG.name,
        metrics.TASK_QUEUE_BACKLOG_AGE.name,
        metrics.TASK_QUEUE_POLLERS.name,
        metrics.TASK_QUEUE_UP.name,
    }  # per task queue: none until the queue was described
    server.observe_queue("agent-registry", {"workflow": QueueStats(3, 12.5, 0)})
    text = server.exposition().decode()
    assert list(unexported(text)) == []
    found = samples(text)
    labels = {"task_queue": "agent-registry", "task_type": "workflow"}
    assert value(found, metrics.TASK_QUEUE_BACKLOG.name, **labels) == 3
    assert value(found, metrics.TASK_QUEUE_BACKLOG_AGE.name, **labels) == 12.5
    assert value(found, metrics.TASK_QUEUE_POLLERS.name, **labels) == 0


async def wait_for(check: Any, what: str, *, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


async def test_the_backlog_and_pollers_come_from_describe_task_queue(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    queue = f"backlog-{uuid.uuid4().hex[:8]}"
    # Nobody polls the queue: the started workflow's first task waits in the backlog.
    await client.start_workflow("NoSuchWorkflow", id=f"wf-{queue}", task_queue=queue)

    async def backlog_seen() -> bool:
        stats = await describe_task_queue(client, queue)
        return stats["workflow"].backlog >= 1 and stats["workflow"].pollers == 0

    await wait_for(backlog_seen, "the backlog of an unpolled queue")

    async with Worker(
        client,
        task_queue=queue,
        workflows=[IdleWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):

        async def polled() -> bool:
            stats = await describe_task_queue(client, queue)
            return stats["workflow"].pollers >= 1 and stats["activity"].pollers == 0

        await wait_for(polled, "the worker to be listed as a poller")
    handle = client.get_workflow_handle(f"wf-{queue}")
    await handle.terminate()


async def test_the_watch_reports_an_unreachable_temporal_once_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = ServerMetrics()
    stop = asyncio.Event()
    attempts = 0

    async def refuse() -> Client:
        nonlocal attempts
        attempts += 1
        if attempts == 3:
            stop.set()
        raise ConnectionError("no temporal here")

    with caplog.at_level(logging.WARNING, logger="agent_registry.server_metrics"):
        await asyncio.wait_for(
            watch_task_queue(
                server, refuse, task_queue="q", stop=stop, interval=timedelta(milliseconds=10)
            ),
            timeout=10,
        )

    assert attempts == 3
    found = samples(server.exposition().decode())
    assert value(found, metrics.TASK_QUEUE_UP.name, task_queue="q") == 0
    warnings = [r for r in caplog.records if "cannot describe task queue q" in r.getMessage()]
    assert len(warnings) == 1


async def test_agentreg_serve_exports_its_metrics_and_the_task_queue_it_serves(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed_registry(sqlite_engine)
    settings = make_settings(tmp_path, sqlite_url)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGENT_REGISTRY_", "TEMPORAL_", "SLACK_"))
    }
    env.update(
        AGENT_REGISTRY_DATABASE_URL=sqlite_url,
        AGENT_REGISTRY_TASK_QUEUE=settings.task_queue,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=dev_env.client.namespace,
    )
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "agentreg"),
        "serve",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    queue = {"task_queue": settings.task_queue, "task_type": "workflow"}
    try:
        await wait_for_listener(port, process)
        async with running_worker(dev_env.client, settings, sqlite_engine):

            async def worker_listed() -> bool:
                found = samples(await asyncio.to_thread(scrape, port))
                key = (metrics.TASK_QUEUE_POLLERS.name, tuple(sorted(queue.items())))
                return found.get(key, 0) >= 1

            # The server describes the queue every 15 s: the worker shows by the next poll.
            await wait_for(worker_listed, "the server to see the worker polling", timeout=60)
        found = samples(await asyncio.to_thread(scrape, port))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 0, stderr.decode()
    assert value(found, metrics.REVIEWS_PENDING.name) == 1  # the seeded version in review
    assert value(found, metrics.TASK_QUEUE_UP.name, task_queue=settings.task_queue) == 1
    assert value(found, metrics.TASK_QUEUE_BACKLOG.name, **queue) >= 0
    assert value(found, metrics.HTTP_REQUESTS.name, route="/metrics", method="GET", status="200")

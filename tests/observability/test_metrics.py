"""Prometheus metrics: the worker's runtime exports the SDK's metrics and our counters."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from agent_registry import metrics
from agent_registry.config import Settings
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.temporal import connect, metrics_runtime
from tests.ports import free_port
from tests.support import (
    POLICIES,
    approve_until_published,
    copy_example,
    make_settings,
    running_worker,
    skip_time,
    submit_path,
    vote,
    wait_for_stage,
)

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(port: int) -> str:
    """The text of ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        body: bytes = reply.read()
    return body.decode()


async def metrics_client(env: WorkflowEnvironment, port: int) -> Client:
    """A client of ``env``'s server on a runtime serving Prometheus metrics on ``port``.

    A worker built on it exports the SDK's metrics and the registry's counters there.
    """
    return await connect(
        address=env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        runtime=metrics_runtime(f"127.0.0.1:{port}"),
    )


def total(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    found = 0.0
    for line in text.splitlines():
        sample = _SAMPLE.match(line)
        if sample is None or sample["name"] != name:
            continue
        have = dict(_LABEL.findall(sample["labels"] or ""))
        if all(have.get(key) == value for key, value in labels.items()):
            found += float(sample["value"])
    return found


async def scrape_until(port: int, name: str, value: float, **labels: str) -> str:
    """Scrape until ``name`` reaches ``value`` (the exporter may lag a moment)."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        text = await asyncio.to_thread(scrape, port)
        if total(text, name, **labels) >= value or asyncio.get_running_loop().time() > deadline:
            return text
        await asyncio.sleep(0.2)


async def test_a_lifecycle_is_counted_on_the_workers_prometheus_endpoint(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(tmp_path, sqlite_url)
    client = await metrics_client(dev_env, port)
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(client, settings, copy_example("skills/release-notes", tmp_path))
        published = await wait_for_stage(
            await approve_until_published(client, handle), Stage.PUBLISHED
        )
        failing = await submit_path(
            client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
        )
        failed = await wait_for_stage(failing, Stage.EVAL_FAILED)
        text = await scrape_until(port, metrics.EVAL_FAILURES.name, 1)

    assert published.eval is not None
    tier = published.eval.risk_tier.value
    queue = {"task_queue": settings.task_queue}
    assert total(text, metrics.SUBMISSIONS.name, kind="skill", **queue) == 2
    assert total(text, metrics.APPROVALS.name, kind="skill", tier=tier, **queue) == 1
    assert total(text, metrics.PUBLICATIONS.name, kind="skill", tier=tier, **queue) == 1
    assert failed.eval is not None
    failed_tier = failed.eval.risk_tier.value
    assert total(text, metrics.EVAL_FAILURES.name, kind="skill", tier=failed_tier, **queue) == 1
    assert total(text, metrics.REJECTIONS.name, **queue) == 0
    assert total(text, metrics.RECERTIFICATION_LAPSES.name, **queue) == 0
    approvals = len(published.votes)
    assert approvals >= 1
    assert total(text, metrics.VOTES.name, decision="approve", tier=tier, **queue) == approvals
    assert total(text, metrics.VOTES.name, decision="reject", **queue) == 0
    assert total(text, metrics.EVAL_RUNS.name, result="passed", **queue) == 1
    assert total(text, metrics.EVAL_RUNS.name, result="failed", tier=failed_tier, **queue) == 1
    assert total(text, metrics.REVIEW_SLA_BREACHES.name, **queue) == 0  # decided in time
    assert f"# HELP {metrics.PUBLICATIONS.name} {metrics.PUBLICATIONS.description}" in text
    # The SDK's own metrics come out of the same endpoint.
    assert total(text, "temporal_request") > 0
    assert total(text, "temporal_workflow_task_schedule_to_start_latency_count", **queue) > 0


async def test_rejections_lapses_deprecations_and_retirements_are_counted(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = await metrics_client(ts_env, port)
    async with running_worker(client, settings, sqlite_engine):
        rejected = await submit_path(client, settings, copy_example("skills/pdf-tables", tmp_path))
        await wait_for_stage(rejected, Stage.IN_REVIEW)
        await skip_time(ts_env, timedelta(days=2, hours=1))  # past the 2-day review SLA
        await scrape_until(port, metrics.REVIEW_SLA_BREACHES.name, 1)
        await vote(rejected, Decision.REJECT, "rita@example.com", reason="duplicates another")
        await wait_for_stage(rejected, Stage.REJECTED)

        handle = await approve_until_published(
            client,
            await submit_path(
                client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
            ),
        )
        status = await query_status(handle)
        assert status.recertify_by is not None
        await skip_time(
            ts_env, status.recertify_by - await ts_env.get_current_time() + timedelta(hours=1)
        )
        await wait_for_stage(handle, Stage.RECERTIFYING, until=lambda s: s.life is not None)
        await skip_time(ts_env, timedelta(days=15))  # nobody attests within the grace
        lapsed = await wait_for_stage(handle, Stage.DEPRECATED)
        await skip_time(ts_env, timedelta(days=31))  # past the 30-day sunset
        await wait_for_stage(handle, Stage.RETIRED)
        text = await scrape_until(port, metrics.RETIREMENTS.name, 1)

    assert lapsed.eval is not None
    queue = {"task_queue": settings.task_queue}
    tier = lapsed.eval.risk_tier.value
    assert (
        total(text, metrics.RECERTIFICATION_LAPSES.name, kind="subagent", tier=tier, **queue) == 1
    )
    assert total(text, metrics.REJECTIONS.name, kind="skill", **queue) == 1
    assert total(text, metrics.REVIEW_SLA_BREACHES.name, kind="skill", **queue) == 1
    assert total(text, metrics.VOTES.name, decision="reject", kind="skill", **queue) == 1
    assert total(text, metrics.DEPRECATIONS.name, kind="subagent", **queue) == 1
    assert total(text, metrics.RETIREMENTS.name, kind="subagent", **queue) == 1
    assert total(text, metrics.CHANGES_REQUESTED.name, **queue) == 0
    assert total(text, metrics.PUBLICATIONS.name, **queue) == 1
    assert total(text, metrics.SUBMISSIONS.name, **queue) == 2


def test_the_metrics_and_log_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_REGISTRY_METRICS_ADDRESS", "0.0.0.0:9464")
    monkeypatch.setenv("AGENT_REGISTRY_LOG_FORMAT", "json")

    settings = Settings(_env_file=None)

    assert (settings.metrics_address, settings.log_format) == ("0.0.0.0:9464", "json")
    assert Settings(_env_file=None, log_format="text").log_format == "text"


def test_probe_failures_are_counted_by_the_probes_own_check_ids() -> None:
    from agent_registry.mcp_probe.compare import CATALOG

    assert set(CATALOG) >= metrics.PROBE_FAILURE_CHECKS
    assert all(CATALOG[check].value == "block" for check in metrics.PROBE_FAILURE_CHECKS)


async def test_a_probe_that_never_completes_is_counted_as_a_probe_failure(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    from worker import build_worker
    from workflows.activity_options import PROBE_DEADLINE

    port = free_port()
    settings = make_settings(tmp_path, sqlite_url)
    client = await metrics_client(ts_env, port)
    # The lifecycle worker only: nobody polls the probe queue, so the probe times out.
    with build_worker(client, settings, engine=sqlite_engine) as worker:
        async with worker:
            handle = await submit_path(client, settings, copy_example("mcp-servers/time", tmp_path))
            await wait_for_stage(
                handle, Stage.EVALUATING, until=lambda s: "probe worker" in s.waiting_for
            )
            await skip_time(ts_env, PROBE_DEADLINE + timedelta(minutes=1))
            failed = await wait_for_stage(handle, Stage.EVAL_FAILED)
            text = await scrape_until(port, metrics.PROBE_FAILURES.name, 1)

    assert failed.eval is not None
    assert any(f.check_id == "probe.failed" for f in failed.eval.top_findings)
    queue = {"task_queue": settings.task_queue, "kind": "mcp-server"}
    assert total(text, metrics.PROBE_FAILURES.name, **queue) == 1
    assert total(text, metrics.EVAL_RUNS.name, result="failed", **queue) == 1
    assert total(text, metrics.EVAL_FAILURES.name, **queue) == 1

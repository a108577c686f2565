"""PostgreSQL becomes unreachable while an approval is being recorded and published."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import make_url
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry.db import make_engine, upgrade_database
from tests import pg
from tests.faults.helpers import TcpProxy, assert_published_exactly_once
from tests.support import (
    copy_example,
    latest_run,
    make_settings,
    running_worker,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.postgres]


async def test_database_outage_during_publication_publishes_once(
    dev_env: WorkflowEnvironment, postgres_url: str, tmp_path: Path
) -> None:
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.open()
    with pg.isolated_schema(postgres_url) as direct_url:
        upgrade_database(direct_url)
        proxied_url = make_url(direct_url).set(host="127.0.0.1", port=proxy.port)
        worker_engine = make_engine(proxied_url.render_as_string(hide_password=False))
        direct_engine = make_engine(direct_url)
        settings = make_settings(tmp_path, direct_url)
        client = dev_env.client
        try:
            async with running_worker(client, settings, worker_engine):
                handle = await submit_path(
                    client, settings, copy_example("subagents/code-reviewer.md", tmp_path)
                )
                await wait_for_stage(handle, Stage.IN_REVIEW)

                await proxy.close()
                await vote(handle, Decision.APPROVE, "rita@example.com")
                await asyncio.sleep(4)  # record_decision fails and is retried (1 s, 2 s, ...)
                assert (await query_status(handle)).stage is Stage.IN_REVIEW
                await proxy.open()

                final = await wait_for_stage(
                    latest_run(client, handle),
                    Stage.PUBLISHED,
                    until=lambda s: s.recertify_by is not None,
                    timeout=60,
                )
            assert [c.stage for c in final.history].count(Stage.PUBLISHED) == 1
            assert_published_exactly_once(direct_engine, final.ref, handle.id)
        finally:
            await proxy.close()
            worker_engine.dispose()
            direct_engine.dispose()

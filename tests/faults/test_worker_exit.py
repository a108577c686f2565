"""A drained worker exits 0 every time: the status an orchestrator reads is the truth.

CPython's finalization after a Temporal worker could abort the process (exit -6,
``PyGILState_Release``), now and then; a rolling deploy would count each such exit as
a crash. Several start-and-SIGTERM cycles in a row make a rare abort show up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from tests.faults.helpers import WorkerProcess, worker_env
from tests.support import make_settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLES = 6


async def test_a_worker_told_to_stop_exits_zero_every_time(
    dev_env: WorkflowEnvironment, sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    env = worker_env(settings, dev_env.client.service_client.config.target_host)
    worker = WorkerProcess(env, tmp_path)
    for _ in range(CYCLES):
        await worker.start()
        try:
            worker.stop()
        finally:
            worker.kill()
        log = worker.log.read_text()
        assert worker.returncode == 0, log
        assert "Fatal Python error" not in log
        assert "shutting down" in log


async def test_the_server_completes_a_stopping_worker_s_polls(dev_env: WorkflowEnvironment) -> None:
    """Otherwise a task handed to a poll the worker has just given up is lost until its
    timeout: a minute for storing a bundle."""
    client = dev_env.client
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )

    assert described.namespace_info.capabilities.worker_poll_complete_on_shutdown

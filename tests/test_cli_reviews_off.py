"""In a production configuration the only review identities are the ones Slack verified."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.stages import Decision, Stage
from tests.support import (
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    vote,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_cli_vote_is_refused_when_cli_reviews_are_off(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url).model_copy(update={"cli_reviews": "off"})
    client = dev_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(client, settings, copy_example("skills/release-notes", tmp_path))
        status = await wait_for_stage(handle, Stage.IN_REVIEW)
        assert status.plan is not None
        assert status.plan.cli_reviews is False
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await vote(handle, Decision.APPROVE, "bob@example.com")
        assert isinstance(refused.value.cause, ApplicationError)
        assert "command line are off" in refused.value.cause.message
        after = await query_status(handle)
    assert after.stage is Stage.IN_REVIEW
    assert after.votes == []

"""A version sent back again and again continues as new, so one run's history stays bounded.

Without it every review round (store, eval, request, votes, notices) added to one run's
history for as long as reviewers kept asking for changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Decision, Stage
from tests.support import (
    copy_example,
    latest_run,
    make_settings,
    revise_path,
    running_worker,
    submit_path,
    vote,
    wait_for_stage,
)
from workflows.asset_lifecycle import MAX_REVISIONS_PER_RUN

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONTINUED_AS_NEW = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW


async def test_the_review_continues_as_new_after_the_bound_and_still_publishes(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    skill = copy_example("skills/release-notes", tmp_path)
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(client, settings, skill)
        first = await wait_for_stage(handle, Stage.IN_REVIEW)
        for round_ in range(1, MAX_REVISIONS_PER_RUN + 2):
            current = latest_run(client, handle)
            await vote(current, Decision.REQUEST_CHANGES, "rita@example.com", reason="again")
            await wait_for_stage(current, Stage.CHANGES_REQUESTED)
            (skill / "SKILL.md").write_text(
                (skill / "SKILL.md").read_text() + f"\nRound {round_} of changes.\n"
            )
            await revise_path(current, settings, skill, changelog=f"Round {round_}")
            await wait_for_stage(
                latest_run(client, handle),
                Stage.IN_REVIEW,
                until=lambda status, wanted=round_: status.revision == wanted,
            )
        final_run = latest_run(client, handle)
        await vote(final_run, Decision.APPROVE, "rita@example.com")
        final = await wait_for_stage(
            final_run, Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
        )

    runs = [w async for w in client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) >= 2, "the review never continued as new"
    earliest = min(runs, key=lambda run: run.start_time)
    history = await client.get_workflow_handle(handle.id, run_id=earliest.run_id).fetch_history()
    assert history.events[-1].event_type == CONTINUED_AS_NEW
    # The carried state is the lifecycle's: every revision counted, the history whole.
    assert final.revision == MAX_REVISIONS_PER_RUN + 1
    assert final.content_hash != first.content_hash
    assert final.history[0].stage is Stage.SUBMITTED
    assert [c.stage for c in final.history].count(Stage.CHANGES_REQUESTED) == (
        MAX_REVISIONS_PER_RUN + 1
    )

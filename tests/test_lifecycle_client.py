"""LifecycleClient: update ids, and Temporal's answers turned into lifecycle errors.

The server, Slack and the CLI word these errors for their own audiences (their tests
check the wording); here, against a stand-in lifecycle on the dev server, each answer
is checked to arrive as the error that says what happened.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from agent_registry import temporal
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.client import (
    LifecycleClient,
    LifecycleClosedError,
    LifecycleNotFoundError,
    UpdateRefusedError,
    UpdateUnconfirmedError,
)
from agent_registry.lifecycle.contract import (
    APPROVE_UPDATE,
    DEPRECATE_UPDATE,
    LIFECYCLE_WORKFLOW,
    STATUS_QUERY,
    AssetStatus,
    DeprecateInput,
    ReviewInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Decision, Stage
from tests.support import principal

SUBMITTER = "sam@localhost"
QUIETLY = "quietly"
"""A deprecation reason that makes the stand-in end without upserting its stage."""


@workflow.defn(name=LIFECYCLE_WORKFLOW)
class StandInLifecycle:
    """Counts approvals (never the submitter's) and ends when deprecated."""

    @workflow.init
    def __init__(self, status: AssetStatus) -> None:
        self._status = status
        self._approvals = 0

    @workflow.run
    async def run(self, status: AssetStatus) -> AssetStatus:
        await workflow.wait_condition(lambda: self._status.stage is Stage.DEPRECATED)
        return self._status

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> AssetStatus:
        return self._status

    @workflow.update(name=APPROVE_UPDATE)
    def approve(self, vote: ReviewInput) -> VoteResult:
        self._approvals += 1
        return VoteResult(stage=self._status.stage, message=f"approval {self._approvals}")

    @approve.validator
    def _validate_approve(self, vote: ReviewInput) -> None:
        if vote.principal is not None and vote.principal.email == SUBMITTER:
            raise ApplicationError("you submitted it", type="Refused")

    @workflow.update(name=DEPRECATE_UPDATE)
    def deprecate(self, request: DeprecateInput) -> VoteResult:
        self._status.stage = Stage.DEPRECATED
        if request.reason != QUIETLY:
            workflow.upsert_search_attributes(
                [temporal.LIFECYCLE_STAGE.value_set(Stage.DEPRECATED.value)]
            )
        return VoteResult(stage=Stage.DEPRECATED, message="deprecated")


STARTED: list[AssetRef] = []
"""Stand-ins started by the running test, ended after it so none outlives its worker."""


@pytest.fixture
async def task_queue(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A task queue the stand-in lifecycle is served on."""
    queue = f"test-{uuid.uuid4()}"
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[StandInLifecycle],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield queue
        while STARTED:
            handle = dev_env.client.get_workflow_handle(STARTED.pop().workflow_id)
            with contextlib.suppress(RPCError):  # already ended
                await handle.terminate(reason="test finished")


async def _stand_in(client: Client, task_queue: str) -> AssetRef:
    ref = AssetRef.parse(f"skill/stand-in-{uuid.uuid4().hex[:8]}@1.0.0")
    status = AssetStatus(ref=ref, stage=Stage.IN_REVIEW, owner_team="t", submitter=SUBMITTER)
    await client.start_workflow(
        LIFECYCLE_WORKFLOW, status, id=ref.workflow_id, task_queue=task_queue
    )
    STARTED.append(ref)
    return ref


def _vote(who: str) -> ReviewInput:
    return ReviewInput(principal=principal(who))


@pytest.mark.asyncio(loop_scope="session")
async def test_a_refusal_names_the_update_and_the_validators_reason(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    lifecycles = LifecycleClient(dev_env.client)
    ref = await _stand_in(dev_env.client, task_queue)
    with pytest.raises(UpdateRefusedError) as refused:
        await lifecycles.vote(ref, Decision.APPROVE, _vote("sam"))
    assert (refused.value.update, refused.value.reason) == ("approve", "you submitted it")
    assert refused.value.ref == ref


@pytest.mark.asyncio(loop_scope="session")
async def test_a_given_update_id_counts_once_and_no_id_counts_every_time(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    lifecycles = LifecycleClient(dev_env.client)
    ref = await _stand_in(dev_env.client, task_queue)
    click = f"slack/approve/{uuid.uuid4()}"
    first = await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"), update_id=click)
    again = await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"), update_id=click)
    assert first.message == again.message == "approval 1"
    fresh = await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"))
    assert fresh.message == "approval 2"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("reason", ["replaced", QUIETLY])
async def test_an_ended_lifecycle_says_the_stage_it_ended_in(
    dev_env: WorkflowEnvironment, task_queue: str, reason: str
) -> None:
    lifecycles = LifecycleClient(dev_env.client)
    ref = await _stand_in(dev_env.client, task_queue)
    assert (await lifecycles.status(ref)).running
    await lifecycles.deprecate(ref, DeprecateInput(principal=principal("sam"), reason=reason))
    await dev_env.client.get_workflow_handle(ref.workflow_id).result()
    with pytest.raises(LifecycleClosedError) as closed:
        await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"))
    # From the search attribute, or (not upserted) from the status query.
    assert closed.value.stage == "Deprecated"
    assert str(closed.value) == f"{ref} is Deprecated"
    state = await lifecycles.status(ref)
    assert (state.running, state.status.stage) == (False, Stage.DEPRECATED)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_version_never_submitted_is_not_found_for_updates_and_status(
    dev_env: WorkflowEnvironment,
) -> None:
    lifecycles = LifecycleClient(dev_env.client)
    ref = AssetRef.parse(f"skill/never-{uuid.uuid4().hex[:8]}@1.0.0")
    with pytest.raises(LifecycleNotFoundError, match="was never submitted"):
        await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"))
    with pytest.raises(LifecycleNotFoundError):
        await lifecycles.status(ref)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_update_no_worker_answers_in_time_is_unconfirmed(
    dev_env: WorkflowEnvironment,
) -> None:
    unserved = f"test-unserved-{uuid.uuid4()}"
    ref = await _stand_in(dev_env.client, unserved)
    lifecycles = LifecycleClient(dev_env.client, rpc_timeout=timedelta(seconds=1))
    try:
        with pytest.raises(UpdateUnconfirmedError):
            await lifecycles.vote(ref, Decision.APPROVE, _vote("rita"))
    finally:
        STARTED.remove(ref)
        await dev_env.client.get_workflow_handle(ref.workflow_id).terminate(reason="test over")

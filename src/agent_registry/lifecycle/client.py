"""Access to lifecycle workflows by registered name: start, find, query.

Used by the registry server's write routes (:mod:`agent_registry.api.writes`), which
start lifecycles for the principal they authenticated, and by ``agentreg status``
(a read). People and CI never start or update a lifecycle themselves: their writes go
through the server.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from agent_registry import temporal
from agent_registry.assets.refs import AssetRef
from agent_registry.cli.errors import CliError
from agent_registry.cli.staging import staged_submission
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import (
    LIFECYCLE_WORKFLOW,
    STATUS_QUERY,
    AssetStatus,
    Submission,
)
from agent_registry.lifecycle.stages import Stage

LifecycleHandle = WorkflowHandle[object, AssetStatus]
"""A handle on a lifecycle workflow; its result is the final :class:`AssetStatus`."""


async def start_lifecycle(
    client: Client, settings: Settings, *, submission: Submission
) -> LifecycleHandle:
    """Start the lifecycle of one version; a second start of the same version is refused.

    The bundle is staged in the registry first (see :mod:`agent_registry.cli.staging`),
    so the workflow's history holds its hash, never its bytes.

    Raises:
        WorkflowAlreadyStartedError: When this version was submitted before, whatever
            became of it: a version is submitted once. Checked before staging too, so a
            refused resubmission leaves nothing behind.
    """
    ref = submission.ref
    if submission.archive:
        await _refuse_resubmission(client, ref)
        submission = await asyncio.to_thread(staged_submission, settings, submission)
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(temporal.ASSET_KIND, ref.kind.value),
            SearchAttributePair(temporal.ASSET_NAME, ref.name),
            SearchAttributePair(temporal.ASSET_VERSION, ref.version),
            SearchAttributePair(temporal.OWNER_TEAM, submission.metadata.owner_team),
            SearchAttributePair(temporal.LIFECYCLE_STAGE, Stage.SUBMITTED.value),
        ]
    )
    return await client.start_workflow(
        LIFECYCLE_WORKFLOW,
        submission,
        id=ref.workflow_id,
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=attributes,
        result_type=AssetStatus,
        static_summary=f"{ref} · team {submission.metadata.owner_team}",
        static_details=(
            f"Submitted by {submission.submitter}; authors "
            f"{', '.join(submission.metadata.authors) or 'n/a'}; "
            f"machine-authored: {'yes' if submission.metadata.machine_authored else 'no'}. "
            f"{submission.metadata.changelog}"
        ),
    )


async def _refuse_resubmission(client: Client, ref: AssetRef) -> None:
    try:
        await client.get_workflow_handle(ref.workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return
        raise
    raise WorkflowAlreadyStartedError(ref.workflow_id, LIFECYCLE_WORKFLOW)


async def lifecycle_handle(client: Client, ref: AssetRef) -> LifecycleHandle:
    """The handle of a version's lifecycle, after checking it exists.

    Raises:
        CliError: When the version was never submitted.
    """
    handle: LifecycleHandle = client.get_workflow_handle(ref.workflow_id, result_type=AssetStatus)
    try:
        await handle.describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise CliError(f"{ref} was never submitted (no workflow {ref.workflow_id})") from None
        raise
    return handle


async def query_status(handle: LifecycleHandle) -> AssetStatus:
    """The lifecycle's full state, from its ``status`` query."""
    status: AssetStatus = await handle.query(STATUS_QUERY, result_type=AssetStatus)
    return status

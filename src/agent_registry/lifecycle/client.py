"""The one client of lifecycle workflows: start, vote, revise, attest, deprecate, status.

The registry server's write routes (:mod:`agent_registry.api.writes`), the Slack app's
buttons (:mod:`agent_registry.slack.app`), the scheduled MCP import and ``agentreg
status`` all reach lifecycles through :class:`LifecycleClient`, so the wire details live
here once: the workflow id, the search attributes set at start, the update and query
names, update ids, and how Temporal's answers become the errors below. People and CI
never start or update a lifecycle themselves: their writes go through the server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from agent_registry import temporal
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import (
    ATTEST_UPDATE,
    DECISION_UPDATES,
    DEPRECATE_UPDATE,
    LIFECYCLE_WORKFLOW,
    REVISE_UPDATE,
    STATUS_QUERY,
    AssetStatus,
    AttestInput,
    DeprecateInput,
    ReviewInput,
    RevisionInput,
    Submission,
    VoteResult,
)
from agent_registry.lifecycle.stages import Decision, Stage

LifecycleHandle = WorkflowHandle[object, AssetStatus]
"""A handle on a lifecycle workflow; its result is the final :class:`AssetStatus`."""


Stager = Callable[[Submission], Submission]
"""Stages a submission's bundle in the registry and returns it carrying only the hash."""


class LifecycleError(Exception):
    """A lifecycle request that did not go through, phrased for the person who made it.

    Attributes:
        ref: The version the request was about.
    """

    def __init__(self, ref: AssetRef, message: str) -> None:
        super().__init__(message)
        self.ref = ref


class LifecycleNotFoundError(LifecycleError):
    """The version was never submitted: no lifecycle has its workflow id."""

    def __init__(self, ref: AssetRef) -> None:
        super().__init__(ref, f"{ref} was never submitted")


class LifecycleClosedError(LifecycleError):
    """The version's lifecycle has ended, so it takes no more requests.

    Attributes:
        stage: The stage it ended in (``closed`` when the lifecycle never said).
    """

    def __init__(self, ref: AssetRef, stage: str) -> None:
        super().__init__(ref, f"{ref} is {stage}")
        self.stage = stage


class UpdateRefusedError(LifecycleError):
    """The lifecycle refused the request: a validator's reason, or the update failed.

    Attributes:
        update: The update's registered name (``approve``, ``attest``, …), for audit logs.
        reason: The lifecycle's own words (own asset, not a reviewer, wrong stage, …).
    """

    def __init__(self, ref: AssetRef, *, update: str, reason: str) -> None:
        super().__init__(ref, reason)
        self.update = update
        self.reason = reason


class UpdateUnconfirmedError(LifecycleError):
    """No worker confirmed the request within the call's time limit.

    Whether it went through is unknown; sending it again with the same update id is
    safe, as the lifecycle counts an id once.
    """

    def __init__(self, ref: AssetRef) -> None:
        super().__init__(ref, f"the lifecycle of {ref} did not confirm the request in time")


class LifecycleUnavailableError(LifecycleError):
    """Temporal could not be asked (unreachable, or it refused the call itself).

    Attributes:
        detail: Temporal's own message, for the operator's log.
    """

    def __init__(self, ref: AssetRef, error: RPCError) -> None:
        super().__init__(ref, f"Temporal refused the request about {ref}: {error.message}")
        self.detail = error.message


def already_submitted_message(workflow_id: str) -> str:
    """What a second submission of one version is told, wherever it came from."""
    return (
        f"{workflow_id} was already submitted; a version is submitted once. "
        "Bump the version to submit new content."
    )


@dataclass(frozen=True)
class LifecycleState:
    """Where a lifecycle stands.

    Attributes:
        status: The full state, from the ``status`` query.
        running: Whether the lifecycle still takes requests.
    """

    status: AssetStatus
    running: bool


class LifecycleClient:
    """Starts, updates and reads lifecycle workflows over one Temporal client.

    Args:
        client: A connected client with the pydantic data converter
            (:func:`agent_registry.temporal.connect`).
        rpc_timeout: How long an update waits for a worker to answer; None waits as long
            as the SDK does. A person clicking in Slack is better told than kept waiting
            when no worker runs (:class:`UpdateUnconfirmedError`).
    """

    def __init__(self, client: Client, *, rpc_timeout: timedelta | None = None) -> None:
        self._client = client
        self._rpc_timeout = rpc_timeout

    @property
    def temporal(self) -> Client:
        """The Temporal client underneath (for its namespace, in links to the UI)."""
        return self._client

    async def start(
        self, submission: Submission, *, task_queue: str, stage: Stager | None = None
    ) -> LifecycleHandle:
        """Start the lifecycle of one version; a second start of the same version is refused.

        Args:
            submission: The version, as submitted.
            task_queue: The lifecycle workers' queue.
            stage: Stages a submission that carries its archive in the registry and
                returns it carrying the hash instead, so the workflow's history never
                holds the bundle's bytes (:func:`agent_registry.staging.start_lifecycle`
                passes the registry's).

        Raises:
            WorkflowAlreadyStartedError: When this version was submitted before, whatever
                became of it: a version is submitted once (:func:`already_submitted_message`
                says so). Checked before staging too, so a refused resubmission leaves
                nothing behind.
        """
        client = self._client
        ref = submission.ref
        if submission.archive and stage is not None:
            await _refuse_resubmission(client, ref)
            submission = await asyncio.to_thread(stage, submission)
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
            task_queue=task_queue,
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

    async def vote(
        self,
        ref: AssetRef,
        decision: Decision,
        vote: ReviewInput,
        *,
        update_id: str | None = None,
    ) -> VoteResult:
        """Approve, reject or request changes; see :meth:`_update` for ids and errors."""
        return await self._update(ref, DECISION_UPDATES[decision], vote, update_id=update_id)

    async def revise(
        self,
        ref: AssetRef,
        revision: RevisionInput,
        *,
        update_id: str | None = None,
    ) -> VoteResult:
        """Send new content (already staged) to a version waiting for a revision."""
        return await self._update(ref, REVISE_UPDATE, revision, update_id=update_id)

    async def attest(
        self,
        ref: AssetRef,
        attestation: AttestInput,
        *,
        update_id: str | None = None,
    ) -> VoteResult:
        """Attest, for the owner team, that a version due for re-certification is fit."""
        return await self._update(ref, ATTEST_UPDATE, attestation, update_id=update_id)

    async def deprecate(
        self,
        ref: AssetRef,
        request: DeprecateInput,
        *,
        update_id: str | None = None,
    ) -> VoteResult:
        """Deprecate a published version."""
        return await self._update(ref, DEPRECATE_UPDATE, request, update_id=update_id)

    async def status(self, ref: AssetRef) -> LifecycleState:
        """The version's lifecycle state, and whether it still runs.

        Raises:
            LifecycleNotFoundError: The version was never submitted.
        """
        handle: LifecycleHandle = self._client.get_workflow_handle(
            ref.workflow_id, result_type=AssetStatus
        )
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise LifecycleNotFoundError(ref) from None
            raise
        running = description.status is WorkflowExecutionStatus.RUNNING
        return LifecycleState(status=await query_status(handle), running=running)

    async def _update(
        self,
        ref: AssetRef,
        update: str,
        argument: BaseModel,
        *,
        update_id: str | None,
    ) -> VoteResult:
        """Send ``update`` to the version's lifecycle and wait for its answer.

        Args:
            ref: The version.
            update: The update's registered name.
            argument: Its input, naming the principal the caller verified.
            update_id: An id that makes repeats of one request count once (a Slack
                click redelivered or double-clicked). None sends a fresh id, so that a
                second attempt is judged by the validators and refused with their
                reason, where a reused id would be silently deduplicated.

        Raises:
            UpdateRefusedError: The lifecycle refused it (a validator's reason).
            LifecycleNotFoundError: The version was never submitted.
            LifecycleClosedError: The version's lifecycle has ended.
            UpdateUnconfirmedError: No answer within the client's ``rpc_timeout``.
            LifecycleUnavailableError: Temporal could not be asked.
        """
        handle = self._client.get_workflow_handle(ref.workflow_id)
        try:
            result: VoteResult = await handle.execute_update(
                update,
                argument,
                id=update_id or f"api/{update}/{uuid.uuid4()}",
                result_type=VoteResult,
                rpc_timeout=self._rpc_timeout,
            )
        except WorkflowUpdateFailedError as error:
            raise UpdateRefusedError(ref, update=update, reason=_refusal(error)) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise UpdateUnconfirmedError(ref) from None
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise LifecycleUnavailableError(ref, error) from error
            # An update on a closed workflow is NOT_FOUND too; describe tells the two apart.
            raise await self._gone(ref) from None
        return result

    async def _gone(self, ref: AssetRef) -> LifecycleError:
        """Why an update found no running lifecycle: never submitted, or ended."""
        handle: LifecycleHandle = self._client.get_workflow_handle(
            ref.workflow_id, result_type=AssetStatus
        )
        try:
            description = await handle.describe()
        except RPCError:
            return LifecycleNotFoundError(ref)
        # The stage the lifecycle last upserted, read without a worker; where none was
        # upserted (a stand-in lifecycle, a namespace without our attributes), the
        # status query, which a worker answers.
        stage = description.typed_search_attributes.get(temporal.LIFECYCLE_STAGE)
        if stage is None:
            try:
                stage = (await query_status(handle, rpc_timeout=self._rpc_timeout)).stage.value
            except (RPCError, WorkflowQueryFailedError):
                stage = "closed"
        return LifecycleClosedError(ref, stage)


def _refusal(error: WorkflowUpdateFailedError) -> str:
    """The lifecycle's reason for refusing an update, in its own words."""
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or error)


async def _refuse_resubmission(client: Client, ref: AssetRef) -> None:
    try:
        await client.get_workflow_handle(ref.workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return
        raise
    raise WorkflowAlreadyStartedError(ref.workflow_id, LIFECYCLE_WORKFLOW)


async def query_status(
    handle: LifecycleHandle, *, rpc_timeout: timedelta | None = None
) -> AssetStatus:
    """The lifecycle's full state, from its ``status`` query."""
    status: AssetStatus = await handle.query(
        STATUS_QUERY, result_type=AssetStatus, rpc_timeout=rpc_timeout
    )
    return status

"""What every phase of a lifecycle shares: its state and the effects of moving on.

The phases (bundle intake, evaluation, the review round, the published life) each own
the state of their own step; this holds what they all read and write: the ``status``
query view, the metadata, the idempotency keys, and the bookkeeping every move does
(search attributes, current details, the registry's stage row, notices, metrics).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import patches
from workflows.activity_options import (
    LOCAL_REGISTRY_WRITE,
    NOTICE,
    REGISTRY_WRITE,
    local_options,
    options,
)
from workflows.metrics import count

with workflow.unsafe.imports_passed_through():
    from activities.models import Audience, Notice, StageInput
    from activities.notices import NoticeActivities
    from activities.registry import RegistryActivities
    from agent_registry import metrics, temporal
    from agent_registry.assets.manifests import RegistryMetadata
    from agent_registry.lifecycle import wording
    from agent_registry.lifecycle.contract import AssetStatus, StageChange, Submission, Vote
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import EVER_PUBLISHED, SENT_BACK, Decision, Stage
    from agent_registry.lifecycle.transitions import RecordedBy, transition
    from agent_registry.slack.snapshot import review_snapshot

ResultT = TypeVar("ResultT")
ArgT = TypeVar("ArgT")
SelfT = TypeVar("SelfT")

RECORDED_BY_WORKFLOW_BEFORE_MERGE = frozenset(
    {Stage.EVALUATING, Stage.IN_REVIEW, Stage.EVAL_FAILED}
)
"""Stages the store and eval steps record now, which older runs record on their own."""

MAX_REMEMBERED_UPDATES = 200
"""Update ids carried across continue-as-new to deduplicate redeliveries; older ones age out."""


class LifecycleContext:
    """The lifecycle's shared state and bookkeeping, handed to every phase."""

    def __init__(self, submission: Submission) -> None:
        self.status = submission.resume or AssetStatus(
            ref=submission.ref,
            stage=Stage.SUBMITTED,
            owner_team=submission.metadata.owner_team,
            submitter=submission.submitter,
            authors=submission.metadata.authors,
            machine_authored=submission.metadata.machine_authored,
        )
        self.metadata: RegistryMetadata = submission.metadata
        self.processed_updates = list(submission.processed_updates)
        self.merged_steps = False
        """Whether this run writes the registry the merged way (local activities, stages
        written with the step that caused them): decided once, at the start of the run,
        by :data:`workflows.patches.MERGED_STEPS`."""

    # ----- idempotency --------------------------------------------------------------

    @property
    def scope(self) -> str:
        """What keys are scoped to now: a review round (``rev2``) or a cycle (``cycle3``)."""
        if self.status.stage in EVER_PUBLISHED:
            return f"cycle{self.status.recertifications}"
        return f"rev{self.status.revision}"

    def key(self, purpose: str) -> str:
        """The idempotency key of the call made for ``purpose`` in the current scope.

        Derived from what the call is for, not from how many calls came before, so a
        step added to the workflow never shifts the keys of the steps after it.
        """
        info = workflow.info()
        return f"{info.workflow_id}/{info.run_id}/{self.scope}/{purpose}"

    def is_repeat(self) -> bool:
        """Whether the update being handled was applied already, possibly in an earlier run."""
        info = workflow.current_update_info()
        return info is not None and info.id in self.processed_updates

    def remember_update(self) -> None:
        """Remember the update being handled, so a redelivery in a later run is a repeat."""
        info = workflow.current_update_info()
        if info is not None:
            self.processed_updates = [*self.processed_updates, info.id][-MAX_REMEMBERED_UPDATES:]

    # ----- moving between stages ----------------------------------------------------

    async def enter(self, stage: Stage, *, note: str = "") -> None:
        """Move to ``stage`` as the diagram allows: state, search attributes, registry row."""
        move = transition(self.status.stage, stage)
        self.status.stage = stage
        self.history(stage, note)
        deadline = self.status.review_deadline if stage is Stage.IN_REVIEW else None
        updates: list[SearchAttributeUpdate[str] | SearchAttributeUpdate[datetime]] = [
            temporal.LIFECYCLE_STAGE.value_set(stage.value),
            temporal.REVIEW_DEADLINE.value_set(deadline)
            if deadline is not None
            else temporal.REVIEW_DEADLINE.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)
        if stage is not Stage.IN_REVIEW:
            self.status.review_deadline = None
        if move.recorded_by is RecordedBy.WORKFLOW or (
            stage in RECORDED_BY_WORKFLOW_BEFORE_MERGE and not self.merged_steps
        ):
            await self.record_stage(stage, note, purpose=f"stage/{stage.value}")

    def stage_record(self, stage: Stage, note: str, *, purpose: str) -> StageInput:
        """The registry's record of a move to ``stage``, keyed by ``purpose``."""
        plan = self.status.plan
        return StageInput(
            ref=self.status.ref,
            stage=stage,
            actor=self.actor_for(stage),
            event_key=self.key(purpose),
            note=note,
            policy_version=plan.policy_version if plan else None,
        )

    async def record_stage(self, stage: Stage, note: str, *, purpose: str) -> None:
        """Write the stage row (and its audit event) into the registry."""
        await self.registry_step(
            RegistryActivities.record_stage,
            self.stage_record(stage, note, purpose=purpose),
            f"record stage {stage.value}",
        )

    async def registry_step(
        self, step: Callable[[SelfT, ArgT], ResultT], argument: ArgT, summary: str
    ) -> ResultT:
        """Run a short registry step: a local activity, or in older runs an activity.

        A registry write is a few statements in one transaction; as an activity of its
        own it also costs a task to schedule, queue, poll and report, which was most of
        what the lifecycle spent on it. As a local activity it runs inside the workflow
        task, and its result is recorded in the history as a marker.
        """
        if self.merged_steps:
            return await workflow.execute_local_activity_method(
                step, argument, **local_options(LOCAL_REGISTRY_WRITE, summary)
            )
        return await workflow.execute_activity_method(
            step, argument, **options(REGISTRY_WRITE, summary)
        )

    def actor_for(self, stage: Stage) -> str:
        """Who caused a move: the deciding reviewer for a decision, else the registry."""
        if stage in SENT_BACK:
            return self.deciding_vote().reviewer
        return "registry"

    def deciding_vote(self) -> Vote:
        """The rejection or change request that decided the round."""
        return next(v for v in self.status.votes if v.decision is not Decision.APPROVE)

    def history(self, stage: Stage, note: str) -> None:
        """Append a stage change to the status's history."""
        self.status.history.append(StageChange(stage=stage, at=workflow.now(), note=note))

    def set_waiting(self, text: str) -> None:
        """Say what the lifecycle waits for now: in the status and the UI's details."""
        self.status.waiting_for = text
        workflow.set_current_details(
            wording.current_details(self.status.stage, text, self.status.eval)
        )

    def upsert_identity_attributes(self) -> None:
        """Make the version findable in the Temporal UI by kind, name, version and team."""
        ref = self.status.ref
        workflow.upsert_search_attributes(
            [
                temporal.ASSET_KIND.value_set(ref.kind.value),
                temporal.ASSET_NAME.value_set(ref.name),
                temporal.ASSET_VERSION.value_set(ref.version),
                temporal.OWNER_TEAM.value_set(self.status.owner_team),
                temporal.LIFECYCLE_STAGE.value_set(Stage.SUBMITTED.value),
            ]
        )

    def count(self, counter: metrics.Counter, *, tier: bool = True, **extra: str) -> None:
        """Count a lifecycle event (replay safe), by asset kind and, after an eval, tier.

        Recording a metric adds no command to the history, so counting a new event needs
        no ``workflow.patched``: a replayed task records nothing and issues the same
        commands as before.
        """
        attributes = {"kind": self.status.ref.kind.value, **extra}
        if tier:
            attributes["tier"] = wording.tier(self.status.eval)
        count(counter, **attributes)

    async def finish(self) -> AssetStatus:
        """End the run once every update handler is done, saying why it ended."""
        self.set_waiting(wording.final(self.status))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    # ----- telling people -----------------------------------------------------------

    async def notify(
        self,
        audience: Audience,
        event: NoticeEvent,
        text: str,
        *,
        purpose: str = "",
        waited: timedelta | None = None,
        deadline: datetime | None = None,
    ) -> None:
        """Send a notice; given up, not failed, when it cannot be delivered."""
        slack = workflow.patched(patches.SLACK_REVIEW)
        status = self.status
        notice = Notice(
            ref=status.ref,
            event=event,
            audience=audience,
            recipient=status.submitter if audience is Audience.SUBMITTER else None,
            text=text,
            key=self.key(f"notice/{event.value}/{audience.value}{purpose}") if slack else "",
            thread=status.review_message if audience is Audience.REVIEWERS else None,
            snapshot=review_snapshot(status) if slack else None,
            waited=waited,
            deadline=deadline,
        )
        await self.best_effort(
            "send_notice",
            lambda: workflow.execute_activity_method(
                NoticeActivities.send_notice,
                notice,
                **options(NOTICE, f"notify {audience.value}: {event.value}"),
            ),
        )

    async def best_effort(
        self, step: str, call: Callable[[], Awaitable[ResultT]]
    ) -> ResultT | None:
        """Run a notice-like activity whose failure must not end the lifecycle.

        Notices and Slack messages only show the state, which the workflow, the registry
        and the Temporal UI hold anyway; when Slack stays unreachable past the retries,
        the step is given up and logged.
        """
        try:
            return await call()
        except ActivityError as error:
            workflow.logger.warning(
                "%s for %s given up: %s", step, self.status.ref, failure_message(error)
            )
            return None


def failure_message(error: ActivityError) -> str:
    """The activity's own message when it raised one, else the engine's."""
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(error)

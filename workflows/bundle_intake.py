"""Taking bundles in: the first submission, and each revision within its window.

Bundles are stored by content hash (a claim check): only the hash travels on in the
workflow. A revision is accepted after an eval failure or a change request, from the
submitter or an author, within the policy's revision window; a refused one (a bad
bundle) leaves the window open for another try.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activity_options import STORE, options
from workflows.context import LifecycleContext, failure_message

with workflow.unsafe.imports_passed_through():
    from activities.models import Audience, StoreBundleInput
    from activities.registry import RegistryActivities
    from agent_registry.lifecycle import review_rules, wording
    from agent_registry.lifecycle.contract import (
        ReviewPlan,
        RevisionInput,
        VoteResult,
        caller_refusal,
    )
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import REVISABLE, Stage


class BundleIntake:
    """Stores bundles and waits for revisions; the workflow's revise update lands here."""

    def __init__(self, context: LifecycleContext) -> None:
        self._context = context
        self._pending: RevisionInput | None = None
        self._offers = 0
        """Bundles offered in this run, so each store call has a key of its own."""
        self.stored_revisions = 0
        """Revisions stored in this run, so the review phase can bound its history."""

    # ----- the revise update -------------------------------------------------------------

    def check(self, revision: RevisionInput) -> None:
        """Refuse a revision that is not wanted now or not from the asset's people."""
        status = self._context.status
        refused = caller_refusal(revision)
        if refused is not None:
            raise ApplicationError(refused, type="Refused")
        if status.stage not in REVISABLE or self._pending is not None:
            raise ApplicationError(
                f"{status.ref} is {status.stage.value}; a revision is taken only after an "
                "eval failure or a change request",
                type="Refused",
            )
        if not review_rules.is_own_asset(status, revision.author):
            raise ApplicationError(
                f"{revision.author} is neither the submitter nor an author of {status.ref}",
                type="Refused",
            )

    def offer(self, revision: RevisionInput) -> VoteResult:
        """Take a revision the validator accepted; the revision window sees it at once."""
        self._pending = revision
        stage = self._context.status.stage
        return VoteResult(stage=stage, message="revision received; evaluating it")

    # ----- storing -----------------------------------------------------------------

    async def store(self, archive: bytes, *, staged_hash: str | None, actor: str) -> str | None:
        """Store a bundle; its content hash, or None (and why, in the status) when refused."""
        context = self._context
        status = context.status
        request = StoreBundleInput(
            ref=status.ref,
            metadata=context.metadata,
            submitter=status.submitter,
            actor=actor,
            archive=archive,
            staged_hash=staged_hash,
            workflow_id=workflow.info().workflow_id,
            event_key=context.key(f"store/{self._offers}"),
            then_stage=context.stage_record(
                Stage.EVALUATING, "", purpose=f"store/{self._offers}/stage"
            )
            if context.merged_steps
            else None,
        )
        self._offers += 1
        try:
            stored = await workflow.execute_activity_method(
                RegistryActivities.store_bundle,
                request,
                **options(STORE, "store the bundle (claim check)"),
            )
        except ActivityError as error:
            status.outcome_reason = failure_message(error)
            return None
        status.content_hash = stored.content_hash
        return stored.content_hash

    async def receive_revision(self, plan: ReviewPlan) -> str | None:
        """Wait for a revision within the policy's window and store it.

        Returns:
            The stored revision's content hash; None when the window lapsed.
        """
        context = self._context
        status = context.status
        while True:
            until = workflow.now() + plan.revision_window
            context.set_waiting(wording.revision_waiting(until, status.submitter))
            try:
                await workflow.wait_condition(
                    lambda: self._pending is not None, timeout=plan.revision_window
                )
            except TimeoutError:
                status.outcome_reason = "no revision arrived within the revision window"
                await context.record_stage(
                    status.stage, status.outcome_reason, purpose=f"lapsed/{status.stage.value}"
                )
                return None
            revision, self._pending = self._pending, None
            if revision is None:  # the wait above ends only with one pending
                continue
            self._take_metadata(revision)
            stored = await self.store(
                revision.archive, staged_hash=revision.staged_hash, actor=revision.author
            )
            if stored is not None:
                status.revision += 1
                self.stored_revisions += 1
                return stored
            await context.notify(
                Audience.SUBMITTER,
                NoticeEvent.REVISION_REFUSED,
                f"The revision was refused: {status.outcome_reason}",
                purpose=f"/{self._offers}",
            )

    def _take_metadata(self, revision: RevisionInput) -> None:
        context = self._context
        if revision.changelog:
            context.metadata = context.metadata.model_copy(update={"changelog": revision.changelog})
        if revision.false_positives is not None:
            context.metadata = context.metadata.model_copy(
                update={"false_positives": revision.false_positives}
            )

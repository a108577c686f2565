"""The lifecycle of one asset version, read as its state diagram.

One workflow per version, id ``asset/<kind>/<name>/<version>``::

    Submitted                    -> Evaluating
    Evaluating                   -> InReview | EvalFailed
    InReview                     -> Published | ChangesRequested | Rejected
    EvalFailed, ChangesRequested -> Evaluating (a revision arrived)
    Published                   <-> Recertifying
    Published, Recertifying      -> Deprecated -> Retired

The moves are declared in :mod:`agent_registry.lifecycle.transitions`; each phase is a
small class of its own (:mod:`workflows.bundle_intake`, :mod:`workflows.evaluation`,
:mod:`workflows.review_round`, :mod:`workflows.published_life`) sharing one
:class:`~workflows.context.LifecycleContext`. This class only composes them and carries
the handlers Temporal needs on the workflow itself.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # The phases are imported once per process, not once per workflow: the sandbox
    # re-imports what it does not pass through for every lifecycle it runs or caches,
    # and ten small modules per lifecycle cost the idle fleet its memory budget and
    # every new lifecycle a few milliseconds. They hold no state at module level and
    # touch nothing but the workflow API, which is per-workflow by itself.
    from activities.models import Audience, PurgeInput
    from activities.purge import PurgeActivities
    from agent_registry import metrics
    from agent_registry.lifecycle import wording
    from agent_registry.lifecycle.contract import (
        APPROVE_UPDATE,
        ATTEST_UPDATE,
        DEPRECATE_UPDATE,
        LIFECYCLE_WORKFLOW,
        REJECT_UPDATE,
        REQUEST_CHANGES_UPDATE,
        REVISE_UPDATE,
        STATUS_QUERY,
        SUPERSEDE_SIGNAL,
        AssetStatus,
        AttestInput,
        DeprecateInput,
        ReviewInput,
        RevisionInput,
        Submission,
        SupersededSignal,
        VoteResult,
    )
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import Decision, Stage
    from workflows import patches
    from workflows.activity_options import PURGE, options
    from workflows.bundle_intake import BundleIntake
    from workflows.context import LifecycleContext
    from workflows.evaluation import Evaluation
    from workflows.publication import Publication
    from workflows.published_life import PublishedLife
    from workflows.review_round import ReviewRound


MAX_REVISIONS_PER_RUN = 5
"""Revisions one run takes before the review goes on in a new run (continue-as-new)."""


@workflow.defn(name=LIFECYCLE_WORKFLOW)
class AssetLifecycleWorkflow:
    """Drives one asset version from submission to publication, rejection or retirement."""

    @workflow.init
    def __init__(self, submission: Submission) -> None:
        # Set here, not in run: an update in the first workflow task is validated
        # against this state before run starts.
        self._context = LifecycleContext(submission)
        self._intake = BundleIntake(self._context)
        self._evaluation = Evaluation(self._context)
        self._review = ReviewRound(self._context)
        self._publication = Publication(self._context)
        self._life = PublishedLife(self._context, self._evaluation, self._review)

    @workflow.run
    async def run(self, submission: Submission) -> AssetStatus:
        """Run the lifecycle, or the part a continued run goes on with; the final status."""
        context = self._context
        context.merged_steps = workflow.patched(patches.MERGED_STEPS)
        if submission.resume is None:
            return await self._review_phase(await self._submit(submission))
        if submission.resume_phase == "review" and context.status.content_hash is not None:
            return await self._review_phase(context.status.content_hash)
        return await self._life.run_cycle()

    async def _submit(self, submission: Submission) -> str:
        """Take the submitted bundle in; its content hash."""
        context = self._context
        context.upsert_identity_attributes()
        context.count(metrics.SUBMISSIONS, tier=False)
        context.history(Stage.SUBMITTED, "submitted by " + submission.submitter)
        context.set_waiting("storing the bundle")
        content_hash = await self._intake.store(
            submission.archive, staged_hash=submission.staged_hash, actor=submission.submitter
        )
        if content_hash is None:
            raise ApplicationError(context.status.outcome_reason or "submission refused")
        return content_hash

    async def _review_phase(self, content_hash: str) -> AssetStatus:
        """Evaluate, review and revise until published, rejected or out of revisions."""
        context = self._context
        status = context.status
        while True:
            await context.enter(Stage.EVALUATING)
            outcome = await self._evaluation.run(
                content_hash=content_hash, judging_moves_stage=True
            )
            if not outcome.summary.passed:
                context.count(metrics.EVAL_FAILURES)
                note = wording.judged_note(outcome.summary)
                await context.enter(Stage.EVAL_FAILED, note=note)
                await context.notify(Audience.SUBMITTER, NoticeEvent.EVAL_FAILED, note)
            else:
                decision = await self._review.decide(outcome.plan, outcome.summary)
                if decision is Decision.APPROVE:
                    context.count(metrics.APPROVALS)
                    plan = await self._publication.publish(content_hash)
                    if workflow.patched(patches.PUBLISHED_LIFE):
                        await self._publication.supersede_predecessors()
                        return await self._life.run_cycle(plan)
                    return await context.finish()
                if not await self._decided_against(decision):
                    return await context.finish()
            revised = await self._intake.receive_revision(outcome.plan)
            if revised is None:
                if status.stage is Stage.EVAL_FAILED and workflow.patched(patches.SECRET_PURGE):
                    await self._purge_secret_bundle()
                return await context.finish()
            content_hash = revised
            if self._intake.stored_revisions >= MAX_REVISIONS_PER_RUN and workflow.patched(
                patches.REVIEW_CONTINUE_AS_NEW
            ):
                await self._continue_review_as_new()

    async def _continue_review_as_new(self) -> None:
        """Go on with the stored revision in a new run, so history stays bounded.

        A version sent back again and again would otherwise grow one run's history with
        every round; the new run starts by evaluating the revision just stored.
        """
        context = self._context
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            Submission(
                ref=context.status.ref,
                metadata=context.metadata,
                submitter=context.status.submitter,
                resume=context.status,
                resume_phase="review",
                processed_updates=context.processed_updates,
            )
        )

    async def _decided_against(self, decision: Decision) -> bool:
        """Apply a rejection or a change request; whether a revision may follow."""
        context = self._context
        reason = context.deciding_vote().reason or ""
        if decision is Decision.REJECT:
            context.count(metrics.REJECTIONS)
            context.status.outcome_reason = reason
            await context.enter(Stage.REJECTED, note=reason)
            await context.notify(Audience.SUBMITTER, NoticeEvent.REJECTED, f"Rejected: {reason}")
            return False
        context.count(metrics.CHANGES_REQUESTED)
        await context.enter(Stage.CHANGES_REQUESTED, note=reason)
        await context.notify(
            Audience.SUBMITTER, NoticeEvent.CHANGES_REQUESTED, f"Changes requested: {reason}"
        )
        return True

    async def _purge_secret_bundle(self) -> None:
        """Purge the bundle when the eval bar blocked it for a secret and no revision came.

        The window for a false-positive mark is over, so keeping the bytes would only
        keep the leak. The activity checks the database (still EvalFailed, blocked by a
        ``secrets.*`` check, no other version using the bytes) and audits the hash and
        the finding ids; it is idempotent, so retries are safe.
        """
        await workflow.execute_activity_method(
            PurgeActivities.purge_secret_bundle,
            PurgeInput(ref=self._context.status.ref),
            **options(PURGE, "purge a bundle blocked for a secret"),
        )

    # ----- what people send: thin handlers over the phases -----------------------------

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> AssetStatus:
        """The full state of this version's lifecycle."""
        return self._context.status

    @workflow.update(name=APPROVE_UPDATE)
    def approve(self, vote: ReviewInput) -> VoteResult:
        """Approve the version under review."""
        return self._review.cast(Decision.APPROVE, vote)

    @approve.validator
    def _validate_approve(self, vote: ReviewInput) -> None:
        self._review.check(Decision.APPROVE, vote)

    @workflow.update(name=REJECT_UPDATE)
    def reject(self, vote: ReviewInput) -> VoteResult:
        """Reject the version under review; the reason is required."""
        return self._review.cast(Decision.REJECT, vote)

    @reject.validator
    def _validate_reject(self, vote: ReviewInput) -> None:
        self._review.check(Decision.REJECT, vote)

    @workflow.update(name=REQUEST_CHANGES_UPDATE)
    def request_changes(self, vote: ReviewInput) -> VoteResult:
        """Ask the submitter for changes; the reason is required."""
        return self._review.cast(Decision.REQUEST_CHANGES, vote)

    @request_changes.validator
    def _validate_request_changes(self, vote: ReviewInput) -> None:
        self._review.check(Decision.REQUEST_CHANGES, vote)

    @workflow.update(name=REVISE_UPDATE)
    def revise(self, revision: RevisionInput) -> VoteResult:
        """Send new content for this version after an eval failure or a change request."""
        return self._intake.offer(revision)

    @revise.validator
    def _validate_revise(self, revision: RevisionInput) -> None:
        self._intake.check(revision)

    @workflow.update(name=ATTEST_UPDATE)
    def attest(self, attest: AttestInput) -> VoteResult:
        """The owner team attests that the version is still fit for use."""
        return self._life.attest(attest)

    @attest.validator
    def _validate_attest(self, attest: AttestInput) -> None:
        self._life.check_attest(attest)

    @workflow.update(name=DEPRECATE_UPDATE)
    def deprecate(self, request: DeprecateInput) -> VoteResult:
        """Deprecate the published version (owner team or platform team)."""
        return self._life.deprecate(request)

    @deprecate.validator
    def _validate_deprecate(self, request: DeprecateInput) -> None:
        self._life.check_deprecate(request)

    @workflow.signal(name=SUPERSEDE_SIGNAL)
    def superseded(self, signal: SupersededSignal) -> None:
        """A newer version was published: deprecate this one in its favour."""
        self._life.superseded(signal)

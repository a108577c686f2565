"""The lifecycle of one asset version: submission, eval, review, publication.

One workflow per version, id ``asset/<kind>/<name>/<version>``. It only orchestrates:
every decision that needs I/O (the policy, the eval bar) arrives as an activity result,
and every rule about votes lives in :mod:`agent_registry.lifecycle.review_rules`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.metrics import count

with workflow.unsafe.imports_passed_through():
    from activities.behaviour import BEHAVIOUR_ACTIVITY
    from activities.models import (
        Audience,
        BehaviourInput,
        BehaviourOutput,
        DecisionInput,
        DeprecationInput,
        EvalOutcome,
        EvaluateInput,
        LifePlanInput,
        Notice,
        ProbeInput,
        ProbeOutput,
        PublishInput,
        PurgeInput,
        RecertificationInput,
        RetireInput,
        ReviewMessageUpdate,
        ReviewRequestInput,
        StageInput,
        StoreBundleInput,
        StoredBundle,
    )
    from activities.probe import PROBE_ACTIVITY
    from agent_registry import metrics, temporal
    from agent_registry.lifecycle import life_rules, review_rules
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
        Deprecation,
        LifePlan,
        ReviewInput,
        RevisionInput,
        SlackMessageRef,
        StageChange,
        Submission,
        SupersededSignal,
        Vote,
        VoteResult,
        caller_refusal,
    )
    from agent_registry.lifecycle.stages import Decision, Stage

REGISTRY_TIMEOUT = timedelta(seconds=30)
"""A registry write is a few small statements; longer means the database is in trouble."""

STORE_TIMEOUT = timedelta(seconds=60)
"""Storing re-reads and re-archives a bundle of at most a few MiB."""

EVAL_TIMEOUT = timedelta(minutes=5)
"""The static eval bar takes well under a second; a live MCP probe up to two minutes."""

EVAL_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
"""The eval activity heartbeats every 5 s; four missed beats mean its worker is gone,
and the evaluation is retried on another worker instead of after ``EVAL_TIMEOUT``."""

PROBE_TIMEOUT = timedelta(minutes=5)
"""One probe attempt: installing the server's pinned packages, then at most the policy's
two-minute probe timeout."""

PROBE_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
"""The probe activity heartbeats every 5 s; a probe worker that is gone is noticed here."""

PROBE_DEADLINE = timedelta(minutes=30)
"""From asking for the probe to giving up on it, waiting for a probe worker included.

With no probe worker polling, the request would otherwise wait forever; past this the
evaluation records a blocking ``probe.failed`` saying the probe did not complete."""

PROBE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=3,
)
"""A server that kills its probe worker three times is not given a fourth."""

PROBE_QUEUE_SUFFIX = "-probe"
"""Probe workers poll the lifecycle's task queue name with this suffix."""

SANDBOXED_PROBE_PATCH = "sandboxed-probe-workers"
"""Lifecycles started before the probe moved to probe workers still probe in the eval."""

BEHAVIOUR_EVALS_PATCH = "behavioural-evals"
"""Lifecycles started before behavioural evals were wired evaluate without them."""

BEHAVIOUR_TIMEOUT = timedelta(hours=2, minutes=5)
"""One behavioural eval attempt: at most the policy's timeout (2 h at most) and clean-up."""

BEHAVIOUR_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
"""The behaviour activity heartbeats every 5 s; a probe worker that is gone is noticed here."""

BEHAVIOUR_DEADLINE = timedelta(hours=3)
"""From asking for the behavioural evals to giving up, waiting for a probe worker included;
past it the evaluation records ``evals.not-run`` saying the run did not complete."""

BEHAVIOUR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=2,
)
"""Each attempt spends model credit: one retry for a lost worker, no more."""


REGISTRY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""Unlimited attempts: a database outage must delay a decision, never lose it."""

NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
)
"""A notice that cannot be delivered for ~10 minutes is given up; the state is in the UI."""

SLACK_TIMEOUT = timedelta(seconds=60)
"""Covers Slack's rate-limit backoff (Retry-After) inside one attempt."""

PUBLISHED_LIFE_PATCH = "published-life"
"""Lifecycles that ended at publication before re-certification existed still end there."""

MAX_REMEMBERED_UPDATES = 200
"""Update ids carried across continue-as-new to deduplicate redeliveries; older ones age out."""

SLACK_REVIEW_PATCH = "slack-review-messages"
"""Lifecycles started before review requests became Slack messages keep their old steps."""

SLACK_LIFE_PATCH = "slack-life-actions"
"""Lifecycles deprecated or retired before the review message followed the published life
do not edit it."""

SECRET_PURGE_PATCH = "purge-secret-bundles"  # noqa: S105 - a patch id, no secret
"""Lifecycles that ended blocked before the purge moved into them leave it to
``agentreg db purge-secrets``."""

PURGE_TIMEOUT = timedelta(seconds=30)
"""One purge: a row lookup, a delete and an audit event."""

REVIEW_STAGES = (Stage.IN_REVIEW,)
REVISABLE_STAGES = (Stage.EVAL_FAILED, Stage.CHANGES_REQUESTED)


@workflow.defn(name=LIFECYCLE_WORKFLOW)
class AssetLifecycleWorkflow:
    """Drives one asset version from submission to publication, rejection or lapse."""

    @workflow.init
    def __init__(self, submission: Submission) -> None:
        # Set here, not in run: an update in the first workflow task is validated
        # against this state before run starts.
        self._status = AssetStatus(
            ref=submission.ref,
            stage=Stage.SUBMITTED,
            owner_team=submission.metadata.owner_team,
            submitter=submission.submitter,
            authors=submission.metadata.authors,
            machine_authored=submission.metadata.machine_authored,
        )
        if submission.resume is not None:
            self._status = submission.resume
        self._metadata = submission.metadata
        self._processed_updates = list(submission.processed_updates)
        self._deprecation_request: DeprecateInput | None = None
        self._pending_revision: RevisionInput | None = None
        self._recorded_votes = 0
        self._event_seq = 0

    @workflow.run
    async def run(self, submission: Submission) -> AssetStatus:
        """Run the lifecycle and return the final status."""
        if submission.resume is not None:
            return await self._published_life()
        self._upsert_identity_attributes()
        self._count(metrics.SUBMISSIONS, tier=False)
        self._history(Stage.SUBMITTED, "submitted by " + submission.submitter)
        self._set_waiting("storing the bundle")
        stored = await self._store(
            submission.archive, staged_hash=submission.staged_hash, actor=submission.submitter
        )
        if stored is None:
            raise ApplicationError(self._status.outcome_reason or "submission refused")
        while True:
            outcome = await self._evaluate()
            if not outcome.summary.passed:
                self._count(metrics.EVAL_FAILURES)
                await self._enter(Stage.EVAL_FAILED, note=self._eval_note())
                await self._notify(Audience.SUBMITTER, "eval-failed", self._eval_note())
                if not await self._receive_revision():
                    if workflow.patched(SECRET_PURGE_PATCH):
                        await self._purge_secret_bundle()
                    return await self._finish()
                continue
            decision = await self._review()
            if decision is Decision.APPROVE:
                self._count(metrics.APPROVALS)
                await self._publish()
                if workflow.patched(PUBLISHED_LIFE_PATCH):
                    await self._supersede_predecessors()
                    return await self._published_life()
                return await self._finish()
            reason = self._deciding_vote().reason or ""
            if decision is Decision.REJECT:
                self._count(metrics.REJECTIONS)
                self._status.outcome_reason = reason
                await self._enter(Stage.REJECTED, note=reason)
                await self._notify(Audience.SUBMITTER, "rejected", f"Rejected: {reason}")
                return await self._finish()
            self._count(metrics.CHANGES_REQUESTED)
            await self._enter(Stage.CHANGES_REQUESTED, note=reason)
            await self._notify(
                Audience.SUBMITTER, "changes-requested", f"Changes requested: {reason}"
            )
            if not await self._receive_revision():
                return await self._finish()

    # ----- human input -------------------------------------------------------------

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> AssetStatus:
        """The full state of this version's lifecycle."""
        return self._status

    @workflow.update(name=APPROVE_UPDATE)
    def approve(self, vote: ReviewInput) -> VoteResult:
        """Approve the version under review."""
        return self._cast(Decision.APPROVE, vote)

    @approve.validator
    def _validate_approve(self, vote: ReviewInput) -> None:
        self._check_vote(Decision.APPROVE, vote)

    @workflow.update(name=REJECT_UPDATE)
    def reject(self, vote: ReviewInput) -> VoteResult:
        """Reject the version under review; the reason is required."""
        return self._cast(Decision.REJECT, vote)

    @reject.validator
    def _validate_reject(self, vote: ReviewInput) -> None:
        self._check_vote(Decision.REJECT, vote)

    @workflow.update(name=REQUEST_CHANGES_UPDATE)
    def request_changes(self, vote: ReviewInput) -> VoteResult:
        """Ask the submitter for changes; the reason is required."""
        return self._cast(Decision.REQUEST_CHANGES, vote)

    @request_changes.validator
    def _validate_request_changes(self, vote: ReviewInput) -> None:
        self._check_vote(Decision.REQUEST_CHANGES, vote)

    @workflow.update(name=REVISE_UPDATE)
    def revise(self, revision: RevisionInput) -> VoteResult:
        """Send new content for this version after an eval failure or a change request."""
        self._pending_revision = revision
        return VoteResult(stage=self._status.stage, message="revision received; evaluating it")

    @revise.validator
    def _validate_revise(self, revision: RevisionInput) -> None:
        status = self._status
        refused = caller_refusal(revision)
        if refused is not None:
            raise ApplicationError(refused, type="Refused")
        if status.stage not in REVISABLE_STAGES or self._pending_revision is not None:
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

    @workflow.update(name=ATTEST_UPDATE)
    def attest(self, attest: AttestInput) -> VoteResult:
        """The owner team attests that the version is still fit for use."""
        if self._is_repeat():
            return VoteResult(stage=self._status.stage, message="attestation already recorded")
        self._remember_update()
        self._status.attested_by = attest.attester
        return VoteResult(
            stage=self._status.stage,
            message=f"attested; {self._status.ref} stays published for another cycle",
        )

    @attest.validator
    def _validate_attest(self, attest: AttestInput) -> None:
        if self._is_repeat():
            return
        reason = caller_refusal(attest) or life_rules.attest_refusal(self._status, attest)
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    @workflow.update(name=DEPRECATE_UPDATE)
    def deprecate(self, request: DeprecateInput) -> VoteResult:
        """Deprecate the published version (owner team or platform team)."""
        if self._is_repeat():
            return VoteResult(stage=self._status.stage, message="deprecation already recorded")
        self._remember_update()
        self._deprecation_request = request
        return VoteResult(
            stage=self._status.stage, message=f"deprecation of {self._status.ref} accepted"
        )

    @deprecate.validator
    def _validate_deprecate(self, request: DeprecateInput) -> None:
        if self._is_repeat():
            return
        reason = caller_refusal(request) or life_rules.deprecate_refusal(
            self._status, request, now=workflow.now()
        )
        if reason is None and self._deprecation_request is not None:
            reason = f"{self._status.ref} is already being deprecated"
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    @workflow.signal(name=SUPERSEDE_SIGNAL)
    def superseded(self, signal: SupersededSignal) -> None:
        """A newer version was published: deprecate this one in its favour."""
        if (
            self._status.stage in life_rules.DEPRECATABLE_STAGES
            and self._deprecation_request is None
        ):
            self._deprecation_request = DeprecateInput(
                system="registry",
                reason=f"superseded by {signal.replacement}",
                replacement=signal.replacement,
            )

    def _is_repeat(self) -> bool:
        """Whether this update id was applied already, possibly in an earlier run."""
        return workflow.current_update_info().id in self._processed_updates  # type: ignore[union-attr]

    def _remember_update(self) -> None:
        info = workflow.current_update_info()
        assert info is not None
        self._processed_updates = [*self._processed_updates, info.id][-MAX_REMEMBERED_UPDATES:]

    def _check_vote(self, decision: Decision, vote: ReviewInput) -> None:
        reason = caller_refusal(vote) or review_rules.refusal(self._status, decision, vote)
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    def _cast(self, decision: Decision, vote: ReviewInput) -> VoteResult:
        # Synchronous on purpose: the vote lands in the same step as its validator, so a
        # second vote's validator always sees it (no double decision).
        self._status.votes.append(
            Vote(
                reviewer=vote.reviewer,
                decision=decision,
                reason=vote.reason,
                source=vote.source,
                verified_groups=vote.groups,
                at=workflow.now(),
            )
        )
        plan = self._status.plan
        assert plan is not None  # the validator refuses votes outside a review
        decided = review_rules.outcome(plan, self._status.votes)
        ref = self._status.ref
        if decided is None:
            missing = ", ".join(review_rules.missing_approvals(plan, self._status.votes))
            message = f"approval recorded; {ref} still needs {missing}"
            self._set_waiting(self._review_waiting_text())
        elif decided is Decision.APPROVE:
            message = f"approved; {ref} has the approvals it needs and is being published"
        elif decided is Decision.REJECT:
            message = f"rejected; {ref} will not be published"
        else:
            message = f"changes requested; {ref} waits for a revision from {self._status.submitter}"
        return VoteResult(stage=self._status.stage, message=message)

    # ----- stages ------------------------------------------------------------------

    async def _store(
        self, archive: bytes, *, staged_hash: str | None, actor: str
    ) -> StoredBundle | None:
        """Store a bundle; on refusal record why and return None."""
        try:
            stored: StoredBundle = await workflow.execute_activity(
                "store_bundle",
                StoreBundleInput(
                    ref=self._status.ref,
                    metadata=self._metadata,
                    submitter=self._status.submitter,
                    actor=actor,
                    archive=archive,
                    staged_hash=staged_hash,
                    workflow_id=workflow.info().workflow_id,
                    event_key=self._next_key(),
                ),
                result_type=StoredBundle,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=REGISTRY_RETRY,
                summary="store the bundle (claim check)",
            )
        except ActivityError as error:
            self._status.outcome_reason = _failure_message(error)
            return None
        self._status.content_hash = stored.content_hash
        return stored

    async def _evaluate(self, *, enter: bool = True) -> EvalOutcome:
        if enter:
            await self._enter(Stage.EVALUATING)
        self._set_waiting("running the eval bar")
        assert self._status.content_hash is not None
        request = EvaluateInput(
            ref=self._status.ref,
            content_hash=self._status.content_hash,
            run_key=self._next_key(),
            false_positives=self._metadata.false_positives,
        )
        if workflow.patched(SANDBOXED_PROBE_PATCH):
            steps: dict[str, object] = {"probe": "defer"}
            if workflow.patched(BEHAVIOUR_EVALS_PATCH):
                steps["behaviour"] = "defer"
            outcome = await self._run_eval(request.model_copy(update=steps))
            if outcome.probe_request is not None:
                steps.update(await self._probe(outcome.probe_request))
                outcome = await self._run_eval(request.model_copy(update=steps))
            if outcome.behaviour_request is not None:
                steps.update(await self._behave(outcome.behaviour_request))
                outcome = await self._run_eval(request.model_copy(update=steps))
        else:
            outcome = await self._run_eval(request)
        self._status.eval = outcome.summary
        self._status.plan = outcome.plan
        self._count(metrics.EVAL_RUNS, result="passed" if outcome.summary.passed else "failed")
        if any(f.check_id in metrics.PROBE_FAILURE_CHECKS for f in outcome.summary.top_findings):
            self._count(metrics.PROBE_FAILURES)
        workflow.upsert_search_attributes(
            [temporal.RISK_TIER.value_set(outcome.summary.risk_tier.value)]
        )
        return outcome

    async def _run_eval(self, request: EvaluateInput) -> EvalOutcome:
        outcome: EvalOutcome = await workflow.execute_activity(
            "evaluate_version",
            request,
            result_type=EvalOutcome,
            start_to_close_timeout=EVAL_TIMEOUT,
            heartbeat_timeout=EVAL_HEARTBEAT_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="run the eval bar",
        )
        return outcome

    async def _probe(self, request: ProbeInput) -> dict[str, object]:
        """Run the live probe on a probe worker; what the judging evaluation is given.

        A probe that no probe worker completes (none polling, or each attempt lost) ends
        at :data:`PROBE_DEADLINE` and becomes the reason of a blocking finding.
        """
        return await self._on_probe_worker(
            "probe",
            PROBE_ACTIVITY,
            request,
            ProbeOutput,
            waiting="running the live probe of the MCP server on a probe worker",
            summary="run the live MCP probe in the sandbox",
            deadline=PROBE_DEADLINE,
            attempt=PROBE_TIMEOUT,
            heartbeat=PROBE_HEARTBEAT_TIMEOUT,
            retry=PROBE_RETRY,
        )

    async def _behave(self, request: BehaviourInput) -> dict[str, object]:
        """Run the asset's behavioural eval cases on a probe worker; what judging is given.

        A run that no probe worker completes ends at :data:`BEHAVIOUR_DEADLINE` and becomes
        the reason of an ``evals.not-run`` finding, judged under the policy.
        """
        return await self._on_probe_worker(
            "behaviour",
            BEHAVIOUR_ACTIVITY,
            request,
            BehaviourOutput,
            waiting="running the behavioural evals on a probe worker",
            summary="run the behavioural evals",
            deadline=BEHAVIOUR_DEADLINE,
            attempt=BEHAVIOUR_TIMEOUT,
            heartbeat=BEHAVIOUR_HEARTBEAT_TIMEOUT,
            retry=BEHAVIOUR_RETRY,
        )

    async def _on_probe_worker(
        self,
        step: str,
        activity: str,
        request: object,
        result_type: type[object],
        *,
        waiting: str,
        summary: str,
        deadline: timedelta,
        attempt: timedelta,
        heartbeat: timedelta,
        retry: RetryPolicy,
    ) -> dict[str, object]:
        """Run ``activity`` on the probe workers' queue; ``step``'s fields for judging.

        One way for every step that runs untrusted code: on the probe queue, bounded by a
        deadline that covers waiting for a worker, and a failure becomes
        ``<step>_failure`` for the evaluation to judge rather than failing the lifecycle.
        """
        self._set_waiting(waiting)
        try:
            output = await workflow.execute_activity(
                activity,
                request,
                result_type=result_type,
                task_queue=workflow.info().task_queue + PROBE_QUEUE_SUFFIX,
                schedule_to_close_timeout=deadline,
                start_to_close_timeout=attempt,
                heartbeat_timeout=heartbeat,
                retry_policy=retry,
                summary=summary,
            )
        except ActivityError as error:
            return {step: "given", f"{step}_failure": _failure_message(error)}
        return {step: "given", f"{step}_output": output}

    async def _review(self) -> Decision:
        """Wait for the review's decision, reminding and escalating on the policy's SLA."""
        plan = self._status.plan
        assert plan is not None
        self._status.votes = []
        self._recorded_votes = 0
        started = workflow.now()
        self._status.review_deadline = started + plan.sla
        await self._enter(Stage.IN_REVIEW, note=f"risk {self._tier()}")
        self._set_waiting(self._review_waiting_text())
        if workflow.patched(SLACK_REVIEW_PATCH):
            self._status.review_message = await self._post_review_request()
        else:
            await self._notify(Audience.REVIEWERS, "review-requested", self._review_request_text())
        alarms = [
            (started + plan.sla, Audience.REVIEWERS, "review-reminder"),
            (started + plan.escalate_after, Audience.PLATFORM, "review-escalated"),
        ]
        while True:
            await self._record_new_votes()
            decided = review_rules.outcome(plan, self._status.votes)
            if decided is not None:
                return decided
            self._set_waiting(self._review_waiting_text())
            timeout = None if not alarms else max(alarms[0][0] - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda: len(self._status.votes) > self._recorded_votes, timeout=timeout
                )
            except TimeoutError:
                _, audience, event = alarms.pop(0)
                waited = workflow.now() - started
                if event == "review-reminder":
                    self._count(metrics.REVIEW_SLA_BREACHES)
                await self._notify(
                    audience,
                    event,
                    f"In review for {_human_duration(waited)}; {self._review_waiting_text()}",
                    waited=waited,
                )

    async def _record_new_votes(self) -> None:
        if self._recorded_votes == len(self._status.votes):
            return
        while self._recorded_votes < len(self._status.votes):
            vote = self._status.votes[self._recorded_votes]
            await workflow.execute_activity(
                "record_decision",
                DecisionInput(ref=self._status.ref, decision_key=self._next_key(), vote=vote),
                start_to_close_timeout=REGISTRY_TIMEOUT,
                retry_policy=REGISTRY_RETRY,
                summary=f"record {vote.decision.value} by {vote.reviewer}",
            )
            self._recorded_votes += 1
            self._count(metrics.VOTES, decision=vote.decision.value)
        if workflow.patched(SLACK_REVIEW_PATCH) and self._status.review_message is not None:
            await self._update_review_message(self._status.review_message)

    async def _post_review_request(self) -> SlackMessageRef | None:
        message = await self._best_effort(
            "post_review_request",
            ReviewRequestInput(status=self._status, key=self._next_key()),
            summary="post the review request",
            result_type=SlackMessageRef,
        )
        return message if isinstance(message, SlackMessageRef) else None

    async def _update_review_message(self, message: SlackMessageRef) -> None:
        plan = self._status.plan
        assert plan is not None
        decided = review_rules.outcome(plan, self._status.votes)
        deciding = None
        if decided is Decision.APPROVE:
            deciding = self._status.votes[-1]
        elif decided is not None:
            deciding = self._deciding_vote()
        await self._best_effort(
            "update_review_message",
            ReviewMessageUpdate(status=self._status, message=message, decision=deciding),
            summary="show the vote on the review request",
        )

    async def _receive_revision(self) -> bool:
        """Wait for a revision within the policy's window and store it.

        Returns:
            True when a revision was stored; False when the window lapsed.
        """
        plan = self._status.plan
        assert plan is not None
        while True:
            until = workflow.now() + plan.revision_window
            self._set_waiting(
                f"waiting for a revision until {_when(until)} "
                f"(`agentreg revise PATH --as {self._status.submitter}`)"
            )
            try:
                await workflow.wait_condition(
                    lambda: self._pending_revision is not None, timeout=plan.revision_window
                )
            except TimeoutError:
                self._status.outcome_reason = "no revision arrived within the revision window"
                await self._record_stage(self._status.stage, self._status.outcome_reason)
                return False
            revision = self._pending_revision
            assert revision is not None
            self._pending_revision = None
            if revision.changelog:
                self._metadata = self._metadata.model_copy(update={"changelog": revision.changelog})
            if revision.false_positives is not None:
                self._metadata = self._metadata.model_copy(
                    update={"false_positives": revision.false_positives}
                )
            if (
                await self._store(
                    revision.archive, staged_hash=revision.staged_hash, actor=revision.author
                )
                is not None
            ):
                self._status.revision += 1
                return True
            await self._notify(
                Audience.SUBMITTER,
                "revision-refused",
                f"The revision was refused: {self._status.outcome_reason}",
            )

    async def _publish(self) -> None:
        assert self._status.content_hash is not None
        approvers = self._status.approvers
        await workflow.execute_activity(
            "publish_version",
            PublishInput(
                ref=self._status.ref,
                content_hash=self._status.content_hash,
                approvers=approvers,
                event_key=self._next_key(),
            ),
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="publish the approved content",
        )
        self._count(metrics.PUBLICATIONS)
        note = "approved by " + ", ".join(approvers)
        await self._enter(Stage.PUBLISHED, note=note, record=False)
        self._set_waiting(f"published ({note})")
        await self._notify(
            Audience.SUBMITTER,
            "published",
            f"Published ({note}); content hash {self._status.content_hash}",
        )

    async def _purge_secret_bundle(self) -> None:
        """Purge the bundle when the eval bar blocked it for a secret and no revision came.

        The window for a false-positive mark is over, so keeping the bytes would only
        keep the leak. The activity checks the database (still EvalFailed, blocked by a
        ``secrets.*`` check, no other version using the bytes) and audits the hash and
        the finding ids; it is idempotent, so retries are safe.
        """
        await workflow.execute_activity(
            "purge_secret_bundle",
            PurgeInput(ref=self._status.ref),
            result_type=bool,
            start_to_close_timeout=PURGE_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="purge a bundle blocked for a secret",
        )

    async def _finish(self) -> AssetStatus:
        self._set_waiting(self._final_text())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    # ----- published life ----------------------------------------------------------

    async def _supersede_predecessors(self) -> None:
        await workflow.execute_activity(
            "supersede_predecessors",
            self._status.ref,
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="deprecate older published versions in favour of this one",
        )

    async def _published_life(self) -> AssetStatus:
        """One re-certification cycle per run; deprecation and retirement end the life."""
        life = await self._life_plan()
        if self._status.recertify_by is None:
            await self._schedule_recertification(workflow.now() + life.recertify_every)
        due = self._status.recertify_by
        assert due is not None
        self._set_waiting(f"published; re-certification due {_when(due)}")  # when resumed
        if not await self._deprecation_arrives(until=due) and await self._recertify(life):
            # The cycle passed: start the next one as a new run, so history stays short.
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                Submission(
                    ref=self._status.ref,
                    metadata=self._metadata,
                    submitter=self._status.submitter,
                    archive=b"",
                    resume=self._status,
                    processed_updates=self._processed_updates,
                ),
                # Under Worker Versioning a lifecycle is pinned to its build; each new
                # cycle starts on the deployment's current build instead, so long-lived
                # lifecycles leave an old build within one re-certification period.
                initial_versioning_behavior=workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE,
            )
        await self._retire_at_sunset()
        return await self._finish()

    async def _life_plan(self) -> LifePlan:
        status = self._status
        life: LifePlan = await workflow.execute_activity(
            "life_plan",
            LifePlanInput(
                risk_tier=status.eval.risk_tier if status.eval else "high",
                owner_team=status.owner_team,
                submitter=status.submitter,
                authors=status.authors,
            ),
            result_type=LifePlan,
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="read the policy for the published life",
        )
        status.life = life
        return life

    async def _schedule_recertification(self, due: datetime, *, passed: bool = False) -> None:
        self._status.recertify_by = due
        self._set_waiting(f"published; re-certification due {_when(due)}")
        workflow.upsert_search_attributes([temporal.RECERTIFY_BY.value_set(due)])
        life = self._status.life
        await workflow.execute_activity(
            "record_recertification",
            RecertificationInput(
                ref=self._status.ref,
                recertify_by=due,
                event_key=self._next_key(),
                passed_cycle=passed,
                policy_version=life.policy_version if life else None,
            ),
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary=f"re-certification due {_when(due)}",
        )

    async def _deprecation_arrives(self, *, until: datetime) -> bool:
        """Wait until ``until`` for a deprecation; apply it if one comes.

        Returns:
            True when the version was deprecated, False when ``until`` came first.
        """
        try:
            await workflow.wait_condition(
                lambda: self._deprecation_request is not None,
                timeout=max(until - workflow.now(), timedelta(0)),
            )
        except TimeoutError:
            return False
        assert self._deprecation_request is not None
        await self._deprecate(self._deprecation_request)
        return True

    async def _recertify(self, life: LifePlan) -> bool:
        """Run a re-certification: evals under today's policy, then the owner's attestation.

        Returns:
            True when the version stays published; False when it was deprecated.
        """
        status = self._status
        status.attested_by = None
        await self._enter(Stage.RECERTIFYING, note=f"cycle {status.recertifications + 1}")
        outcome = await self._evaluate(enter=False)
        if not outcome.summary.passed:
            self._count(metrics.EVAL_FAILURES)
            await self._deprecate(
                DeprecateInput(
                    system="registry",
                    reason="re-certification failed: the eval bar now blocks "
                    f"({self._eval_note()})",
                )
            )
            return False
        started = workflow.now()
        deadline = started + life.grace
        command = f"`agentreg attest {status.ref} --as YOU`"
        self._set_waiting(f"waiting for team {status.owner_team} to attest by {_when(deadline)}")
        await self._notify(
            Audience.SUBMITTER,
            "attestation-requested",
            f"{status.ref} is due for re-certification; team {status.owner_team} attests with "
            f"{command} by {_when(deadline)}, or it is deprecated",
            deadline=deadline,
        )
        for alarm in (started + life.grace / 2, deadline):
            try:
                await workflow.wait_condition(
                    lambda: status.attested_by is not None or self._deprecation_request is not None,
                    timeout=max(alarm - workflow.now(), timedelta(0)),
                )
                break
            except TimeoutError:
                if alarm != deadline:
                    await self._notify(
                        Audience.SUBMITTER,
                        "attestation-reminder",
                        f"{status.ref} still needs its attestation ({command}) "
                        f"by {_when(deadline)}",
                        deadline=deadline,
                    )
        if self._deprecation_request is not None:
            await self._deprecate(self._deprecation_request)
            return False
        if status.attested_by is None:
            self._count(metrics.RECERTIFICATION_LAPSES)
            await self._deprecate(
                DeprecateInput(
                    system="registry",
                    reason="re-certification lapsed: nobody attested within the grace period",
                )
            )
            return False
        status.recertifications += 1
        await self._schedule_recertification(workflow.now() + life.recertify_every, passed=True)
        await self._enter(
            Stage.PUBLISHED, note=f"re-certified, attested by {status.attested_by}", record=False
        )
        return True

    async def _deprecate(self, request: DeprecateInput) -> None:
        status = self._status
        life = status.life
        now = workflow.now()
        sunset = request.sunset or now + (life.sunset_after if life else timedelta(days=30))
        status.deprecation = Deprecation(
            reason=request.reason,
            by=request.actor,
            at=now,
            sunset_at=sunset,
            replacement=request.replacement,
        )
        await workflow.execute_activity(
            "deprecate_version",
            DeprecationInput(
                ref=status.ref,
                reason=request.reason,
                by=request.actor,
                replacement=request.replacement,
                sunset_at=sunset,
                event_key=self._next_key(),
            ),
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="record the deprecation",
        )
        status.recertify_by = None
        workflow.upsert_search_attributes([temporal.RECERTIFY_BY.value_unset()])
        self._count(metrics.DEPRECATIONS)
        await self._enter(Stage.DEPRECATED, note=request.reason, record=False)
        await self._show_life_on_review_message()
        use = f"; use {request.replacement} instead" if request.replacement else ""
        text = f"{status.ref} is deprecated: {request.reason}{use}. It retires on {_when(sunset)}."
        self._set_waiting(f"deprecated; retires {_when(sunset)}")
        await self._notify(Audience.SUBMITTER, "deprecated", text)
        await self._notify(Audience.PLATFORM, "deprecated", text)

    async def _retire_at_sunset(self) -> None:
        deprecation = self._status.deprecation
        assert deprecation is not None
        await workflow.sleep(max(deprecation.sunset_at - workflow.now(), timedelta(0)))
        await workflow.execute_activity(
            "retire_version",
            RetireInput(ref=self._status.ref, event_key=self._next_key()),
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary="retire the version",
        )
        self._status.outcome_reason = deprecation.reason
        self._count(metrics.RETIREMENTS)
        await self._enter(Stage.RETIRED, note=deprecation.reason, record=False)
        await self._show_life_on_review_message()
        await self._notify(
            Audience.SUBMITTER, "retired", f"{self._status.ref} is retired: {deprecation.reason}"
        )

    async def _show_life_on_review_message(self) -> None:
        """Say on the review message that the version was deprecated or retired.

        The approved review message offers Deprecate; left as it was, it would keep
        offering an action the lifecycle now refuses, and hide the version's fate from
        the channel where it was reviewed. The edit is only a view of the state: when
        Slack stays unreachable it is given up, and the lifecycle goes on to retirement.
        """
        message = self._status.review_message
        approval = next(
            (v for v in reversed(self._status.votes) if v.decision is Decision.APPROVE), None
        )
        if message is None or approval is None or not workflow.patched(SLACK_LIFE_PATCH):
            return
        await self._best_effort(
            "update_review_message",
            ReviewMessageUpdate(status=self._status, message=message, decision=approval),
            summary=f"show {self._status.stage.value} on the review message",
        )

    # ----- bookkeeping -------------------------------------------------------------

    async def _enter(self, stage: Stage, *, note: str = "", record: bool = True) -> None:
        """Move to ``stage``: state, search attributes, details, and the registry row."""
        self._status.stage = stage
        self._history(stage, note)
        deadline = self._status.review_deadline if stage in REVIEW_STAGES else None
        updates: list[SearchAttributeUpdate[str] | SearchAttributeUpdate[datetime]] = [
            temporal.LIFECYCLE_STAGE.value_set(stage.value)
        ]
        updates.append(
            temporal.REVIEW_DEADLINE.value_set(deadline)
            if deadline is not None
            else temporal.REVIEW_DEADLINE.value_unset()
        )
        workflow.upsert_search_attributes(updates)
        if stage is not Stage.IN_REVIEW:
            self._status.review_deadline = None
        if record:
            await self._record_stage(stage, note)

    async def _record_stage(self, stage: Stage, note: str) -> None:
        plan = self._status.plan
        await workflow.execute_activity(
            "record_stage",
            StageInput(
                ref=self._status.ref,
                stage=stage,
                actor=self._actor_for(stage),
                event_key=self._next_key(),
                note=note,
                policy_version=plan.policy_version if plan else None,
            ),
            start_to_close_timeout=REGISTRY_TIMEOUT,
            retry_policy=REGISTRY_RETRY,
            summary=f"record stage {stage.value}",
        )

    async def _notify(
        self,
        audience: Audience,
        event: str,
        text: str,
        *,
        waited: timedelta | None = None,
        deadline: datetime | None = None,
    ) -> None:
        slack = workflow.patched(SLACK_REVIEW_PATCH)
        await self._best_effort(
            "send_notice",
            Notice(
                ref=self._status.ref,
                event=event,
                audience=audience,
                recipient=self._status.submitter if audience is Audience.SUBMITTER else None,
                text=text,
                key=self._next_key() if slack else "",
                thread=self._status.review_message if audience is Audience.REVIEWERS else None,
                status=self._status if slack else None,
                waited=waited,
                deadline=deadline,
            ),
            summary=f"notify {audience.value}: {event}",
        )

    async def _best_effort(
        self,
        activity: str,
        argument: object,
        *,
        summary: str,
        result_type: type | None = None,
    ) -> object:
        """Run a notice-like activity whose failure must not end the lifecycle.

        Notices and Slack messages only show the state, which the workflow, the registry
        and the Temporal UI hold anyway; when Slack stays unreachable past the retries,
        the step is given up and logged.

        Returns:
            The activity's result, or None when it was given up.
        """
        try:
            return await workflow.execute_activity(
                activity,
                argument,
                result_type=result_type,
                start_to_close_timeout=SLACK_TIMEOUT,
                retry_policy=NOTICE_RETRY,
                summary=summary,
            )
        except ActivityError as error:
            workflow.logger.warning(
                "%s for %s given up: %s", activity, self._status.ref, _failure_message(error)
            )
            return None

    def _upsert_identity_attributes(self) -> None:
        ref = self._status.ref
        workflow.upsert_search_attributes(
            [
                temporal.ASSET_KIND.value_set(ref.kind.value),
                temporal.ASSET_NAME.value_set(ref.name),
                temporal.ASSET_VERSION.value_set(ref.version),
                temporal.OWNER_TEAM.value_set(self._status.owner_team),
                temporal.LIFECYCLE_STAGE.value_set(Stage.SUBMITTED.value),
            ]
        )

    def _history(self, stage: Stage, note: str) -> None:
        self._status.history.append(StageChange(stage=stage, at=workflow.now(), note=note))

    def _count(self, counter: metrics.Counter, *, tier: bool = True, **extra: str) -> None:
        """Count a lifecycle event (replay safe), by asset kind and, after an eval, tier.

        Recording a metric adds no command to the history, so counting a new event needs
        no ``workflow.patched``: a replayed task records nothing and issues the same
        commands as before.
        """
        attributes = {"kind": self._status.ref.kind.value, **extra}
        if tier:
            attributes["tier"] = self._tier()
        count(counter, **attributes)

    def _set_waiting(self, text: str) -> None:
        self._status.waiting_for = text
        details = f"**{self._status.stage.value}** · {text}"
        workflow.set_current_details("\n\n".join([details, *self._eval_details()]))

    def _eval_details(self) -> list[str]:
        """The last eval run in Markdown, so the UI answers "why this tier, what was found"."""
        summary = self._status.eval
        if summary is None:
            return []
        counts = f"{summary.blocking} blocking, {summary.warnings} warning(s)"
        parts = [f"**Eval** (policy {summary.policy_version}): {counts}; risk {self._tier()}"]
        parts += [f"- {reason}" for reason in summary.tier_reasons]
        findings = [
            f"- {f.severity.value} `{f.check_id}` {f.location}: {f.message}"
            for f in summary.top_findings
        ]
        if findings:
            parts.append("**Top findings**\n" + "\n".join(findings))
        if summary.similar:
            similar = "\n".join(f"- {match.label()}" for match in summary.similar)
            parts.append("**Similar published assets** (reuse before rebuild)\n" + similar)
        return parts

    def _next_key(self) -> str:
        """A deterministic idempotency key, unique per activity call of this run."""
        self._event_seq += 1
        info = workflow.info()
        return f"{info.workflow_id}/{info.run_id}/{self._event_seq}"

    def _actor_for(self, stage: Stage) -> str:
        if stage in (Stage.REJECTED, Stage.CHANGES_REQUESTED):
            return self._deciding_vote().reviewer
        return "registry"

    def _deciding_vote(self) -> Vote:
        return next(v for v in self._status.votes if v.decision is not Decision.APPROVE)

    def _tier(self) -> str:
        return self._status.eval.risk_tier.value if self._status.eval else "unknown"

    def _eval_note(self) -> str:
        summary = self._status.eval
        if summary is None:
            return ""
        lines = [f"{summary.blocking} blocking, {summary.warnings} warning(s)"]
        lines += [f"{f.check_id} at {f.location}: {f.message}" for f in summary.top_findings]
        return "; ".join(lines)

    def _review_request_text(self) -> str:
        status = self._status
        assert status.eval is not None
        assert status.plan is not None
        reasons = "; ".join(status.eval.tier_reasons) or "no risk signals"
        return (
            f"Review {status.ref} from team {status.owner_team} (risk {self._tier()}: {reasons}). "
            f"Needs {status.plan.approvals_required} approval(s). "
            f"Approve with `agentreg review approve {status.ref} --as YOU`."
        )

    def _review_waiting_text(self) -> str:
        plan = self._status.plan
        assert plan is not None
        missing = review_rules.missing_approvals(plan, self._status.votes)
        text = "waiting for " + ", ".join(missing)
        if self._status.review_deadline is not None:
            text += f"; SLA ends {_when(self._status.review_deadline)}"
        return text

    def _final_text(self) -> str:
        status = self._status
        if status.stage is Stage.PUBLISHED:
            return f"published; content hash `{status.content_hash}`"
        if status.stage is Stage.RETIRED and status.deprecation is not None:
            use = (
                f"; replaced by {status.deprecation.replacement}"
                if status.deprecation.replacement
                else ""
            )
            return f"retired: {status.deprecation.reason}{use}"
        return f"ended {status.stage.value}: {status.outcome_reason or 'no further action'}"


def _failure_message(error: ActivityError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(error)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _human_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

"""The published life: re-certification cycles, deprecation, retirement.

One re-certification cycle per workflow run: the run waits until the version is due (or
deprecated), re-evaluates it under the policy in force, asks the owner team to attest,
and continues as new for the next cycle, so history stays short however long the
version lives. Deprecation, by a person, a newer version or a failed cycle, ends the
life at the sunset with retirement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import patches
from workflows.context import LifecycleContext
from workflows.evaluation import Evaluation
from workflows.reminders import Alarm, Reminders
from workflows.review_round import ReviewRound

with workflow.unsafe.imports_passed_through():
    from activities.life import LifeActivities
    from activities.models import (
        Audience,
        DeprecationInput,
        LifePlanInput,
        RecertificationInput,
        RetireInput,
    )
    from agent_registry import metrics, temporal
    from agent_registry.lifecycle import life_rules, wording
    from agent_registry.lifecycle.contract import (
        AssetStatus,
        AttestInput,
        DeprecateInput,
        Deprecation,
        LifePlan,
        Submission,
        SupersededSignal,
        VoteResult,
        caller_refusal,
    )
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import Decision, RiskTier, Stage

DEFAULT_SUNSET = timedelta(days=30)
"""Deprecation to retirement when no life plan was read (lifecycles from before one)."""


class _Attestation(Enum):
    """The re-certification's two alarms: remind half way, give up at the deadline."""

    REMIND = "remind"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class _Cycle:
    """What one re-certification cycle runs under."""

    plan: LifePlan
    content_hash: str


class PublishedLife:
    """Runs the published life; the attest and deprecate updates land here."""

    def __init__(
        self, context: LifecycleContext, evaluation: Evaluation, review: ReviewRound
    ) -> None:
        self._context = context
        self._evaluation = evaluation
        self._review = review
        self._deprecation_request: DeprecateInput | None = None

    # ----- updates and the supersede signal -------------------------------------------

    def check_attest(self, attest: AttestInput) -> None:
        """Refuse an attestation from outside the owner team or outside a cycle."""
        if self._context.is_repeat():
            return
        status = self._context.status
        reason = caller_refusal(attest) or life_rules.attest_refusal(status, attest)
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    def attest(self, attest: AttestInput) -> VoteResult:
        """Take the owner team's attestation; the cycle's wait sees it at once."""
        status = self._context.status
        if self._context.is_repeat():
            return VoteResult(stage=status.stage, message="attestation already recorded")
        self._context.remember_update()
        status.attested_by = attest.attester
        return VoteResult(
            stage=status.stage,
            message=f"attested; {status.ref} stays published for another cycle",
        )

    def check_deprecate(self, request: DeprecateInput) -> None:
        """Refuse a deprecation from the wrong people, at the wrong time, or a second one."""
        if self._context.is_repeat():
            return
        status = self._context.status
        reason = caller_refusal(request) or life_rules.deprecate_refusal(
            status, request, now=workflow.now()
        )
        if reason is None and self._deprecation_request is not None:
            reason = f"{status.ref} is already being deprecated"
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    def deprecate(self, request: DeprecateInput) -> VoteResult:
        """Take a deprecation; the published life applies it when it next looks."""
        status = self._context.status
        if self._context.is_repeat():
            return VoteResult(stage=status.stage, message="deprecation already recorded")
        self._context.remember_update()
        self._deprecation_request = request
        return VoteResult(stage=status.stage, message=f"deprecation of {status.ref} accepted")

    def superseded(self, signal: SupersededSignal) -> None:
        """A newer version was published: deprecate this one in its favour."""
        if (
            self._context.status.stage in life_rules.DEPRECATABLE_STAGES
            and self._deprecation_request is None
        ):
            self._deprecation_request = DeprecateInput(
                system="registry",
                reason=f"superseded by {signal.replacement}",
                replacement=signal.replacement,
            )

    # ----- one cycle per run ------------------------------------------------------------

    async def run_cycle(self, plan: LifePlan | None = None) -> AssetStatus:
        """Live until the next cycle (continuing as new), or until retirement.

        Args:
            plan: The policy's plan for the life when publication just read it; each
                later cycle reads the policy in force again.
        """
        context = self._context
        status = context.status
        if status.content_hash is None:
            raise ApplicationError(f"{status.ref} reached its published life without content")
        plan = plan or await read_life_plan(context)
        cycle = _Cycle(plan=plan, content_hash=status.content_hash)
        due = status.recertify_by
        if due is None:
            due = workflow.now() + cycle.plan.recertify_every
            await self._schedule(due)
        context.set_waiting(f"published; re-certification due {wording.when(due)}")
        if not await self._deprecation_arrives(until=due) and await self._recertify(cycle):
            # The cycle passed: start the next one as a new run, so history stays short.
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                Submission(
                    ref=status.ref,
                    metadata=context.metadata,
                    submitter=status.submitter,
                    archive=b"",
                    resume=status,
                    processed_updates=context.processed_updates,
                ),
                # Under Worker Versioning a lifecycle is pinned to its build; each new
                # cycle starts on the deployment's current build instead, so long-lived
                # lifecycles leave an old build within one re-certification period.
                initial_versioning_behavior=workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE,
            )
        await self._retire_at_sunset()
        return await context.finish()

    async def _schedule(self, due: datetime, *, passed: bool = False) -> None:
        context = self._context
        status = context.status
        status.recertify_by = due
        context.set_waiting(f"published; re-certification due {wording.when(due)}")
        workflow.upsert_search_attributes([temporal.RECERTIFY_BY.value_set(due)])
        await context.registry_step(
            LifeActivities.record_recertification,
            RecertificationInput(
                ref=status.ref,
                recertify_by=due,
                event_key=context.key("recertification"),
                passed_cycle=passed,
                policy_version=status.life.policy_version if status.life else None,
            ),
            f"re-certification due {wording.when(due)}",
        )

    async def _deprecation_arrives(self, *, until: datetime) -> bool:
        """Wait until ``until`` for a deprecation; apply it if one comes."""
        try:
            await workflow.wait_condition(
                lambda: self._deprecation_request is not None,
                timeout=max(until - workflow.now(), timedelta(0)),
            )
        except TimeoutError:
            return False
        await self._apply_requested_deprecation()
        return True

    async def _recertify(self, cycle: _Cycle) -> bool:
        """Evals under today's policy, then the owner team's attestation.

        Returns:
            True when the version stays published; False when it was deprecated.
        """
        context = self._context
        status = context.status
        status.attested_by = None
        await context.enter(Stage.RECERTIFYING, note=f"cycle {status.recertifications + 1}")
        outcome = await self._evaluation.run(content_hash=cycle.content_hash)
        if not outcome.summary.passed:
            context.count(metrics.EVAL_FAILURES)
            await self._deprecate(
                DeprecateInput(
                    system="registry",
                    reason="re-certification failed: the eval bar now blocks "
                    f"({wording.eval_note(status.eval)})",
                )
            )
            return False
        if not await self._attested(cycle.plan):
            return False
        status.recertifications += 1
        await self._schedule(workflow.now() + cycle.plan.recertify_every, passed=True)
        await context.enter(Stage.PUBLISHED, note=f"re-certified, attested by {status.attested_by}")
        return True

    async def _attested(self, plan: LifePlan) -> bool:
        """Ask the owner team to attest within the grace period, reminding half way."""
        context = self._context
        status = context.status
        started = workflow.now()
        deadline = started + plan.grace
        context.set_waiting(
            f"waiting for team {status.owner_team} to attest by {wording.when(deadline)}"
        )
        await context.notify(
            Audience.SUBMITTER,
            NoticeEvent.ATTESTATION_REQUESTED,
            wording.attestation_request(status, deadline),
            deadline=deadline,
        )
        reminders = Reminders(
            [
                Alarm(started + plan.grace / 2, _Attestation.REMIND),
                Alarm(deadline, _Attestation.DEADLINE),
            ]
        )
        while (
            rang := await reminders.wait(
                lambda: status.attested_by is not None or self._deprecation_request is not None
            )
        ) is not None and rang.what is _Attestation.REMIND:
            await context.notify(
                Audience.SUBMITTER,
                NoticeEvent.ATTESTATION_REMINDER,
                wording.attestation_reminder(status, deadline),
                deadline=deadline,
            )
        if self._deprecation_request is not None:
            await self._apply_requested_deprecation()
            return False
        if status.attested_by is None:
            context.count(metrics.RECERTIFICATION_LAPSES)
            await self._deprecate(
                DeprecateInput(
                    system="registry",
                    reason="re-certification lapsed: nobody attested within the grace period",
                )
            )
            return False
        return True

    # ----- the end of the life ----------------------------------------------------------

    async def _apply_requested_deprecation(self) -> None:
        request = self._deprecation_request
        if request is not None:
            await self._deprecate(request)

    async def _deprecate(self, request: DeprecateInput) -> None:
        context = self._context
        status = context.status
        now = workflow.now()
        sunset = request.sunset or now + (
            status.life.sunset_after if status.life else DEFAULT_SUNSET
        )
        status.deprecation = Deprecation(
            reason=request.reason,
            by=request.actor,
            at=now,
            sunset_at=sunset,
            replacement=request.replacement,
        )
        await context.registry_step(
            LifeActivities.deprecate_version,
            DeprecationInput(
                ref=status.ref,
                reason=request.reason,
                by=request.actor,
                replacement=request.replacement,
                sunset_at=sunset,
                event_key=context.key("deprecation"),
            ),
            "record the deprecation",
        )
        status.recertify_by = None
        workflow.upsert_search_attributes([temporal.RECERTIFY_BY.value_unset()])
        context.count(metrics.DEPRECATIONS)
        await context.enter(Stage.DEPRECATED, note=request.reason)
        await self._show_fate_on_review_request()
        text = wording.deprecation_notice(status, request.reason, request.replacement, sunset)
        context.set_waiting(f"deprecated; retires {wording.when(sunset)}")
        await context.notify(Audience.SUBMITTER, NoticeEvent.DEPRECATED, text)
        await context.notify(Audience.PLATFORM, NoticeEvent.DEPRECATED, text)

    async def _retire_at_sunset(self) -> None:
        context = self._context
        status = context.status
        deprecation = status.deprecation
        assert deprecation is not None  # the life ends only through a deprecation
        await workflow.sleep(max(deprecation.sunset_at - workflow.now(), timedelta(0)))
        await context.registry_step(
            LifeActivities.retire_version,
            RetireInput(ref=status.ref, event_key=context.key("retirement")),
            "retire the version",
        )
        status.outcome_reason = deprecation.reason
        context.count(metrics.RETIREMENTS)
        await context.enter(Stage.RETIRED, note=deprecation.reason)
        await self._show_fate_on_review_request()
        await context.notify(
            Audience.SUBMITTER,
            NoticeEvent.RETIRED,
            f"{status.ref} is retired: {deprecation.reason}",
        )

    async def _show_fate_on_review_request(self) -> None:
        """Say on the review message that the version was deprecated or retired.

        The approved review message offers Deprecate; left as it was, it would keep
        offering an action the lifecycle now refuses, and hide the version's fate from
        the channel where it was reviewed. The edit is only a view of the state: when
        Slack stays unreachable it is given up, and the lifecycle goes on to retirement.
        """
        status = self._context.status
        message = status.review_message
        approval = next((v for v in reversed(status.votes) if v.decision is Decision.APPROVE), None)
        if message is None or approval is None or not workflow.patched(patches.SLACK_LIFE):
            return
        await self._review.show_on_request(
            message, approval, summary=f"show {status.stage.value} on the review message"
        )


async def read_life_plan(context: LifecycleContext) -> LifePlan:
    """Read the policy in force for the published life; the status shows it."""
    status = context.status
    life = await context.registry_step(
        LifeActivities.life_plan,
        LifePlanInput(
            risk_tier=status.eval.risk_tier if status.eval else RiskTier.HIGH,
            owner_team=status.owner_team,
            submitter=status.submitter,
            authors=status.authors,
        ),
        "read the policy for the published life",
    )
    status.life = life
    return life

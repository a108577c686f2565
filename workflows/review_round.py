"""One review round: ask the reviewers, take their votes, remind, escalate, decide.

The rules of a vote (who may, what decides) are :mod:`agent_registry.lifecycle.review_rules`;
this is the waiting: the request in Slack, each vote written to the registry and shown on
the request, and the reminder and escalation when the policy's SLA passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import patches
from workflows.activity_options import NOTICE, options
from workflows.context import LifecycleContext
from workflows.reminders import Alarm, Reminders

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        Audience,
        DecisionInput,
        ReviewMessageUpdate,
        ReviewRequestInput,
    )
    from activities.registry import RegistryActivities
    from activities.review_messages import ReviewMessageActivities
    from agent_registry import metrics
    from agent_registry.lifecycle import review_rules, wording
    from agent_registry.lifecycle.contract import (
        EvalSummary,
        ReviewInput,
        ReviewPlan,
        SlackMessageRef,
        Vote,
        VoteResult,
        caller_refusal,
    )
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import Decision, Stage
    from agent_registry.slack.snapshot import review_snapshot


class _Overdue(Enum):
    """The review's two alarms: remind the reviewers, then tell the platform team."""

    REMIND = (Audience.REVIEWERS, NoticeEvent.REVIEW_REMINDER)
    ESCALATE = (Audience.PLATFORM, NoticeEvent.REVIEW_ESCALATED)


@dataclass
class _Round:
    """The state of the round in progress, apart from the status view."""

    plan: ReviewPlan
    started: datetime
    recorded: int = 0
    """Votes already written to the registry (and shown on the request)."""


class ReviewRound:
    """Runs review rounds; the workflow's vote updates land here."""

    def __init__(self, context: LifecycleContext) -> None:
        self._context = context
        self._round: _Round | None = None

    # ----- votes (update handlers; synchronous, so a vote lands with its validator) ---

    def check(self, decision: Decision, vote: ReviewInput) -> None:
        """Refuse a vote the rules do not allow now (the update's validator)."""
        status = self._context.status
        reason = caller_refusal(vote) or review_rules.refusal(status, decision, vote)
        if reason is not None:
            raise ApplicationError(reason, type="Refused")

    def cast(self, decision: Decision, vote: ReviewInput) -> VoteResult:
        """Take a vote the validator accepted; the round's wait sees it at once.

        Synchronous on purpose: the vote lands in the same step as its validator, so a
        second vote's validator always sees it (no double decision).
        """
        status = self._context.status
        current = self._round
        if current is None:  # the validator refuses votes outside a round
            raise ApplicationError(f"{status.ref} is not in review", type="Refused")
        status.votes.append(
            Vote(
                reviewer=vote.reviewer,
                decision=decision,
                reason=vote.reason,
                source=vote.source,
                verified_groups=vote.groups,
                at=workflow.now(),
            )
        )
        decided = review_rules.outcome(current.plan, status.votes)
        if decided is None:
            self._context.set_waiting(self._waiting(current))
            missing = review_rules.missing_approvals(current.plan, status.votes)
            return VoteResult(stage=status.stage, message=wording.vote_reply(None, status, missing))
        return VoteResult(stage=status.stage, message=wording.vote_reply(decided, status))

    # ----- the round ----------------------------------------------------------------

    async def decide(self, plan: ReviewPlan, summary: EvalSummary) -> Decision:
        """Ask for a review of a passed ``summary`` under ``plan``; wait for its decision."""
        context = self._context
        status = context.status
        status.votes = []
        current = self._round = _Round(plan=plan, started=workflow.now())
        status.review_deadline = current.started + plan.sla
        await context.enter(Stage.IN_REVIEW, note=wording.judged_note(summary))
        context.set_waiting(self._waiting(current))
        if workflow.patched(patches.SLACK_REVIEW):
            status.review_message = await self._post_request()
        else:
            await context.notify(
                Audience.REVIEWERS,
                NoticeEvent.REVIEW_REQUESTED,
                wording.review_request(status, plan),
            )
        reminders = Reminders(
            [
                Alarm(current.started + plan.sla, _Overdue.REMIND),
                Alarm(current.started + plan.escalate_after, _Overdue.ESCALATE),
            ]
        )
        while True:
            await self._record_new_votes(current)
            decided = review_rules.outcome(plan, status.votes)
            if decided is not None:
                return decided
            context.set_waiting(self._waiting(current))
            rang = await reminders.wait(lambda: len(status.votes) > current.recorded)
            if rang is not None:
                await self._overdue(current, rang.what)

    async def _overdue(self, current: _Round, what: _Overdue) -> None:
        audience, event = what.value
        waited = workflow.now() - current.started
        if what is _Overdue.REMIND:
            self._context.count(metrics.REVIEW_SLA_BREACHES)
        await self._context.notify(
            audience, event, wording.review_alarm(waited, self._waiting(current)), waited=waited
        )

    def _waiting(self, current: _Round) -> str:
        status = self._context.status
        return wording.review_waiting(current.plan, status.votes, status.review_deadline)

    async def _record_new_votes(self, current: _Round) -> None:
        context = self._context
        votes = context.status.votes
        if current.recorded == len(votes):
            return
        while current.recorded < len(votes):
            vote = votes[current.recorded]
            await context.registry_step(
                RegistryActivities.record_decision,
                DecisionInput(
                    ref=context.status.ref,
                    decision_key=context.key(f"decision/{current.recorded}"),
                    vote=vote,
                ),
                f"record {vote.decision.value} by {vote.reviewer}",
            )
            current.recorded += 1
            context.count(metrics.VOTES, decision=vote.decision.value)
        message = context.status.review_message
        if workflow.patched(patches.SLACK_REVIEW) and message is not None:
            await self.show_on_request(message, self._shown_decision(current.plan))

    def _shown_decision(self, plan: ReviewPlan) -> Vote | None:
        """The vote that decided the round, for the request to show; None while open."""
        votes = self._context.status.votes
        decided = review_rules.outcome(plan, votes)
        if decided is Decision.APPROVE:
            return votes[-1]
        if decided is not None:
            return self._context.deciding_vote()
        return None

    async def _post_request(self) -> SlackMessageRef | None:
        context = self._context
        request = ReviewRequestInput(
            snapshot=review_snapshot(context.status), key=context.key("review-request")
        )
        return await context.best_effort(
            "post_review_request",
            lambda: workflow.execute_activity_method(
                ReviewMessageActivities.post_review_request,
                request,
                **options(NOTICE, "post the review request"),
            ),
        )

    async def show_on_request(
        self, message: SlackMessageRef, decision: Vote | None, *, summary: str = ""
    ) -> None:
        """Edit the review request in Slack to show the votes, the decision or the fate."""
        context = self._context
        update = ReviewMessageUpdate(
            snapshot=review_snapshot(context.status), message=message, decision=decision
        )
        await context.best_effort(
            "update_review_message",
            lambda: workflow.execute_activity_method(
                ReviewMessageActivities.update_review_message,
                update,
                **options(NOTICE, summary or "show the vote on the review request"),
            ),
        )

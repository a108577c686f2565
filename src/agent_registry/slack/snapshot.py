"""What a Slack message or notice shows of a lifecycle: the few facts it is rendered from.

The lifecycle's ``status`` query view holds its whole state: every stage change, every
vote with the groups its reviewer was found in, the review plan with the members of
every group, the published life's durations, what it waits for. A review message or a
notice reads a handful of facts from it, and each one is an activity call whose input
the workflow history records; sending the whole view with every call wrote it into the
history again and again, growing with each stage change and vote. So the lifecycle
sends a :class:`ReviewSnapshot`, built by :func:`review_snapshot`, and the Slack
builders in :mod:`agent_registry.slack.messages` and
:mod:`agent_registry.slack.notice_texts` read nothing else.

Facts that were derived from larger parts are carried derived: what the review still
needs (from the plan, its groups' members and the votes), the first vote that was not
an approval (the one a decision notice names), and when the version retired (the one
stage change a message shows). The derivations are pure and run inside the workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

from pydantic import BaseModel, Field

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import AssetStatus, Deprecation, EvalSummary
from agent_registry.lifecycle.review_rules import missing_approvals
from agent_registry.lifecycle.stages import Decision, Stage


class ReviewNeeds(BaseModel):
    """What the review plan asks of the review, and what the votes so far leave missing.

    Attributes:
        approvals_required: Distinct approvals needed.
        require_groups: Groups that must each supply at least one approver.
        missing: What is still needed, in words (``1 more approval``, ``an approver
            from security``); empty when the approvals suffice.
    """

    approvals_required: int
    require_groups: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class Objection(BaseModel):
    """The first vote of the round that was not an approval: a rejection or change request.

    Attributes:
        reviewer: Who voted, as the server identified them.
        reason: Why, as they wrote it.
    """

    reviewer: str
    reason: str | None = None


class ReviewSnapshot(BaseModel):
    """The facts of a lifecycle that review messages and notices show.

    Attributes:
        ref: The asset version.
        stage: Where it stands.
        owner_team: The owning team.
        submitter: Who submitted it.
        authors: Who wrote it.
        machine_authored: Attribution flag.
        content_hash: sha256 of the canonical bundle archive, once stored.
        revision: How many revisions were sent after the first submission.
        eval: The latest eval run, whole: the messages show each of its parts, and
            its run key finds the probe's stderr for reviewers.
        needs: What the review asks and still misses; None before a review plan.
        approvers: Reviewers who approved in the current round.
        votes_cast: How many votes the current round has, approvals or not.
        objection: The round's first vote that was not an approval, if any.
        deprecation: Why, by whom, until when, and what replaces it, once deprecated.
        retired_at: When the version retired, once it did.
    """

    ref: AssetRef
    stage: Stage
    owner_team: str
    submitter: str
    authors: list[str] = Field(default_factory=list)
    machine_authored: bool = False
    content_hash: str | None = None
    revision: int = 0
    eval: EvalSummary | None = None
    needs: ReviewNeeds | None = None
    approvers: list[str] = Field(default_factory=list)
    votes_cast: int = 0
    objection: Objection | None = None
    deprecation: Deprecation | None = None
    retired_at: datetime | None = None


Shown: TypeAlias = AssetStatus | ReviewSnapshot
"""What a builder renders: the status query's full view, or the snapshot an activity got."""


def review_snapshot(status: Shown) -> ReviewSnapshot:
    """The snapshot of ``status`` that messages and notices are rendered from.

    Pure and deterministic, so the workflow builds it for each call; a snapshot is
    returned as it is, so a builder accepts either the query's full view or a snapshot.
    """
    if isinstance(status, ReviewSnapshot):
        return status
    plan = status.plan
    needs = (
        ReviewNeeds(
            approvals_required=plan.approvals_required,
            require_groups=list(plan.require_groups),
            missing=missing_approvals(plan, status.votes),
        )
        if plan is not None
        else None
    )
    objection = next(
        (
            Objection(reviewer=vote.reviewer, reason=vote.reason)
            for vote in status.votes
            if vote.decision is not Decision.APPROVE
        ),
        None,
    )
    retired_at = next(
        (change.at for change in reversed(status.history) if change.stage is Stage.RETIRED),
        None,
    )
    return ReviewSnapshot(
        ref=status.ref,
        stage=status.stage,
        owner_team=status.owner_team,
        submitter=status.submitter,
        authors=list(status.authors),
        machine_authored=status.machine_authored,
        content_hash=status.content_hash,
        revision=status.revision,
        eval=status.eval,
        needs=needs,
        approvers=status.approvers,
        votes_cast=len(status.votes),
        objection=objection,
        deprecation=status.deprecation,
        retired_at=retired_at,
    )

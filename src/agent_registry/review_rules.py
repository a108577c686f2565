"""Who may vote on a review, and when a review is decided.

Pure functions over the workflow's state, so the workflow's update validators stay one
line each and the rules are tested without a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent_registry.contract import AssetStatus, ReviewInput, ReviewPlan, Vote
from agent_registry.lifecycle import Decision, Stage
from agent_registry.membership import members_include

REVIEWERS_GROUP = "reviewers"

REVIEWED_STAGES = frozenset(
    {Stage.PUBLISHED, Stage.RECERTIFYING, Stage.DEPRECATED, Stage.RETIRED, Stage.REJECTED}
)
"""Stages a version reaches only after its review was decided."""


def _is_own_asset(status: AssetStatus, reviewer: str) -> bool:
    people = {status.submitter.lower(), *(author.lower() for author in status.authors)}
    return reviewer.strip().lower() in people


CLI_SOURCE = "cli"
"""``ReviewInput.source`` of a vote sent with ``agentreg review``."""


def refusal(status: AssetStatus, decision: Decision, vote: ReviewInput) -> str | None:
    """Say why a vote may not be cast now, or None when it may.

    Args:
        status: The lifecycle's current state.
        decision: What the reviewer wants to decide.
        vote: The vote, with the reviewer's identity and verified groups.

    Returns:
        A sentence the reviewer is shown, or None.
    """
    reviewer = vote.reviewer.strip()
    if not reviewer:
        return "a reviewer identity is required"
    if status.stage in REVIEWED_STAGES:
        return f"{status.ref} is {status.stage.value}; its review is over"
    if status.stage is not Stage.IN_REVIEW or status.plan is None:
        return f"{status.ref} is {status.stage.value}, not in review; nothing to decide"
    decided = outcome(status.plan, status.votes)
    if decided is not None:
        return f"{status.ref} is already decided ({decided.value.replace('_', ' ')})"
    if _is_own_asset(status, reviewer):
        return f"{reviewer} submitted or wrote {status.ref} and cannot review it"
    if vote.source == CLI_SOURCE and not status.plan.cli_reviews:
        return (
            "reviews from the command line are off in this registry; review with the "
            "buttons on the review message in Slack"
        )
    reviewers = status.plan.group_members.get(REVIEWERS_GROUP)
    if reviewers is not None and not members_include(
        reviewers, reviewer, verified_groups=vote.verified_groups
    ):
        return f"{reviewer} is not in the policy's '{REVIEWERS_GROUP}' group"
    earlier = next((v for v in status.votes if v.reviewer.lower() == reviewer.lower()), None)
    if earlier is not None:
        return f"{reviewer} already voted ({earlier.decision.value}) on {status.ref}"
    if decision is not Decision.APPROVE and not (vote.reason or "").strip():
        return f"a reason is required to {decision.value.replace('_', ' ')}"
    return None


def missing_approvals(plan: ReviewPlan, votes: Sequence[Vote]) -> list[str]:
    """What the review still needs before the asset may be published.

    Returns:
        Human phrases (``1 more approval``, ``an approver from security``); empty when
        the approvals suffice.
    """
    approvals = [v for v in votes if v.decision is Decision.APPROVE]
    missing: list[str] = []
    short = plan.approvals_required - len(approvals)
    if short > 0:
        missing.append(f"{short} more approval" + ("s" if short > 1 else ""))
    for group in plan.require_groups:
        members = plan.group_members.get(group, [])
        if not any(
            members_include(members, v.reviewer, verified_groups=v.verified_groups)
            for v in approvals
        ):
            missing.append(f"an approver from {group}")
    return missing


def outcome(plan: ReviewPlan, votes: Sequence[Vote]) -> Decision | None:
    """The review's decision so far: a reject or change request decides at once.

    Returns:
        The deciding decision, or None while approvals are still missing.
    """
    for vote in votes:
        if vote.decision is not Decision.APPROVE:
            return vote.decision
    return Decision.APPROVE if not missing_approvals(plan, votes) else None

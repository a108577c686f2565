"""Who may vote on a review, and when a review is decided.

Pure functions over the workflow's state, so the workflow's update validators stay one
line each and the rules are tested without a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent_registry.lifecycle.contract import AssetStatus, ReviewInput, ReviewPlan, Vote
from agent_registry.lifecycle.membership import members_include
from agent_registry.lifecycle.stages import DECIDED, Decision, Stage
from agent_registry.vocabulary.principal import (
    PrincipalKind,
    VerifiedBy,
    canonical_email,
    person_key,
)

REVIEWERS_GROUP = "reviewers"


def same_identity(left: str, right: str) -> bool:
    """Whether two spellings name one identity: emails compared in canonical form.

    ``Alice@Example.com`` (the CLI, a metadata author) and ``alice@example.com`` (Slack)
    are one person; a value that is not an email (a legacy user name) is compared
    trimmed and case-folded, which is what :func:`canonical_email` does to an email.
    """
    return _canonical(left) == _canonical(right) and bool(left.strip())


def _canonical(value: str) -> str:
    try:
        return canonical_email(value)
    except ValueError:
        return value.strip().casefold()


def same_person(left: str, right: str) -> bool:
    """Whether two addresses may be one person's (:func:`person_key`): for refusals.

    Wider than :func:`same_identity` (``alice+x@example.com``, a full-width spelling, an
    IDN or a trailing dot match ``alice@example.com``), so it is used only where a match
    refuses: voting on your own asset, voting twice.
    """
    return bool(left.strip()) and person_key(left) == person_key(right)


def is_own_asset(status: AssetStatus, who: str) -> bool:
    """Whether ``who`` submitted or wrote the version (in any spelling of their email)."""
    return any(same_identity(who, person) for person in (status.submitter, *status.authors))


def is_possibly_own_asset(status: AssetStatus, who: str) -> bool:
    """Whether ``who`` may be the submitter or an author under another spelling.

    The refusal side of :func:`is_own_asset`: sub-addresses, compatibility forms, IDNs
    and trailing dots count as the same mailbox (:func:`same_person`).
    """
    return any(same_person(who, person) for person in (status.submitter, *status.authors))


SLACK_SOURCE = VerifiedBy.SLACK.value
"""How a vote made with the buttons in Slack was identified."""


def channel_refusal(source: str, *, cli_allowed: bool) -> str | None:
    """Why a decision made outside Slack does not count, when CLI decisions are off.

    In a production configuration the only decisions that count are the ones made in
    Slack, where Slack vouches for the clicker; reviews, attestations and deprecations
    from the command line (OIDC or local mode) are refused alike.
    """
    if cli_allowed or source == SLACK_SOURCE:
        return None
    return (
        "decisions from the command line are off in this registry; use the buttons on "
        "the review message in Slack"
    )


def refusal(status: AssetStatus, decision: Decision, vote: ReviewInput) -> str | None:
    """Say why a vote may not be cast now, or None when it may.

    Args:
        status: The lifecycle's current state.
        decision: What the reviewer wants to decide.
        vote: The vote, with the principal the server resolved.

    Returns:
        A sentence the reviewer is shown, or None.
    """
    reviewer = vote.reviewer.strip()
    if not reviewer:
        return "a reviewer identity is required"
    if status.stage in DECIDED:
        return f"{status.ref} is {status.stage.value}; its review is over"
    if status.stage is not Stage.IN_REVIEW or status.plan is None:
        return f"{status.ref} is {status.stage.value}, not in review; nothing to decide"
    decided = outcome(status.plan, status.votes)
    if decided is not None:
        return f"{status.ref} is already decided ({decided.value.replace('_', ' ')})"
    if is_possibly_own_asset(status, reviewer):
        return f"{reviewer} submitted or wrote {status.ref} and cannot review it"
    if vote.principal is not None and vote.principal.kind is PrincipalKind.MACHINE:
        # Whoever can change a CI pipeline can make its bot vote: through the bot, a
        # submitter would approve their own asset. A review is a person's decision.
        return f"{reviewer} is a program (client credentials); only a person can review"
    channel = channel_refusal(vote.source, cli_allowed=status.plan.cli_reviews)
    if channel is not None:
        return channel
    reviewers = status.plan.group_members.get(REVIEWERS_GROUP)
    if reviewers is not None and not members_include(
        reviewers, reviewer, verified_groups=vote.groups
    ):
        return f"{reviewer} is not in the policy's '{REVIEWERS_GROUP}' group"
    earlier = next((v for v in status.votes if same_person(v.reviewer, reviewer)), None)
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

"""The events a lifecycle tells people about, named once.

The workflow sends each notice with one of these events, the notice activity logs it and
picks its Slack delivery by it, and the Slack wording is chosen by it; a misspelt literal
in any of the three would silently drop a notice's wording. The values are the strings
recorded in workflow histories since the first notice was sent, so they never change:
a new event is a new member.
"""

from __future__ import annotations

from enum import StrEnum


class NoticeEvent(StrEnum):
    """What happened to a version that someone should hear about.

    Each member's docstring names who hears it: the submitter (by DM), the reviewers (in
    the review channel, in the review message's thread once there is one) or the
    platform team (its channel).
    """

    REVIEW_REQUESTED = "review-requested"
    """Reviewers: a version passed its evals and waits for their votes. Sent only by runs
    from before review messages with buttons; later runs post the review message instead."""

    REVIEW_REMINDER = "review-reminder"
    """Reviewers, in the review thread: the review has waited past the policy's SLA."""

    REVIEW_ESCALATED = "review-escalated"
    """The platform team: the review has waited past the escalation limit."""

    EVAL_FAILED = "eval-failed"
    """The submitter: the version failed its evals and waits for a revision."""

    CHANGES_REQUESTED = "changes-requested"
    """The submitter: a reviewer asked for changes, and why."""

    REJECTED = "rejected"
    """The submitter: a reviewer rejected the version, and why."""

    REVISION_REFUSED = "revision-refused"
    """The submitter: a revision they sent could not be stored (the lifecycle still waits)."""

    PUBLISHED = "published"
    """The submitter: the version is published, with its approvers and content hash."""

    ATTESTATION_REQUESTED = "attestation-requested"
    """The submitter, for the owner team: the version is due for re-certification and
    needs their attestation within the grace period."""

    ATTESTATION_REMINDER = "attestation-reminder"
    """The submitter, for the owner team: halfway through the grace period, still no
    attestation."""

    DEPRECATED = "deprecated"
    """The submitter and the platform team: the version is deprecated and when it retires."""

    RETIRED = "retired"
    """The submitter: the version reached its sunset date and left the catalog."""

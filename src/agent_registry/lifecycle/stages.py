"""The lifecycle vocabulary shared by the workflow, the store, the CLI and Slack."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where an asset version stands. Values are what the ``LifecycleStage`` attribute shows."""

    SUBMITTED = "Submitted"
    EVALUATING = "Evaluating"
    EVAL_FAILED = "EvalFailed"
    IN_REVIEW = "InReview"
    CHANGES_REQUESTED = "ChangesRequested"
    REJECTED = "Rejected"
    PUBLISHED = "Published"
    RECERTIFYING = "Recertifying"
    DEPRECATED = "Deprecated"
    RETIRED = "Retired"

    @property
    def is_final(self) -> bool:
        """True for stages no lifecycle leaves."""
        return self in {Stage.REJECTED, Stage.RETIRED}


class RiskTier(StrEnum):
    """Risk tiers, derived from findings by policy; they decide how much review is needed."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Order of severity: low < medium < high."""
        return _TIER_RANK[self]


_TIER_RANK = {RiskTier.LOW: 0, RiskTier.MEDIUM: 1, RiskTier.HIGH: 2}


class Decision(StrEnum):
    """What a reviewer decided."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"

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


# Named groupings of stages, in the order the lifecycle passes through them. Every rule
# that asks "is this version in the catalog / installable / decided" names one of these
# instead of spelling its own tuple, so a new stage is placed in one file.

IN_FLIGHT = (Stage.SUBMITTED, Stage.EVALUATING)
"""Stages a submission passes through before anyone can act on it."""

UNDER_REVIEW = (Stage.IN_REVIEW,)
"""Stages in which reviewers decide."""

REVISABLE = (Stage.EVAL_FAILED, Stage.CHANGES_REQUESTED)
"""Stages in which the submitter may send a revision."""

SENT_BACK = (Stage.REJECTED, Stage.CHANGES_REQUESTED)
"""Stages a reviewer's decision against the version leads to: the reviewer is their actor."""

IN_CATALOG = (Stage.PUBLISHED, Stage.RECERTIFYING)
"""Stages in which a version is in the catalog (re-certification does not take it out)."""

INSTALLABLE = (*IN_CATALOG, Stage.DEPRECATED)
"""Stages a version may be installed in: the catalog, and deprecated versions still served."""

WITHDRAWN = (Stage.DEPRECATED, Stage.RETIRED)
"""Stages of a version on its way out (deprecated) or out (retired) of the catalog."""

EVER_PUBLISHED = (*IN_CATALOG, *WITHDRAWN)
"""Stages of a version that has been published: its content is fixed for good."""

DECIDED = (Stage.REJECTED, *EVER_PUBLISHED)
"""Stages after the review: no reviewer decision applies to them any more."""


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

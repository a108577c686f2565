"""Every ``workflow.patched`` marker the lifecycle still branches on, with its era.

A patch keeps lifecycles that started on an older build replaying on this one: the old
branch is what the older build did. docs/deploy.md says how a change ships (a new build
under Worker Versioning; a patch only where a lifecycle outlives its build) and when each
patch below moves to its next stage of retirement. A new marker goes here, with the
fixture set recorded before it in ``tests/histories/``.
"""

from __future__ import annotations

PUBLISHED_LIFE = "published-life"
"""Lifecycles that ended at publication before re-certification existed still end there."""

SLACK_REVIEW = "slack-review-messages"
"""Lifecycles started before review requests became Slack messages keep their old steps."""

SLACK_LIFE = "slack-life-actions"
"""Lifecycles deprecated or retired before the review message followed the published
life do not edit it."""

SANDBOXED_PROBE = "sandboxed-probe-workers"
"""Lifecycles started before the probe moved to probe workers still probe in the eval."""

BEHAVIOUR_EVALS = "behavioural-evals"
"""Lifecycles started before behavioural evals were wired evaluate without them."""

SECRET_PURGE = "purge-secret-bundles"  # noqa: S105 - a patch id, no secret
"""Lifecycles that ended blocked before the purge moved into them leave it to
``agentreg db purge-secrets``."""

MERGED_STEPS = "merged-registry-steps"
"""Lifecycles started before the short registry writes became local activities, and
before ``Evaluating``, ``InReview`` and ``EvalFailed`` were written by the store and
eval transactions and publication scheduled its first re-certification, keep their
separate activities."""

REVIEW_CONTINUE_AS_NEW = "review-continue-as-new"
"""Lifecycles started before the review phase continued as new after a bounded number
of revisions keep all their revisions in one run."""

"""Evaluation: the eval bar as an activity, run under the policy in force.

The work is :class:`activities.evaluator.Evaluator`, injected: workflows import this
module (to call the activity by method reference) inside their sandbox, and the eval
bar's checks and the database layer stay out of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.heartbeat import heartbeating
from activities.models import EvalOutcome, EvaluateInput

if TYPE_CHECKING:
    from activities.evaluator import Evaluator


class EvalActivities:
    """Runs the eval bar; the evaluator reads the policy file at every run."""

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator

    @activity.defn(name="evaluate_version")
    def evaluate_version(self, request: EvaluateInput) -> EvalOutcome:
        """Evaluate a stored bundle and record the run with its findings.

        Heartbeats throughout (the live probe can block for minutes), so a worker killed
        mid-evaluation is noticed at the heartbeat timeout, not the start-to-close one.
        Idempotent: the run is recorded once under ``request.run_key``.

        Raises:
            ApplicationError: Non-retryable when the policy file is invalid or the stored
                bundle cannot be read back; retrying would not change either.
        """
        with heartbeating():
            return self._evaluator.evaluate(request)

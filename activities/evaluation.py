"""Evaluation: run the eval bar under the policy in force and record the run."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.refs import AssetRef
from agent_registry.contract import EvalSummary, ReviewPlan
from agent_registry.evals.findings import Severity
from agent_registry.evals.runner import EvalReport, evaluate
from agent_registry.policy import Policy
from agent_registry.policy_loader import PolicyError, load_policy
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.review_rules import REVIEWERS_GROUP

TOP_FINDINGS = 5
"""How many findings travel in the summary; the rest stay in the registry."""


class EvaluateInput(BaseModel):
    """Evaluate the stored bundle ``content_hash`` of ``ref``; ``run_key`` makes it once."""

    ref: AssetRef
    content_hash: str
    run_key: str


class EvalOutcome(BaseModel):
    """The eval summary and what the policy asks of the review that follows."""

    summary: EvalSummary
    plan: ReviewPlan


def review_plan(policy: Policy, report: EvalReport) -> ReviewPlan:
    """Turn the policy's rules for the report's risk tier into a plan the workflow follows."""
    tier = policy.tiers[report.risk_tier]
    groups = {REVIEWERS_GROUP, *tier.require_groups}
    return ReviewPlan(
        policy_version=policy.version,
        approvals_required=tier.approvals,
        require_groups=list(tier.require_groups),
        group_members={g: list(policy.groups[g]) for g in sorted(groups) if g in policy.groups},
        sla=policy.review.sla,
        escalate_after=policy.review.escalate_after,
        revision_window=policy.review.revision_window,
    )


def summarize(report: EvalReport, *, run_key: str) -> EvalSummary:
    """The part of a report small enough to travel through workflow history."""
    ranked = [f for f in report.findings if f.severity in (Severity.BLOCK, Severity.WARN)]
    return EvalSummary(
        run_key=run_key,
        policy_version=report.policy_version,
        passed=report.passed,
        blocking=len(report.blocking),
        warnings=len(report.warnings),
        top_findings=ranked[:TOP_FINDINGS],
        risk_tier=report.risk_tier,
        tier_reasons=report.tier_reasons,
    )


class EvalActivities:
    """Runs the eval bar; reads the policy file at every run so a raised bar applies."""

    def __init__(self, engine: Engine, *, policy_path: Path | None, limits: BundleLimits) -> None:
        self._engine = engine
        self._policy_path = policy_path
        self._limits = limits

    @activity.defn(name="evaluate_version")
    def evaluate_version(self, request: EvaluateInput) -> EvalOutcome:
        """Evaluate a stored bundle and record the run with its findings.

        Raises:
            ApplicationError: Non-retryable when the policy file is invalid or the stored
                bundle cannot be read back; retrying would not change either.
        """
        try:
            policy = load_policy(self._policy_path)
        except PolicyError as error:
            raise ApplicationError(str(error), type="InvalidPolicy", non_retryable=True) from None
        with session_scope(self._engine) as session:
            archive = store.get_blob(session, content_hash=request.content_hash)
        try:
            bundle = bundle_from_archive(archive, limits=self._limits)
        except BundleError as error:
            raise ApplicationError(str(error), type="InvalidBundle", non_retryable=True) from None
        report = evaluate(parse_asset(bundle, request.ref.kind), policy)
        with session_scope(self._engine) as session:
            store.record_eval(
                session,
                ref=request.ref,
                run_key=request.run_key,
                policy_version=report.policy_version,
                passed=report.passed,
                risk_tier=report.risk_tier,
                tier_reasons=report.tier_reasons,
                findings=report.findings,
            )
        return EvalOutcome(
            summary=summarize(report, run_key=request.run_key),
            plan=review_plan(policy, report),
        )

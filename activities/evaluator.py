"""The eval bar behind the ``evaluate_version`` activity: run it under the policy in force.

The live MCP probe is not run here: it starts untrusted code, so it runs on probe workers
(:mod:`activities.probe`). A lifecycle evaluates in up to two steps: ``defer`` runs the
static checks and, when an MCP server passes them without a blocking finding, returns a
probe request instead of recording; after the probe, ``given`` judges its findings with
the static ones under the same policy and records the run once. ``inline`` (lifecycles
started before the probe moved) still probes here, in the same sandbox.

Kept apart from :mod:`activities.evaluation`, which workflows import inside their
sandbox: the checks load parsers (markdown-it, bashlex) and the database layer, and
only the worker, which builds :class:`Evaluator`, needs them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.check_pool import CheckPool, CheckTimeoutError, parsed_for_checks
from activities.models import (
    BehaviourInput,
    EvalOutcome,
    EvaluateInput,
    ProbeInput,
    PublishedFigures,
    StageInput,
)
from activities.registry_writes import write_stage
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.behaviour.cases import CaseDiscovery, discover_cases
from agent_registry.behaviour.gates import judge
from agent_registry.evals.base import unfinished_finding
from agent_registry.evals.live import LiveChecks, run_live_checks
from agent_registry.evals.runner import EvalReport, judge_findings
from agent_registry.lifecycle import wording
from agent_registry.lifecycle.contract import EvalSummary, ReviewPlan, SimilarAsset
from agent_registry.lifecycle.review_rules import REVIEWERS_GROUP
from agent_registry.lifecycle.stages import Stage
from agent_registry.mcp_probe.compare import probe_not_completed_finding
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.policy.loader import PolicyError, load_policy
from agent_registry.policy.model import Policy
from agent_registry.registry import store
from agent_registry.registry.db import read_scope, session_scope
from agent_registry.registry.reuse_cache import CatalogIndexCache
from agent_registry.vocabulary.behaviour_figures import BehaviourRecord
from agent_registry.vocabulary.findings import Finding, Severity

CHECK_ATTEMPTS = 3
"""The attempt on which a bundle whose checks run past their time is blocked."""

TOP_FINDINGS = 20
"""How many findings travel in the summary (blocking first); the rest stay in the registry.

Enough for ``agentreg status`` and the UI to show the whole report of a typical asset,
few enough to keep each eval's history event small.
"""


def review_plan(policy: Policy, report: EvalReport, *, cli_reviews: bool = True) -> ReviewPlan:
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
        cli_reviews=cli_reviews,
    )


def summarize(
    report: EvalReport,
    *,
    run_key: str,
    similar: list[SimilarAsset] | None = None,
    behaviour: BehaviourRecord | None = None,
) -> EvalSummary:
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
        similar=similar or [],
        behaviour=behaviour,
    )


class Evaluator:
    """Runs the eval bar; reads the policy file at every run so a raised bar applies.

    Args:
        engine: The registry database: stored bundles, baselines, the catalog, eval runs.
        policy_path: The policy file, read at every run.
        limits: Bundle limits for reading a stored bundle back.
        cli_reviews: Whether reviews may be given through the CLI.
        checks: Where the check families run; in the calling thread when not given.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        policy_path: Path | None,
        limits: BundleLimits,
        cli_reviews: bool = True,
        checks: CheckPool | None = None,
    ) -> None:
        self._engine = engine
        self._checks = checks if checks is not None else CheckPool(processes=0)
        self._cli_reviews = cli_reviews
        self._policy_path = policy_path
        self._limits = limits
        self._catalog = CatalogIndexCache(engine)

    def evaluate(self, request: EvaluateInput) -> EvalOutcome:
        """Evaluate a stored bundle and record the run with its findings, once per run key.

        Raises:
            ApplicationError: Non-retryable when the policy file is invalid or the stored
                bundle cannot be read back; retrying would not change either.
        """
        try:
            policy = load_policy(self._policy_path)
        except PolicyError as error:
            raise ApplicationError(str(error), type="InvalidPolicy", non_retryable=True) from None
        with read_scope(self._engine) as session:
            archive = store.get_blob(session, content_hash=request.content_hash)
        try:
            asset = parsed_for_checks(
                archive, request.ref.kind, self._limits, request.false_positives
            )
        except BundleError as error:
            raise ApplicationError(str(error), type="InvalidBundle", non_retryable=True) from None
        with read_scope(self._engine) as session:
            baseline = store.baseline_fingerprints(
                session, ref=request.ref, content_hash=request.content_hash
            )
        # The probe runs on every attempt (a server is not idempotent, its listing is);
        # only the first attempt's run is stored, under the run key.
        live = run_live_checks(
            asset,
            policy,
            catalog=self._catalog.current(),
            baseline=baseline,
            probe=request.probe == "inline",
        )
        if request.probe == "given":
            found, fingerprints = _probe_findings(asset, request)
            live.findings.extend(found)
            live.fingerprints = fingerprints
        checked = self._checked(asset, archive, request)
        report = judge_findings(asset, policy, checked, external=live.findings)
        if request.probe == "defer" and _needs_probe(asset, policy, report):
            return EvalOutcome(
                summary=summarize(report, run_key=request.run_key, similar=live.similar),
                plan=review_plan(policy, report, cli_reviews=self._cli_reviews),
                probe_request=ProbeInput(
                    ref=request.ref,
                    content_hash=request.content_hash,
                    archive=archive,
                    baseline=baseline,
                ),
            )
        record: BehaviourRecord | None = None
        if request.behaviour != "off" and policy.behaviour.enabled and not report.blocking:
            discovery = discover_cases(asset.bundle)
            if request.behaviour == "defer" and discovery.cases:
                return EvalOutcome(
                    summary=summarize(report, run_key=request.run_key, similar=live.similar),
                    plan=review_plan(policy, report, cli_reviews=self._cli_reviews),
                    behaviour_request=self._behaviour_request(asset, request, archive, report),
                )
            found, record = self._behaviour_findings(request, policy, report, discovery)
            live.findings.extend(found)
            report = judge_findings(asset, policy, checked, external=live.findings)
        return self._record(request, policy, report, live, record)

    def _checked(self, asset: ParsedAsset, archive: bytes, request: EvaluateInput) -> list[Finding]:
        """The check families' findings; a bundle whose checks keep running too long is blocked.

        A check process that dies or is stopped fails the attempt, and the activity's
        retry tries again: another bundle may have been to blame (one timeout or one
        death stops every check in flight), or the worker was busy. Only this bundle's
        own time running out, on attempt :data:`CHECK_ATTEMPTS` or later, is taken as
        the bundle's doing: it was not fully checked, so it gets a blocking finding
        rather than being tried for ever. A bundle that kills its process every time is
        retried, as it would have been when it took the whole worker down with it.
        """
        try:
            return self._checks.check(
                asset,
                archive=archive,
                limits=self._limits,
                false_positives=request.false_positives,
            )
        except CheckTimeoutError as error:
            if activity.in_activity() and activity.info().attempt < CHECK_ATTEMPTS:
                raise
            return [unfinished_finding(str(error))]

    def _behaviour_request(
        self, asset: ParsedAsset, request: EvaluateInput, archive: bytes, report: EvalReport
    ) -> BehaviourInput:
        """What a probe worker needs to run the cases: the bundle and the published figures."""
        return BehaviourInput(
            ref=request.ref,
            content_hash=request.content_hash,
            archive=archive,
            description=asset.manifest.description if asset.manifest else request.ref.name,
            tier=report.risk_tier,
            published=self._published(request.ref),
        )

    def _published(self, ref: AssetRef) -> PublishedFigures | None:
        """The version ``ref`` replaces with the figures recorded for it, if it has any."""
        with read_scope(self._engine) as session:
            found = store.published_behaviour(session, ref=ref)
        if found is None:
            return None
        version, recorded = found
        return PublishedFigures(
            version=version, figures=BehaviourRecord.model_validate_json(recorded).figures
        )

    def _behaviour_findings(
        self,
        request: EvaluateInput,
        policy: Policy,
        report: EvalReport,
        discovery: CaseDiscovery,
    ) -> tuple[list[Finding], BehaviourRecord | None]:
        """The behavioural findings, and the figures to record when the cases ran.

        Without cases nothing was sent to a probe worker: the gates are judged here
        (a tier that must ship cases). A run that no probe worker completed is an
        ``evals.not-run`` finding saying so, never a silent pass.
        """
        output = request.behaviour_output
        if output is None:
            reason = None
            if discovery.cases:
                reason = "the behavioural eval did not complete: " + (
                    request.behaviour_failure or "no result"
                )
            found = judge(
                policy=policy.behaviour,
                tier=report.risk_tier,
                discovery=discovery,
                figures=None,
                not_run_reason=reason,
            )
            return found, None
        if output.figures is None:
            return output.findings, None
        published = self._published(request.ref)
        record = BehaviourRecord(
            figures=output.figures,
            replaces=None if published is None else published.version,
            replaced_pass_rate=None if published is None else published.figures.pass_rate,
        )
        return output.findings, record

    def _record(
        self,
        request: EvaluateInput,
        policy: Policy,
        report: EvalReport,
        live: LiveChecks,
        behaviour: BehaviourRecord | None = None,
    ) -> EvalOutcome:
        # Worked out before the transaction: on SQLite every writer waits while it is open.
        outcome = EvalOutcome(
            summary=summarize(
                report, run_key=request.run_key, similar=live.similar, behaviour=behaviour
            ),
            plan=review_plan(policy, report, cli_reviews=self._cli_reviews),
        )
        judged = (
            None
            if request.then_stage_key is None
            else judged_stage(request, outcome, key=request.then_stage_key)
        )
        behaviour_json = None if behaviour is None else behaviour.model_dump_json()
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
                content_hash=request.content_hash,
                fingerprints=live.fingerprints,
                probe_stderr=_probe_stderr(request),
                behaviour_json=behaviour_json,
            )
            if judged is not None:
                write_stage(session, judged)
        return outcome


def _needs_probe(asset: ParsedAsset, policy: Policy, report: EvalReport) -> bool:
    """A stdio-capable MCP server the static bar did not block, under a probing policy.

    A bundle the bar already blocks starts no process: the probe could not unblock it.
    """
    is_server = asset.kind is AssetKind.MCP_SERVER and asset.mcp_server is not None
    return is_server and policy.probe.enabled and not report.blocking


def _probe_findings(
    asset: ParsedAsset, request: EvaluateInput
) -> tuple[list[Finding], list[ToolFingerprint]]:
    """The probe's findings, or the finding of a probe no probe worker completed."""
    if request.probe_output is not None:
        return request.probe_output.findings, request.probe_output.fingerprints
    reason = request.probe_failure or "no probe result"
    return [probe_not_completed_finding(asset, reason)], []


def _probe_stderr(request: EvaluateInput) -> str | None:
    """The probed server's masked stderr, stored with the run for reviewers only."""
    if request.probe_output is None:
        return None
    return request.probe_output.stderr_excerpt


def judged_stage(request: EvaluateInput, outcome: EvalOutcome, *, key: str) -> StageInput:
    """The stage a judged submission moves to: ``InReview`` when it passed, else ``EvalFailed``.

    Worded as the workflow words the same move (:mod:`agent_registry.lifecycle.wording`),
    so the registry's history reads the same whichever side recorded it.
    """
    summary = outcome.summary
    stage = Stage.IN_REVIEW if summary.passed else Stage.EVAL_FAILED
    return StageInput(
        ref=request.ref,
        stage=stage,
        actor="registry",
        event_key=f"{key}/{stage.value}",
        note=wording.judged_note(summary),
        policy_version=outcome.plan.policy_version,
    )

"""Behavioural evals as an activity of their own, for the probe workers.

A behavioural eval runs what an asset makes the agent do, so like the live probe it
belongs on probe workers (no database, no Slack credentials), and the bundle travels in
the activity input for the same reason (docs/security.md). It needs what a probe does
not: the organisation's model credential (``AGENT_REGISTRY_MODEL_API_KEY``) and a
Claude Code client. Without them the activity still answers, with an ``evals.not-run``
finding saying which is missing, so the step is never skipped silently.

The activity writes only a temporary folder, removed when it returns: retried, it runs
the cases again and answers the same way (the figures vary as runs do).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from temporalio import activity

from activities.heartbeat import heartbeating
from activities.models import BehaviourInput, BehaviourOutput
from activities.probe_worker_inputs import stored_bundle, worker_policy
from agent_registry.assets.bundle import BundleLimits
from agent_registry.behaviour.cases import discover_cases
from agent_registry.behaviour.gates import Published, judge
from agent_registry.behaviour.run import BehaviourRunError, EvalClient, run_behaviour
from agent_registry.config import Settings
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures

BEHAVIOUR_ACTIVITY = "run_behaviour_evals"


class BehaviourActivities:
    """Runs an asset's behavioural eval cases; reads the policy file at every run."""

    def __init__(
        self, *, policy_path: Path | None, limits: BundleLimits, client: EvalClient | None
    ) -> None:
        self._policy_path = policy_path
        self._limits = limits
        self._client = client

    @activity.defn(name=BEHAVIOUR_ACTIVITY)
    def run_behaviour_evals(self, request: BehaviourInput) -> BehaviourOutput:
        """Run the cases with and without the asset and judge the figures.

        Raises:
            ApplicationError: Non-retryable when the policy file is invalid or the archive
                is not the stored bundle; retrying would not change either.
        """
        with heartbeating():
            return self._evaluate(request)

    def _evaluate(self, request: BehaviourInput) -> BehaviourOutput:
        policy = worker_policy(self._policy_path).behaviour
        bundle = stored_bundle(
            request.archive,
            ref=request.ref,
            expected_hash=request.content_hash,
            limits=self._limits,
        )
        discovery = discover_cases(bundle)
        published = (
            Published(request.published.version, request.published.figures)
            if request.published
            else None
        )
        figures: BehaviourFigures | None = None
        reason: str | None = None
        if policy.enabled and discovery.cases:
            if self._client is None:
                reason = (
                    "no model credential or Claude Code on the probe workers "
                    "(AGENT_REGISTRY_MODEL_API_KEY, AGENT_REGISTRY_CLAUDE_BINARY)"
                )
            else:
                work = Path(tempfile.mkdtemp(prefix="agentreg-behaviour-"))
                try:
                    figures = run_behaviour(
                        request.ref,
                        bundle,
                        description=request.description,
                        client=self._client,
                        policy=policy,
                        work_dir=work,
                    )
                except BehaviourRunError as error:
                    reason = f"the run failed: {error}"
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        findings = judge(
            policy=policy,
            tier=request.tier,
            discovery=discovery,
            figures=figures,
            not_run_reason=reason,
            published=published,
        )
        return BehaviourOutput(findings=findings, figures=figures)


def eval_client(settings: Settings) -> EvalClient | None:
    """The client a probe worker runs evals with, or None without a credential or client."""
    if settings.model_api_key is None:
        return None
    binary = settings.claude_binary or (Path(found) if (found := shutil.which("claude")) else None)
    if binary is None or not binary.exists():
        return None
    return EvalClient(binary, settings.model_api_key, base_url=settings.model_base_url)

"""The live MCP probe as an activity of its own, served by probe workers only.

The probe starts untrusted code, so it runs on workers that hold nothing worth taking:
no database URL, no Slack token, only a connection to Temporal to poll the probe task
queue. They cannot read the registry, so the bundle travels in the activity input: it
is an MCP server bundle that has already passed the static bar (the secret scan
included), bounded by the bundle limits, and typically a few KiB (docs/security.md weighs
this against the claim-check rule).
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from activities.heartbeat import heartbeating
from activities.models import ProbeInput, ProbeOutput
from activities.probe_worker_inputs import stored_bundle, worker_policy
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import parse_asset

PROBE_ACTIVITY = "probe_mcp_server"


class ProbeActivities:
    """Runs the sandboxed probe; reads the policy file at every run for its limits."""

    def __init__(
        self, *, policy_path: Path | None, limits: BundleLimits, cache_dir: Path | None
    ) -> None:
        self._policy_path = policy_path
        self._limits = limits
        self._cache_dir = cache_dir

    @activity.defn(name=PROBE_ACTIVITY)
    def probe_mcp_server(self, request: ProbeInput) -> ProbeOutput:
        """Start the server in the sandbox, list its tools, compare them with its scope.

        Idempotent in effect: it writes nothing but the probe cache (installs keyed by
        exact version). Heartbeats throughout, so a probe worker that dies is noticed at
        the heartbeat timeout and the probe is retried on another one.

        Raises:
            ApplicationError: Non-retryable when the policy file is invalid or the archive
                is not the stored bundle; retrying would not change either.
        """
        with heartbeating():
            return self._probe(request)

    def _probe(self, request: ProbeInput) -> ProbeOutput:
        policy = worker_policy(self._policy_path)
        bundle = stored_bundle(
            request.archive,
            ref=request.ref,
            expected_hash=request.content_hash,
            limits=self._limits,
        )
        asset = parse_asset(bundle, request.ref.kind)
        # Imported here rather than injected: the MCP SDK takes most of a second to
        # load, and worker.py, which would build the collaborator, is imported by every
        # worker and test that never probes.
        from agent_registry.mcp_probe.local import probe_bundle_report

        report = probe_bundle_report(
            asset, policy.probe, baseline=request.baseline, cache_dir=self._cache_dir
        )
        return ProbeOutput(
            findings=report.findings,
            fingerprints=report.fingerprints,
            stderr_excerpt=report.stderr_excerpt,
        )

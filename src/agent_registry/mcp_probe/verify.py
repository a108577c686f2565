"""Probe one MCP asset end to end: resolve the launch, install, sandbox, run, compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.mcp_probe.compare import (
    compare_probe,
    install_failed_finding,
    not_probed_finding,
    sandbox_unavailable_finding,
)
from agent_registry.mcp_probe.fingerprint import ToolFingerprint, fingerprint_tools
from agent_registry.mcp_probe.launch import NotProbeable, resolve_launch
from agent_registry.mcp_probe.result import ProbeOutcome
from agent_registry.mcp_probe.run import probe
from agent_registry.mcp_probe.runtime import InstallError, ensure_runtime
from agent_registry.mcp_probe.sandbox import SandboxLimits, sandbox_problem
from agent_registry.vocabulary.findings import Finding


@dataclass(frozen=True)
class ProbeReport:
    """A probe's findings and fingerprints, and the server's masked stderr for reviewers.

    ``stderr_excerpt`` is kept apart from the findings on purpose: findings reach the
    submitter, while what an untrusted server printed is shown to reviewers only (it
    has passed the secret scanner's rules and is capped, but may still name its host).
    """

    findings: list[Finding]
    fingerprints: list[ToolFingerprint] = field(default_factory=list)
    stderr_excerpt: str = ""


async def probe_asset_report(
    asset: ParsedAsset,
    *,
    bundle_dir: Path,
    timeout: float,  # noqa: ASYNC109 - bounds the server, whose clean-up outlives it
    max_output_bytes: int,
    baseline: list[ToolFingerprint] | None,
    cache_dir: Path,
    limits: SandboxLimits | None = None,
    sandboxed: bool = True,
) -> ProbeReport:
    """Start the asset's server in the sandbox, check what it exposes, fingerprint its tools.

    Fails closed: where the sandbox cannot be created, nothing is started and the
    finding says so (blocking unless the policy lowers ``probe.sandbox-unavailable``).

    Args:
        asset: A parsed MCP server asset.
        bundle_dir: Where its bundle is unpacked; bound read-only as its working directory.
        timeout: Seconds the server gets to start and list its tools (installing its
            runtime into the cache comes before and is bounded on its own).
        max_output_bytes: Most bytes the server may write to stdout, and to stderr.
        baseline: Fingerprints stored from an earlier probe of the same content, to
            detect drift; None when there is none yet.
        cache_dir: The probe cache, where package installs and venvs are kept.
        limits: The sandbox's kernel limits; the defaults when None.
        sandboxed: False only to measure what the sandbox costs (the benchmark).

    Returns:
        The findings, the fingerprints of the exposed tools (empty unless the probe
        finished, so that a partial listing is never stored as a baseline), and the
        server's stderr, masked and capped (empty when no server was started).
    """
    launch = resolve_launch(asset)
    if isinstance(launch, NotProbeable):
        return ProbeReport([not_probed_finding(asset, launch)])
    if sandboxed:
        problem = await anyio.to_thread.run_sync(sandbox_problem)
        if problem is not None:
            return ProbeReport([sandbox_unavailable_finding(asset, launch, problem)])
    if launch.runtime is not None:
        try:
            runtime = await anyio.to_thread.run_sync(ensure_runtime, launch.runtime, cache_dir)
        except InstallError as error:
            return ProbeReport([install_failed_finding(asset, launch, str(error))])
        launch = launch.with_runtime(runtime.root, runtime.command, runtime.bin_dir)
    result = await probe(
        launch,
        bundle_dir=bundle_dir,
        timeout=timeout,
        max_output_bytes=max_output_bytes,
        limits=limits,
        sandboxed=sandboxed,
    )
    fingerprints = fingerprint_tools(result.tools) if result.outcome is ProbeOutcome.OK else []
    findings = compare_probe(asset, launch, result, fingerprints=fingerprints, baseline=baseline)
    return ProbeReport(findings, fingerprints, result.stderr_excerpt)
